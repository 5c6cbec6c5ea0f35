"""Every PynamoDB model in cloudsms.store matches its table in template.yaml, and every
table in the template has a model: the code and the deployed tables cannot drift."""

import importlib
import inspect
import os
import pkgutil
from typing import Any

import pytest
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

import cloudsms.store
from cloudsms_local.template import load_template

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
GLOBAL_ENVIRONMENT = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
TABLES = {
    logical: resource["Properties"]
    for logical, resource in RESOURCES.items()
    if resource["Type"] == "AWS::DynamoDB::Table"
}
# Powertools' idempotency layer owns this table's items; CloudSMS has no model for it.
TABLES_WITHOUT_MODEL = {"IdempotencyTable"}


def _store_models() -> list[type[Model]]:
    models = []
    for info in pkgutil.iter_modules(cloudsms.store.__path__, "cloudsms.store."):
        module = importlib.import_module(info.name)
        models += [
            member
            for _, member in inspect.getmembers(module, inspect.isclass)
            if issubclass(member, Model)
            and member is not Model
            and member.__module__ == module.__name__
        ]
    return models


MODELS = _store_models()


def _table_of(model: type[Model]) -> str:
    """The template table whose environment variable carries the model's table name."""
    tables = [
        value["Ref"]
        for variable, value in GLOBAL_ENVIRONMENT.items()
        if isinstance(value, dict)
        and value.get("Ref") in TABLES
        and os.environ.get(variable) == model.Meta.table_name
    ]
    assert len(tables) == 1, f"{model.__name__}: no single table env var names {tables}"
    return tables[0]


def _types(props: dict[str, Any]) -> dict[str, str]:
    return {d["AttributeName"]: d["AttributeType"] for d in props["AttributeDefinitions"]}


def _template_keys(key_schema: list[dict[str, str]], types: dict[str, str]) -> dict[str, tuple]:
    return {k["KeyType"]: (k["AttributeName"], types[k["AttributeName"]]) for k in key_schema}


def _model_keys(attributes: dict[str, Any]) -> dict[str, tuple]:
    keys = {}
    for attribute in attributes.values():
        if attribute.is_hash_key:
            keys["HASH"] = (attribute.attr_name, attribute.attr_type)
        if attribute.is_range_key:
            keys["RANGE"] = (attribute.attr_name, attribute.attr_type)
    return keys


def _model_indexes(model: type[Model]) -> dict[str, dict[str, Any]]:
    indexes = {}
    for _, index in inspect.getmembers(model, lambda m: isinstance(m, GlobalSecondaryIndex)):
        projection = index.Meta.projection
        indexes[index.Meta.index_name] = {
            "keys": _model_keys(index.Meta.attributes),
            "projection": projection.projection_type,
            "non_key_attributes": sorted(getattr(projection, "non_key_attributes", None) or []),
        }
    return indexes


def _template_indexes(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    types = _types(props)
    return {
        index["IndexName"]: {
            "keys": _template_keys(index["KeySchema"], types),
            "projection": index["Projection"]["ProjectionType"],
            "non_key_attributes": sorted(index["Projection"].get("NonKeyAttributes", [])),
        }
        for index in props.get("GlobalSecondaryIndexes", [])
    }


def test_the_store_has_a_model_for_each_kind_of_stored_thing():
    assert {m.__name__ for m in MODELS} >= {
        "TenantModel",
        "ApiKeyModel",
        "MessageModel",
        "CounterModel",
        "ChannelModel",
        "ReceiptWatchModel",
    }


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_models_table_name_comes_from_the_env_var_of_exactly_one_template_table(model):
    assert _table_of(model) in TABLES


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_models_keys_are_its_tables_keys_with_the_same_types(model):
    props = TABLES[_table_of(model)]

    assert _model_keys(model.get_attributes()) == _template_keys(props["KeySchema"], _types(props))


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_a_models_indexes_are_its_tables_indexes(model):
    props = TABLES[_table_of(model)]

    assert _model_indexes(model) == _template_indexes(props)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_every_attribute_the_template_defines_is_a_model_attribute_of_that_type(model):
    props = TABLES[_table_of(model)]
    attributes = {a.attr_name: a.attr_type for a in model.get_attributes().values()}

    assert {name: attributes.get(name) for name in _types(props)} == _types(props)


def test_each_tables_time_to_live_attribute_is_a_number_on_its_model():
    expiring = {}
    for model in MODELS:
        ttl = TABLES[_table_of(model)].get("TimeToLiveSpecification")
        if ttl:
            types = {a.attr_name: a.attr_type for a in model.get_attributes().values()}
            expiring[model.__name__] = types.get(ttl["AttributeName"])

    assert expiring and set(expiring.values()) == {"N"}, expiring


def test_every_table_in_the_template_has_a_model():
    modelled = {_table_of(model) for model in MODELS}

    assert set(TABLES) - modelled == TABLES_WITHOUT_MODEL


def test_the_idempotency_table_is_keyed_as_powertools_writes_it():
    from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

    layer = DynamoDBPersistenceLayer(table_name="any", boto3_client=object())
    props = TABLES["IdempotencyTable"]

    assert _template_keys(props["KeySchema"], _types(props)) == {"HASH": (layer.key_attr, "S")}
    assert props["TimeToLiveSpecification"]["AttributeName"] == layer.expiry_attr
