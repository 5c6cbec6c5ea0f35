"""Missions whose number list never came: Uploading → Failed once their upload URL has
expired, so that the tenant's list does not show them waiting for ever.

A mission created without a list is answered with a presigned URL valid for
`upload_url_seconds`, which S3 refuses after that. The hourly sweep fails the missions
still Uploading UPLOAD_GRACE later: the grace covers an upload begun just before the URL
expired and an S3 event delivered late. Mission ids sort by creation time, so each
tenant's query reads only the missions created in the LOOKBACK before that, a range each
run shares with the runs before it, so that a run missed is made up by the next.
"""

from datetime import datetime, timedelta

from pynamodb.exceptions import UpdateError

from cloudsms.clock import id_prefix
from cloudsms.domain.mission import MissionStatus
from cloudsms.observability import logger
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race
from cloudsms.store.missions import MissionModel
from cloudsms.store.tenants import TenantModel

UPLOAD_GRACE = timedelta(hours=1)
LOOKBACK = timedelta(hours=6)


def no_list_reason() -> str:
    minutes = get_settings().upload_url_seconds // 60
    return (
        f"no number list arrived while its upload URL was valid ({minutes} minutes);"
        " create the mission again"
    )


def fail_missions_without_list(now: datetime) -> int:
    """Fails every mission still Uploading UPLOAD_GRACE after its upload URL expired;
    returns how many it failed."""
    due_before = now - timedelta(seconds=get_settings().upload_url_seconds) - UPLOAD_GRACE
    created = MissionModel.mission_id.between(
        id_prefix(due_before - LOOKBACK), id_prefix(due_before)
    )
    failed = 0
    for tenant in TenantModel.scan(attributes_to_get=["tenant_id"]):
        waiting = MissionModel.query(
            tenant.tenant_id,
            created,
            filter_condition=MissionModel.status == MissionStatus.UPLOADING.value,
        )
        failed += sum(_fail(mission, now) for mission in waiting)
    if failed:
        logger.info("missions failed without a number list", extra={"missions": failed})
    return failed


def _fail(mission: MissionModel, now: datetime) -> bool:
    """Uploading → Failed, unless the list arrived (or a cancel came) meanwhile."""
    try:
        mission.update(
            actions=[
                MissionModel.status.set(MissionStatus.FAILED.value),
                MissionModel.failure_reason.set(no_list_reason()),
                MissionModel.updated_at.set(now),
            ],
            condition=MissionModel.status == MissionStatus.UPLOADING.value,
        )
    except UpdateError as error:
        if lost_a_race(error):
            return False
        raise
    return True
