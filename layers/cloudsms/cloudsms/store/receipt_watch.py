"""Receipt watches: the messages the receipt-timeout sweep must look at, by the UTC hour
they were submitted in.

The submit consumer writes one watch per batch, listing the messages it may claim,
before it claims any of them: a submitted message is always watched. The hourly sweep
reads an hour's watches once the hour is past the receipt timeout, each shard on its own
thread, and deletes each watch when every message it lists is settled. One item per
batch of up to a hundred messages costs a fraction of an index entry per message.
A batch goes to one channel, which its watch names: the sweep also reads the watches of
an hour a couple of hours back, to find channels whose receipts stopped
(services/receipt_silence.py).
"""

import hashlib
import zlib
from collections.abc import Collection
from datetime import UTC, datetime

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UnicodeSetAttribute
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import table_meta

# An hour's watches are spread over this many partitions, so that a large mission
# submitted within one hour does not write to one hot partition.
WATCH_SHARDS = 8
# A watch outlives the last sweep that would read it by this long, then TTL removes it.
_KEPT_AFTER_LAST_SWEEP_SECONDS = 3 * 86400


class ReceiptWatchModel(Model):
    Meta = table_meta(get_settings().receipt_watch_table)

    watch_hour = UnicodeAttribute(hash_key=True)  # watch_hour_key()
    watch_id = UnicodeAttribute(range_key=True)  # watch_id_of(): the same batch, the same id
    tenant_id = UnicodeAttribute()
    # The route the batch is handed to; absent on watches written before it was kept.
    channel = UnicodeAttribute(null=True)
    uids = UnicodeSetAttribute()
    expires_at = NumberAttribute()


def watch_id_of(tenant_id: str, uids: Collection[str]) -> str:
    """The same for the same messages, so a redelivered batch rewrites its own watch."""
    digest = hashlib.sha256("\n".join(sorted(uids)).encode()).hexdigest()[:32]
    return f"{tenant_id}#{digest}"


def watch_hour_key(moment: datetime, watch_id: str) -> str:
    """The partition of a watch written at `moment`: its UTC hour and a shard chosen by
    its id."""
    return watch_shard_key(moment, zlib.crc32(watch_id.encode()) % WATCH_SHARDS)


def watch_shard_key(hour: datetime, shard: int) -> str:
    """The partition of one shard (0 to WATCH_SHARDS - 1) of a UTC hour."""
    return f"{hour_of(hour)}#{shard}"


def hour_of(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H")


def watch(tenant_id: str, route_id: str, uids: Collection[str], now: datetime) -> None:
    """Writes the watch of a batch about to be submitted (again, when redelivered)."""
    settings = get_settings()
    last_sweep_hours = settings.receipt_timeout_hours + settings.receipt_sweep_lookback_hours
    watch_id = watch_id_of(tenant_id, uids)
    ReceiptWatchModel(
        watch_hour=watch_hour_key(now, watch_id),
        watch_id=watch_id,
        tenant_id=tenant_id,
        channel=route_id,
        uids=set(uids),
        expires_at=int(now.timestamp()) + last_sweep_hours * 3600 + _KEPT_AFTER_LAST_SWEEP_SECONDS,
    ).save()
