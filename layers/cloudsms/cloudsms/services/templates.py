"""SMS templates: reusable mission contents with their variables.

A tenant has its own; the operator keeps common ones (the guide's "Default Template"),
which every tenant can read and use but not change.
"""

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pynamodb.exceptions import DoesNotExist, PutError, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action

from cloudsms.answers import CountedPage
from cloudsms.domain import content
from cloudsms.domain.sms_type import SmsType
from cloudsms.errors import BadRequest, Conflict, NotFound, cut
from cloudsms.ids import new_time_ordered_id
from cloudsms.services.pages import counted, decode_last_key, first_page, one_page
from cloudsms.store.base import lost_a_race, transaction
from cloudsms.store.templates import NAMES_SUFFIX, TemplateModel, TemplateNameModel, names_of
from cloudsms.validation import one_line_name

# The owner of the operator's common templates, where a tenant id would be.
COMMON = "#common"


def _valid_content(value: str | None) -> str | None:
    reason = content.validate_content(value) if value is not None else None
    if reason:
        raise ValueError(reason)
    return value


class TemplateFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=60)
    content: str = Field(min_length=1, max_length=content.CONTENT_MAX)
    sms_type: SmsType

    _name = field_validator("name", mode="before")(one_line_name("template name"))
    _content = field_validator("content")(_valid_content)


class TemplateChanges(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, min_length=1, max_length=60)
    content: str | None = Field(None, min_length=1, max_length=content.CONTENT_MAX)
    sms_type: SmsType | None = None

    _name = field_validator("name", mode="before")(one_line_name("template name"))
    _content = field_validator("content")(_valid_content)


class Template(BaseModel):
    """An SMS template: what creating, reading or changing one answers."""

    template_id: str
    name: str
    content: str = Field(description="With ${Var} variables")
    variables: list[str] = Field(description="The content's variables, in order")
    sms_type: SmsType
    common: bool = Field(description="The operator's common template, not the tenant's")
    created_at: datetime
    updated_at: datetime


class TemplatePage(CountedPage[Template]):
    """GET /v1/templates (and /v1/templates/common): newest first."""


def template_view(item: TemplateModel) -> dict[str, Any]:
    return {
        "template_id": item.template_id,
        "name": item.name,
        "content": item.content,
        "variables": content.variables(item.content),
        "sms_type": item.sms_type,
        "common": item.tenant_id == COMMON,
        "created_at": item.created_at.isoformat(),
        "updated_at": item.updated_at.isoformat(),
    }


def _name_key(name: str) -> str:
    # "Pin code" and "pin code" look like one template in a list.
    return name.casefold()


def _name_item(owner: str, name: str, template_id: str) -> TemplateNameModel:
    return TemplateNameModel(names_of(owner), _name_key(name), holder=template_id)


def _name_item_of(owner: str, name: str) -> TemplateNameModel | None:
    try:
        return TemplateNameModel.get(names_of(owner), _name_key(name), consistent_read=True)
    except DoesNotExist:
        return None


def _held_name(owner: str, item: TemplateModel) -> TemplateNameModel | None:
    """The name item the template holds; None for a template saved before templates
    took their names (another may hold the name then)."""
    held = _name_item_of(owner, item.name)
    return held if held is not None and held.holder == item.template_id else None


def _name_taken(owner: str, name: str) -> Conflict:
    kind = "common template" if owner == COMMON else "template"
    return Conflict(f"a {kind} named '{name}' already exists: choose another name")


def _changed_meanwhile(template_id: str) -> Conflict:
    return Conflict(f"template {template_id} was changed or deleted meanwhile: try again")


def create_template(tenant_id: str, fields: TemplateFields) -> dict[str, Any]:
    item = TemplateModel(
        tenant_id=tenant_id,
        template_id=new_time_ordered_id(),
        name=fields.name,
        content=fields.content,
        sms_type=fields.sms_type.value,
    )
    try:
        with transaction() as write:
            write.save(
                _name_item(tenant_id, fields.name, item.template_id),
                condition=TemplateNameModel.template_id.does_not_exist(),
            )
            write.save(item)
    except TransactWriteError as error:
        # Only the name's write has a condition: another template has the name, or is
        # taking it at this moment.
        if lost_a_race(error):
            raise _name_taken(tenant_id, fields.name) from error
        raise
    return template_view(item)


def _owned(owner: str, template_id: str) -> TemplateModel:
    # Read as it is now: its name decides which name item a change or delete gives up.
    try:
        return TemplateModel.get(owner, template_id, consistent_read=True)
    except DoesNotExist as error:
        raise NotFound(f"template {cut(template_id)} not found") from error


def get_template(tenant_id: str, template_id: str) -> TemplateModel:
    """A template the tenant may use: its own, else a common one."""
    try:
        return TemplateModel.get(tenant_id, template_id)
    except DoesNotExist:
        return _owned(COMMON, template_id)


def number_list_variables(tenant_id: str, text: str | None, template_id: str | None) -> list[str]:
    """The variables a number list needs columns for: a saved template's, or a
    content's, checked as a mission's is (a content a mission would refuse must not get
    a file as if it were fine)."""
    if bool(text) == bool(template_id):
        raise BadRequest("give either content or template_id")
    if template_id:
        return content.variables(get_template(tenant_id, template_id).content)
    reason = content.validate_content(text or "")
    if reason:
        raise BadRequest(reason)
    return content.variables(text or "")


def update_template(owner: str, template_id: str, changes: TemplateChanges) -> dict[str, Any]:
    """Changes a template of the owner's (a tenant's, or COMMON for the operator)."""
    item = _owned(owner, template_id)
    actions: list[Action] = [TemplateModel.updated_at.set(datetime.now(UTC))]
    for name, value in changes.model_dump(exclude_none=True, mode="json").items():
        actions.append(getattr(TemplateModel, name).set(value))
    if changes.name is None or _name_key(changes.name) == _name_key(item.name):
        # Only the template as it was read: a delete meanwhile must not leave a partial
        # item behind, nor a rename meanwhile be undone past its name item.
        condition = TemplateModel.template_id.exists()
        if changes.name is not None:
            condition &= TemplateModel.name == item.name
        try:
            item.update(actions=actions, condition=condition)
        except UpdateError as error:
            if not lost_a_race(error):
                raise
            _owned(owner, template_id)  # NotFound when it is gone
            raise _changed_meanwhile(template_id) from error
        return template_view(item)
    # A new name: the template takes it and gives up the old one, all at once.
    held = _held_name(owner, item)
    try:
        with transaction() as write:
            write.save(
                _name_item(owner, changes.name, template_id),
                condition=TemplateNameModel.template_id.does_not_exist(),
            )
            write.update(item, actions, condition=TemplateModel.template_id.exists())
            if held is not None:
                write.delete(held, condition=TemplateNameModel.holder == template_id)
    except TransactWriteError as error:
        if not lost_a_race(error):
            raise
        if _name_item_of(owner, changes.name) is not None:
            raise _name_taken(owner, changes.name) from error
        raise _changed_meanwhile(template_id) from error
    item.refresh(consistent_read=True)
    return template_view(item)


def delete_template(owner: str, template_id: str) -> None:
    item = _owned(owner, template_id)
    held = _held_name(owner, item)
    try:
        with transaction() as write:
            write.delete(item)
            if held is not None:
                write.delete(held, condition=TemplateNameModel.holder == template_id)
    except TransactWriteError as error:
        if lost_a_race(error):
            raise _changed_meanwhile(template_id) from error
        raise


def record_names() -> dict[str, Any]:
    """Gives every template saved before templates took their names its name item, so
    that no new template can take the name (the console's `template-names-record`, once
    after upgrading). A name two old templates share stays with the first recorded;
    the others are listed, to be renamed."""
    recorded, shared = 0, []
    for item in TemplateModel.scan():
        if item.tenant_id.endswith(NAMES_SUFFIX):
            continue  # a name item itself
        try:
            _name_item(item.tenant_id, item.name, item.template_id).save(
                condition=TemplateNameModel.template_id.does_not_exist()
            )
            recorded += 1
        except PutError as error:
            if not lost_a_race(error):
                raise
            held = _name_item_of(item.tenant_id, item.name)
            if held is not None and held.holder != item.template_id:
                shared.append({"owner": item.tenant_id, "template_id": item.template_id})
    return {"recorded": recorded, "names_shared": shared}


def list_templates(tenant_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    start = decode_last_key(cursor, ("tenant_id", tenant_id), ("template_id",))
    result = TemplateModel.query(
        tenant_id, limit=limit + 1, scan_index_forward=False, last_evaluated_key=start
    )
    found, next_cursor = one_page(result, limit, ("tenant_id", "template_id"))
    page = {"items": [template_view(item) for item in found], "next_cursor": next_cursor}
    keys = ["tenant_id", "template_id"]
    return first_page(
        page, cursor, lambda: counted(TemplateModel.query(tenant_id, attributes_to_get=keys))
    )
