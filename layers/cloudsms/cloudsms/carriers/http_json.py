"""The generic HTTP JSON adapter: for SMS hubs with an HTTP API of their own.

The operator describes the hub's API per channel (`HttpJsonConfig`): where to send, which
headers, a JSON body template with placeholders, where the answer names the message id,
and how the hub's delivery receipt (a JSON body posted to our receipt URL) reads.

Placeholders are `{name}` inside any string of the headers or the body template:

    uid tenant_id to to_digits sender text encoding coding segments receipt_url
    username password

`{username}` and `{password}` are filled from the channel's credentials in Secrets
Manager, so a token never has to be written into the (stored, readable) mapping. A string
that is nothing but `{segments}` or `{coding}` becomes a JSON number.
"""

import json
import re
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloudsms.carriers.base import Receipt, Submission, SubmitResult
from cloudsms.carriers.http import (
    OutcomeUnknown,
    not_accepted,
    request_failed,
    shown_answer,
    shown_url,
)
from cloudsms.carriers.receipts import receipt_from_smpp_text
from cloudsms.domain.states import FINAL, INTERMEDIATE, DrState
from cloudsms.domain.urls import url_problem
from cloudsms.errors import shown

PLACEHOLDERS = frozenset(
    {
        "uid",
        "tenant_id",
        "to",
        "to_digits",
        "sender",
        "text",
        "encoding",
        "coding",
        "segments",
        "receipt_url",
        "username",
        "password",
    }
)
_NUMERIC = frozenset({"segments", "coding"})
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
# SMPP data_coding: what most hub APIs call "coding" or "dcs".
_CODINGS = {"GSM-7": 0, "UCS-2": 8}
# What a receipt may report: a hub cannot tell us a message is QUEUED or LOCAL_REJECTED.
RECEIPT_STATES = frozenset(INTERMEDIATE | FINAL) - {DrState.SUBMIT_FAILED, DrState.LOCAL_REJECTED}
_MIN_TOKEN = 8
_MAX_REASON = 200


class ReceiptMapping(BaseModel):
    """Where the fields of the hub's receipt are. Paths are dotted: `data.0.status`."""

    model_config = ConfigDict(extra="forbid")

    id_field: str | None = Field(None, description="the hub's message id")
    uid_field: str | None = Field(None, description="our uid, if the hub echoes a reference")
    status_field: str | None = Field(None, description="the delivery status")
    status_map: dict[str, DrState] = Field(
        default_factory=dict, description="the hub's status value -> delivery state"
    )
    error_field: str | None = Field(None, description="the error code")
    text_field: str | None = Field(
        None, description="an SMPP receipt text (id:… stat:… err:…), read when no status is"
    )

    @field_validator("status_map")
    @classmethod
    def _receipt_states(cls, value: dict[str, DrState]) -> dict[str, DrState]:
        wrong = sorted({state.value for state in value.values()} - RECEIPT_STATES)
        if wrong:
            raise ValueError(f"a receipt cannot report {', '.join(wrong)}")
        return value

    @model_validator(mode="after")
    def _something_to_read(self) -> "ReceiptMapping":
        if not self.text_field and not (self.status_field and self.status_map):
            raise ValueError("give status_field with status_map, or text_field")
        return self


class HttpJsonConfig(BaseModel):
    """How to call the hub and how to read its answers."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, description="where to send; the channel's endpoint if absent")
    method: Literal["POST", "PUT"] = "POST"
    headers: dict[str, str] = Field(default_factory=dict)
    body: dict[str, Any] = Field(description="the JSON body, with {placeholders}")
    message_id_field: str = Field(description="path of the hub's message id in its answer")
    success_field: str | None = Field(None, description="path of a status in the answer")
    success_values: list[str] = Field(
        default_factory=list, description="values of success_field that mean accepted"
    )
    reason_field: str | None = Field(None, description="path of the refusal reason")
    receipt: ReceiptMapping

    @field_validator("url")
    @classmethod
    def _callable_url(cls, url: str | None) -> str | None:
        # Checked as it will be called, placeholders filled. Unlike an endpoint it may
        # carry credentials (user info, a query), as some hubs want them: shown_url hides
        # both wherever the URL is shown.
        if url is None:
            return None
        filled = _PLACEHOLDER.sub("x", url)
        if urlsplit(filled).scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        problem = url_problem(filled)
        if problem:
            raise ValueError(problem)
        return url

    @model_validator(mode="after")
    def _known_placeholders(self) -> "HttpJsonConfig":
        unknown = sorted(_placeholders_in([self.url or "", self.headers, self.body]) - PLACEHOLDERS)
        if unknown:
            raise ValueError(f"unknown placeholders: {', '.join(unknown)}")
        if self.success_field and not self.success_values:
            raise ValueError("success_field needs success_values")
        return self


class HttpJsonGateway:
    def __init__(
        self,
        endpoint: str,
        username: str,
        password: str,
        config: HttpJsonConfig,
        timeout: float = 5.0,
        session: requests.Session | None = None,
    ) -> None:
        self._config = config
        self._url_template = config.url or endpoint
        self._username = username
        self._password = password
        self._timeout = timeout
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"HttpJsonGateway({shown_url(self._url_template)!r})"

    def submit(self, submission: Submission) -> SubmitResult:
        values = self._values(submission)
        url = fill_url(self._url_template, values)
        headers = {name: str(fill(v, values)) for name, v in self._config.headers.items()}
        try:
            response = self._session.request(
                self._config.method,
                url,
                json=fill(self._config.body, values),
                headers=headers,
                timeout=self._timeout,
            )
        except requests.RequestException as error:
            return request_failed(error, "hub")
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not 200 <= response.status_code < 300:
            return not_accepted(
                response.status_code, self._reason(response, answer, headers, submission)
            )
        if self._config.success_field:
            status = field_at(answer, self._config.success_field)
            if status is None:
                # An answer without the field cannot say whether the hub took the message.
                return not_accepted(
                    response.status_code, self._reason(response, answer, headers, submission)
                )
            if str(status) not in self._config.success_values:
                return SubmitResult(
                    accepted=False, reason=self._reason(response, answer, headers, submission)
                )
        message_id = field_at(answer, self._config.message_id_field)
        if message_id is None or message_id == "":
            # Accepted by every sign but this one: the hub may well have the message.
            raise OutcomeUnknown(
                f"the hub's answer has no message id at {self._config.message_id_field}"
            )
        return SubmitResult(accepted=True, carrier_message_id=str(message_id))

    def _values(self, submission: Submission) -> dict[str, Any]:
        return {
            "uid": submission.uid,
            "tenant_id": submission.tenant_id,
            "to": submission.to,
            "to_digits": submission.to.lstrip("+"),
            "sender": submission.sender or "",
            "text": submission.text,
            "encoding": submission.encoding,
            "coding": _CODINGS.get(submission.encoding, 0),
            "segments": submission.segments,
            "receipt_url": submission.receipt_url,
            "username": self._username,
            "password": self._password,
        }

    def _reason(
        self,
        response: requests.Response,
        answer: Any,
        headers: dict[str, str],
        submission: Submission,
    ) -> str:
        reason = None
        if self._config.reason_field:
            reason = field_at(answer, self._config.reason_field)
        text = str(reason) if reason not in (None, "") else response.text.strip()
        # A hub may echo what it was sent, and a header may hold a token written into the
        # mapping itself rather than as {password}. Short values ("1", "json") are no
        # tokens, and hiding them would garble the reason.
        tokens = [value for value in headers.values() if len(value) >= _MIN_TOKEN]
        text = shown_answer(text, submission, self._password, *tokens)
        return text[:_MAX_REASON] or f"HTTP {response.status_code}"


def receipt_from_json(document: Any, mapping: ReceiptMapping, uid: str | None = None) -> Receipt:
    """A receipt from a hub's JSON callback, read through the channel's mapping.

    `uid` is ours from the receipt URL's query, when the hub called the URL we gave it.
    Raises ValueError when the status is missing or not in the mapping: reading it as
    UNKNOWN would make the message final on a word we do not understand.
    """
    carrier_id = _text_at(document, mapping.id_field)
    error_code = _text_at(document, mapping.error_field)
    status = _text_at(document, mapping.status_field)
    if status is not None:
        if status not in mapping.status_map:
            raise ValueError(f"status {shown(status)} is not in the channel's status map")
        state = mapping.status_map[status]
        done_at = None
    else:
        receipt_text = _text_at(document, mapping.text_field)
        if receipt_text is None:
            raise ValueError("the receipt has no status")
        parsed = receipt_from_smpp_text(receipt_text)
        state, done_at = parsed.state, parsed.done_at
        carrier_id = carrier_id or parsed.carrier_message_id
        error_code = error_code or parsed.error_code
    return Receipt(
        state=state,
        uid=uid or _text_at(document, mapping.uid_field),
        carrier_message_id=carrier_id,
        error_code=error_code,
        done_at=done_at,
        raw=_raw(document),
    )


def fill(template: Any, values: Mapping[str, Any]) -> Any:
    """`template` with every known `{placeholder}` in its strings replaced."""
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole and whole.group(1) in _NUMERIC:
            return values[whole.group(1)]
        return _PLACEHOLDER.sub(
            lambda m: str(values[m.group(1)]) if m.group(1) in values else m.group(0), template
        )
    if isinstance(template, dict):
        return {key: fill(value, values) for key, value in template.items()}
    if isinstance(template, list):
        return [fill(value, values) for value in template]
    return template


def fill_url(template: str, values: Mapping[str, Any]) -> str:
    """`template` with every known `{placeholder}` replaced by its value percent-encoded:
    a key's "+", "/" or "=", our receipt URL's "?" and "&", or a "#" would otherwise
    change what the hub reads, or cut the URL short."""
    return _PLACEHOLDER.sub(
        lambda m: quote(str(values[m.group(1)]), safe="") if m.group(1) in values else m.group(0),
        template,
    )


def field_at(document: Any, path: str | None) -> Any:
    """The value at a dotted path (`data.0.id`); None when any step is missing."""
    if not path:
        return None
    value = document
    for step in path.split("."):
        if isinstance(value, dict):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _text_at(document: Any, path: str | None) -> str | None:
    value = field_at(document, path)
    if value is None or isinstance(value, dict | list):
        return None
    # JSON true/false read as the hub wrote them, not as Python spells them
    return str(value).lower() if isinstance(value, bool) else str(value)


def _placeholders_in(template: Any) -> set[str]:
    if isinstance(template, str):
        return set(_PLACEHOLDER.findall(template))
    if isinstance(template, dict):
        return set().union(*(_placeholders_in(v) for v in template.values()))
    if isinstance(template, list):
        return set().union(*(_placeholders_in(v) for v in template))
    return set()


def _raw(document: Any) -> str:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"))[:2000]
