"""Business channels: the operator's carrier routes and how to reach their gateways."""

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, PutError

from cloudsms.adapters.secrets import get_secret, put_secret
from cloudsms.cache import ttl_cache
from cloudsms.errors import BadRequest, Conflict, NotFound
from cloudsms.ids import new_secret
from cloudsms.settings import get_settings
from cloudsms.store.channels import ChannelModel

GATEWAY_TYPES = ("simulator", "kannel")


@dataclass(frozen=True)
class Channel:
    route_id: str
    gateway_type: str
    endpoint: str
    username: str
    password: str
    receipt_secret: str
    default_sender: str | None
    throughput: int


def add_channel(
    route_id: str,
    gateway_type: str,
    endpoint: str,
    username: str,
    password: str,
    default_sender: str | None = None,
    throughput: int = 0,
) -> ChannelModel:
    if gateway_type not in GATEWAY_TYPES:
        raise BadRequest(f"gateway type must be one of {', '.join(GATEWAY_TYPES)}")
    secret_name = get_settings().channel_secret_prefix + route_id
    model = ChannelModel(
        route_id=route_id,
        gateway_type=gateway_type,
        endpoint=endpoint.rstrip("/"),
        secret_name=secret_name,
        default_sender=default_sender,
        throughput=throughput,
    )
    try:
        model.save(condition=ChannelModel.route_id.does_not_exist())
    except PutError as exc:
        raise Conflict(f"channel {route_id} already exists") from exc
    # The receipt secret authenticates the gateway's receipts: it travels in the dlr-url.
    put_secret(
        secret_name,
        {"username": username, "password": password, "receipt_secret": new_secret()},
    )
    return model


# A warm function picks up a changed channel within a minute.
@ttl_cache(60)
def _channel_item(route_id: str) -> ChannelModel:
    try:
        return ChannelModel.get(route_id)
    except DoesNotExist as exc:
        raise NotFound(f"channel {route_id} does not exist") from exc


def get_channel(route_id: str) -> Channel:
    """The channel with its credentials (secrets are cached by the secrets adapter)."""
    item = _channel_item(route_id)
    secret = get_secret(item.secret_name)
    return Channel(
        route_id=item.route_id,
        gateway_type=item.gateway_type,
        endpoint=item.endpoint,
        username=secret["username"],
        password=secret["password"],
        receipt_secret=secret["receipt_secret"],
        default_sender=item.default_sender,
        throughput=int(item.throughput),
    )
