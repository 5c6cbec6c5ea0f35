"""Channel token buckets: one item per channel, shared by every submit consumer.

A bucket is kept as the moment it will be full again (`full_at`, microseconds since the
epoch): taking n tokens pushes that moment n token-intervals later. Both ways of taking
are single conditional updates, evaluated atomically by DynamoDB, so two consumers can
never both spend the same tokens.
"""

from pynamodb.attributes import NumberAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError
from pynamodb.models import Model

from cloudsms.settings import get_settings
from cloudsms.store.base import lost_a_race, table_meta


class ThroughputModel(Model):
    Meta = table_meta(get_settings().throughput_table)

    route_id = UnicodeAttribute(hash_key=True)
    full_at = NumberAttribute()


class DynamoBucketStore:
    """The bucket items in DynamoDB; see `services.throughput.BucketStore`."""

    def refill(self, route_id: str, now: int, full_at: int) -> bool:
        """Takes from a full bucket: sets `full_at` if the bucket is full at `now`."""
        try:
            ThroughputModel(route_id).update(
                actions=[ThroughputModel.full_at.set(full_at)],
                condition=ThroughputModel.full_at.does_not_exist()
                | (ThroughputModel.full_at <= now),
            )
        except UpdateError as error:
            if lost_a_race(error):
                return False
            raise
        return True

    def take(self, route_id: str, now: int, cost: int, limit: int) -> int | None:
        """Takes from a part-full bucket: adds `cost` to `full_at` if it lies after `now`
        and at most at `limit`. Returns the new `full_at`, or None when it did not."""
        item = ThroughputModel(route_id)
        try:
            item.update(
                actions=[ThroughputModel.full_at.set(ThroughputModel.full_at + cost)],
                condition=(ThroughputModel.full_at > now) & (ThroughputModel.full_at <= limit),
            )
        except UpdateError as error:
            if lost_a_race(error):
                return None
            raise
        return int(item.full_at)

    def read(self, route_id: str) -> int | None:
        try:
            return int(ThroughputModel.get(route_id, consistent_read=True).full_at)
        except DoesNotExist:
            return None
