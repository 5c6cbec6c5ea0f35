"""Recording delivery receipts: authenticate, find the message, move it forward."""

import hmac
from collections.abc import Mapping
from datetime import datetime

from pynamodb.exceptions import DoesNotExist

from cloudsms.carriers.base import Receipt
from cloudsms.carriers.receipts import receipt_from_kannel
from cloudsms.domain.states import FAILED, DrState, can_move, is_final, states_below
from cloudsms.errors import BadRequest, Unauthorized
from cloudsms.observability import logger, metrics
from cloudsms.services import transitions
from cloudsms.services.channels import Channel, get_channel
from cloudsms.store.messages import MessageModel


def record_receipt(route_id: str, params: Mapping[str, str], now: datetime) -> str:
    """Applies one receipt; returns what happened: "moved", "ignored" or "unmatched"."""
    channel = get_channel(route_id)
    _authenticate(channel, params.get("secret"))
    receipt = _parse(channel, params)
    message = _find(params.get("tenant"), receipt)
    if message is None:
        logger.warning("receipt for an unknown message", extra={"route": route_id})
        return "unmatched"
    if not can_move(DrState(message.dr_state), receipt.state):
        logger.info(
            "receipt does not move the message",
            extra={"uid": message.uid, "current": message.dr_state, "receipt": receipt.state},
        )
        return "ignored"
    moved = _apply(message, receipt, now)
    return "moved" if moved else "ignored"


def _authenticate(channel: Channel, secret: str | None) -> None:
    if not secret or not hmac.compare_digest(secret, channel.receipt_secret):
        raise Unauthorized("the receipt secret is missing or wrong")


def _parse(channel: Channel, params: Mapping[str, str]) -> Receipt:
    try:
        # The simulator and Kannel share the dlr-url dialect.
        return receipt_from_kannel(params)
    except ValueError as error:
        raise BadRequest(f"unreadable receipt: {error}") from error


def _find(tenant_id: str | None, receipt: Receipt) -> MessageModel | None:
    if tenant_id and receipt.uid:
        try:
            return MessageModel.get(tenant_id, receipt.uid)
        except DoesNotExist:
            return None
    return None


def _counter_amounts(state: DrState) -> dict[str, int]:
    if state == DrState.DELIVRD:
        return {"delivered": 1}
    if state in FAILED:
        return {"failed": 1}
    if state == DrState.UNKNOWN:
        return {"no_notification": 1}
    return {}


def _apply(message: MessageModel, receipt: Receipt, now: datetime) -> bool:
    actions = [
        MessageModel.dr_state.set(receipt.state.value),
        MessageModel.receipt_at.set(now),
    ]
    if receipt.error_code:
        actions.append(MessageModel.error_code.set(receipt.error_code))
    # The condition is on where the message may come from, not on what we read, so
    # a concurrent forward move only loses when it already went at least as far.
    condition = MessageModel.dr_state.is_in(*[s.value for s in states_below(receipt.state)])
    moved = transitions.write(message, actions, condition, **_counter_amounts(receipt.state))
    if moved and is_final(receipt.state):
        metrics.add_metric(name=f"Messages{receipt.state.value}", unit="Count", value=1)
    return moved
