"""Objects arriving in the upload bucket.

- `uploads/{tenant}/{mission id}/number-list`: the list of a mission created without one
  (through its presigned URL). The mission is staged and started.
- `uploads/{tenant}/{name}.json`: an operator's manifest, `{"mission": {...fields...},
  "number_list": "<file name in the same folder>"}`. It creates and starts a mission
  from the list it names; the outcome is written next to it as `{name}.result.json`.
Anything else (a list a manifest will name, a result file) is left alone.
"""

import hashlib
import json
import re
from datetime import datetime
from typing import Any
from urllib.parse import unquote_plus

from cloudsms.adapters import storage
from cloudsms.clock import Clock
from cloudsms.domain.mission import MissionFields
from cloudsms.errors import CloudSmsError, Conflict, NotFound
from cloudsms.observability import logger
from cloudsms.services import missions
from cloudsms.services.tenants import get_tenant
from cloudsms.settings import get_settings
from cloudsms.validation import loads_json, validated

_MISSION_LIST = re.compile(r"^uploads/(?P<tenant>[^/]+)/(?P<mission>[0-9A-F]{18})/number-list$")
_MANIFEST = re.compile(r"^uploads/(?P<tenant>[^/]+)/(?P<name>[^/]+)\.json$")
RESULT_SUFFIX = ".result.json"


def event_objects(event: dict[str, Any]) -> list[tuple[str, str]]:
    """The (bucket, key) of each object an S3 event names. S3 URL-encodes the key in its
    events (a space arrives as "+")."""
    return [
        (record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
        for record in event.get("Records", [])
    ]


def ingest_event(event: dict[str, Any], clock: Clock) -> list[str]:
    """Each object an S3 event names, ingested; what became of each."""
    return [ingest_object(bucket, key, clock) for bucket, key in event_objects(event)]


def ingest_object(bucket: str, key: str, clock: Clock) -> str:
    now = clock()
    if bucket != get_settings().upload_bucket:
        logger.warning("object from an unexpected bucket", extra={"bucket": bucket})
        return "ignored"
    if found := _MISSION_LIST.match(key):
        missions.ingest_upload(found["tenant"], found["mission"], clock)
        return "mission list"
    if key.endswith(RESULT_SUFFIX):
        return "ignored"
    if found := _MANIFEST.match(key):
        outcome = _run_manifest(found["tenant"], key, now)
        result_key = key[: -len(".json")] + RESULT_SUFFIX
        storage.put_bytes(result_key, json.dumps(outcome, indent=2).encode(), "application/json")
        return "manifest"
    return "ignored"


def _manifest_mission_id(key: str) -> str:
    """The id of the mission one upload of a manifest creates: its time (so it sorts as
    every mission id does) and a digest of its key and ETag. Delivered again, the same
    upload names the same mission; uploaded again, it makes a new one."""
    written, etag = storage.version_of(key)
    digest = hashlib.sha256(f"{key}\n{etag}".encode()).hexdigest()[:6].upper()
    return f"{int(written.timestamp() * 1000):012X}{digest}"


def _run_manifest(tenant_id: str, key: str, now: datetime) -> dict[str, Any]:
    try:
        manifest = loads_json(storage.get_bytes(key))
        list_name = manifest["number_list"]
        if "/" in list_name:
            raise ValueError("number_list names a file in the manifest's own folder")
        fields = validated(MissionFields, manifest["mission"])
        tenant = get_tenant(tenant_id)
        list_key = f"uploads/{tenant_id}/{list_name}"
        if not storage.exists(list_key):
            return {"accepted": False, "reason": f"the number list {list_key} is not there"}
        mission_id = _manifest_mission_id(key)
        try:
            # S3 may deliver an object's event twice, and a failed invocation is retried.
            return {"accepted": True, "mission": missions.read_mission(tenant_id, mission_id)}
        except NotFound:
            pass
        max_bytes = get_settings().number_list_max_bytes
        try:
            data = storage.get_bytes(list_key, max_bytes)
        except storage.TooLarge as too_large:
            reason = f"is larger than {max_bytes:,} bytes: it has {too_large.size:,}"
            return {"accepted": False, "reason": f"the number list {list_key} {reason}"}
        mission = missions.create_mission(tenant, fields, data, now, mission_id)
    except Conflict:
        # The same upload's other delivery created it meanwhile.
        created = missions.read_mission(tenant_id, mission_id, consistent=True)
        return {"accepted": True, "mission": created}
    except CloudSmsError as error:
        return {"accepted": False, "reason": error.message, "details": error.details}
    except (KeyError, ValueError, TypeError) as error:
        return {"accepted": False, "reason": f"the manifest cannot be read: {error}"}
    except Exception as error:  # noqa: BLE001 - the outcome file is the only way to report
        logger.exception("manifest failed")
        return {"accepted": False, "reason": f"{type(error).__name__}: {error}"}
    return {"accepted": True, "mission": mission}
