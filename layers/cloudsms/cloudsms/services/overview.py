"""The portal's SMS Overview: what a tenant needs to call the API, and today's sending."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from cloudsms.services.counters import local_day
from cloudsms.services.scheduling import sending_window
from cloudsms.services.statistics import DayStatistics, daily_statistics
from cloudsms.services.tenants import Principal, countries_view, list_keys
from cloudsms.store.tenants import TenantModel


class KeyInUse(BaseModel):
    key_id: str
    role: str = Field(description="tenant, operator, or a portal session's")


class Overview(BaseModel):
    """GET /v1/overview"""

    tenant_id: str
    name: str
    time_zone: str
    sending_window: str = Field(description="HH:MM-HH:MM in the tenant's time zone")
    key: KeyInUse = Field(description="The key (or session) making this call")
    api_key_ids: list[str] = Field(description="The tenant's API keys in force, by id")
    route_ids: list[str] = Field(description="Channels the tenant may send on")
    sender_ids: list[str] = Field(
        description="The sender ids (OA) registered for the tenant; empty: any"
    )
    countries: list[str] | None = Field(
        description="The countries (ISO 3166-1 alpha-2) the operator lets the tenant send "
        "to; null: every country"
    )
    today: DayStatistics = Field(description="Today, in the tenant's time zone")


def overview(tenant: TenantModel, principal: Principal, now: datetime) -> dict[str, Any]:
    """The tenant, the key in use (its id only: a key is never shown back), the route ids
    its packages grant, and today's delivery statistics in its time zone."""
    today = local_day(now, tenant.time_zone)
    window = sending_window(tenant)
    return {
        "tenant_id": tenant.tenant_id,
        "name": tenant.name,
        "time_zone": tenant.time_zone,
        "sending_window": f"{window[0]:%H:%M}-{window[1]:%H:%M}",
        "key": {"key_id": principal.key_id, "role": principal.role},
        # The tenant's API keys by id, for a portal session: it is not itself an API key.
        # Not an operator key the tenant may hold: that is the operator's, not its app's.
        "api_key_ids": [
            k.key_id
            for k in list_keys(tenant.tenant_id)
            if k.revoked_at is None and k.role == "tenant"
        ],
        "route_ids": sorted(tenant.channels or set()),
        "sender_ids": sorted(tenant.sender_ids or set()),
        "countries": countries_view(tenant),
        "today": daily_statistics(tenant.tenant_id, tenant.time_zone, now, today, today)[0],
    }
