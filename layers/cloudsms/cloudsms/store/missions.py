"""Missions: bulk dispatches from a number list, as the portal's Bulk Dispatching Tool."""

from datetime import datetime

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from cloudsms.domain.mission import MissionStatus
from cloudsms.errors import NotFound, cut
from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, table_meta, utcnow


class MissionsByStatus(GlobalSecondaryIndex["MissionModel"]):
    """A tenant's missions in one status: the Scheduled ones a mission's check counts
    (services/orders.py), without reading the tenant's whole history of Sent ones.
    Eventually consistent, as every global index is."""

    class Meta:
        index_name = "by-status"
        # What the check reads; the table's keys (mission_id) come with every index.
        projection = IncludeProjection(["channel", "dispatch_at", "segments"])

    tenant_id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(range_key=True)


class MissionModel(Model):
    Meta = table_meta(get_settings().missions_table)

    tenant_id = UnicodeAttribute(hash_key=True)
    # Time-ordered, so a tenant's missions list newest first straight from the key.
    mission_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    # The name case-folded, for the name filter: DynamoDB's contains() is case-sensitive,
    # and "sale" should find "Spring Sale". Missions saved before it was kept have none.
    name_folded = UnicodeAttribute(null=True)
    direction = UnicodeAttribute()
    sms_type = UnicodeAttribute()
    content = UnicodeAttribute()
    variables = ListAttribute(of=UnicodeAttribute, default=list)
    template_id = UnicodeAttribute(null=True)
    sender = UnicodeAttribute(null=True)
    signature = UnicodeAttribute(null=True)
    signature_position = UnicodeAttribute(default="start")
    allow_unsubscribe = BooleanAttribute(default=False)
    channel = UnicodeAttribute()
    # The prepaid order its SMS were taken from when it was dispatched, if any: the first
    # of them when several paid (`order_runs`).
    order_number = UnicodeAttribute(null=True)
    # Which order pays each staged recipient, in their order: [[order_number, count], …]
    # (null: post-paid), written with the dispatch's claim. Missions claimed before it
    # was kept have none: their `order_number` pays them all.
    order_runs = JSONAttribute(null=True)
    status = UnicodeAttribute()
    by_status = MissionsByStatus()
    failure_reason = UnicodeAttribute(null=True)
    dispatch_at = UTCDateTimeAttribute(null=True)
    # Hold each marketing message until the sending window opens where its recipient is.
    recipient_quiet_hours = BooleanAttribute(default=False)
    dispatching_date = UTCDateTimeAttribute(null=True)
    # The latest time a message of it went out more than a day after its dispatch (a
    # paused channel held it, a slow channel's long list, a redrive): the dispatching
    # log looks for a mission's messages by its dispatch time, and by this beyond a day.
    sending_until = UTCDateTimeAttribute(null=True)
    phone_number_amount = NumberAttribute(default=0)
    failure_amount = NumberAttribute(default=0)
    blacklist_amount = NumberAttribute(default=0)
    # Numbers blacklisted between staging and dispatch: set (not added) by the dispatch,
    # so a dispatch that runs again does not count them twice.
    blacklisted_at_dispatch = NumberAttribute(default=0)
    # Their segments, which went back to the prepaid order: set the same way.
    blacklisted_segments_at_dispatch = NumberAttribute(default=0)
    segments = NumberAttribute(default=0)
    upload_key = UnicodeAttribute(null=True)
    staged_prefix = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute(default=utcnow)
    updated_at = UTCDateTimeAttribute(default=utcnow)
    version = VersionAttribute()


def name_matches(text: str) -> Condition:
    """Missions whose name contains `text` in any case (the plain name as well, for
    missions saved without a folded one)."""
    return MissionModel.name_folded.contains(text.casefold()) | MissionModel.name.contains(text)


def reloaded(mission: MissionModel) -> MissionModel:
    """The mission as last written: a read after a write must see that write."""
    return MissionModel.get(mission.tenant_id, mission.mission_id, consistent_read=True)


def get_mission(tenant_id: str, mission_id: str, consistent: bool = False) -> MissionModel:
    """The mission; `consistent` after writing it: an eventually consistent read may not
    see a write made a moment ago, not even the mission's creation."""
    try:
        return MissionModel.get(tenant_id, mission_id, consistent_read=consistent)
    except DoesNotExist as error:
        raise NotFound(f"mission {cut(mission_id)} not found") from error


def fail_while(
    mission: MissionModel, condition: Condition, reason: str, now: datetime, *more: Action
) -> bool:
    """Fails the mission with the reason if `condition` still holds; False if it moved."""
    try:
        mission.update(
            actions=[
                MissionModel.status.set(MissionStatus.FAILED.value),
                MissionModel.failure_reason.set(reason),
                MissionModel.updated_at.set(now),
                *more,
            ],
            condition=condition,
        )
    except UpdateError as error:
        if not lost_a_race(error):
            raise
        return False
    return True
