"""web/openapi.json is what the handlers describe, and describes what the template serves."""

import re

from openapi_spec_validator import validate

from cloudsms_local.template import load_template
from scripts import openapi

HTTP_METHODS = set(openapi.HTTP_METHODS)


def _documented(document: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }


def _at_function_urls(document: dict) -> set[tuple[str, str]]:
    """Operations served at a function URL rather than by an API: they name their server."""
    return {
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS and "servers" in operation
    }


def _served_by_apis() -> set[tuple[str, str]]:
    routes = set()
    for resource in load_template()["Resources"].values():
        for event in resource.get("Properties", {}).get("Events", {}).values():
            if event.get("Type") == "Api":
                routes.add((event["Properties"]["Method"].upper(), event["Properties"]["Path"]))
    return routes


def test_the_committed_openapi_document_is_what_the_script_generates():
    committed = openapi.OUTPUT.read_text()

    assert committed == openapi.render(openapi.build_document()), (
        "web/openapi.json is out of date: run `python scripts/openapi.py`"
    )


def test_every_route_an_api_serves_is_documented_and_no_other():
    document = openapi.build_document()

    assert _documented(document) - _at_function_urls(document) == _served_by_apis()


def test_receipt_and_reply_routes_are_documented_at_the_function_url_without_an_api_key():
    document = openapi.build_document()

    operations = [document["paths"][path]["post"] for path in ("/dlr/{channel}", "/mo/{channel}")]

    assert _at_function_urls(document) == {
        (method, path) for method in ("GET", "POST") for path in ("/dlr/{channel}", "/mo/{channel}")
    }
    assert [operation["security"] for operation in operations] == [[], []]
    assert document["security"] == [{"bearer": []}, {"apiKey": []}]


def test_the_blacklist_import_says_its_file_goes_in_the_part_number_list():
    document = openapi.build_document()

    body = document["paths"]["/v1/blacklist/import"]["post"]["requestBody"]

    schema = body["content"]["multipart/form-data"]["schema"]
    assert schema["required"] == ["number_list"]
    assert schema["properties"]["number_list"]["format"] == "binary"


def test_every_form_described_is_an_operation_the_handlers_serve():
    document = openapi.build_document()

    assert {(method.upper(), path) for method, path in openapi.FORMS} <= _documented(document)


def test_a_mission_is_described_as_json_or_as_a_form_with_its_number_list():
    document = openapi.build_document()

    create = document["paths"]["/v1/missions"]["post"]["requestBody"]["content"]
    preview = document["paths"]["/v1/missions/preview"]["post"]["requestBody"]["content"]

    fields = {"$ref": "#/components/schemas/MissionFields"}
    assert create["application/json"]["schema"] == fields
    assert list(preview) == ["multipart/form-data"]  # a preview needs the list
    form = create["multipart/form-data"]["schema"]["allOf"]
    assert form[0] == fields and form[1]["required"] == ["number_list"]
    assert "content" in document["components"]["schemas"]["MissionFields"]["properties"]


def test_each_operation_documents_the_status_it_answers_on_success():
    paths = openapi.build_document()["paths"]

    def success(method: str, path: str) -> list[str]:
        return sorted(s for s in paths[path][method]["responses"] if s.startswith("2"))

    assert success("post", "/v1/missions") == ["201"]
    assert success("post", "/v1/sms") == ["202"]
    assert success("post", "/v1/admin/accounts") == ["201"]  # through a helper, _created
    assert success("delete", "/v1/callback") == ["204"]
    assert success("get", "/v1/missions") == ["200"]


# The answers a tenant integrates with, each described field by field (a component), not
# as a free-form object: tests/integration/test_openapi_contract.py holds them to it.
DESCRIBED = [
    ("post", "/v1/sms", "202", "SendAnswer"),
    ("get", "/v1/sms/{uid}", "200", "Message"),
    ("post", "/v1/missions", "201", "CreatedMission"),
    ("get", "/v1/missions", "200", "MissionPage"),
    ("get", "/v1/missions/{mission_id}", "200", "Mission"),
    ("post", "/v1/missions/{mission_id}/cancel", "200", "Mission"),
    ("patch", "/v1/missions/{mission_id}", "200", "Mission"),
    ("get", "/v1/messages", "200", "LogPage"),
    ("get", "/v1/statistics", "200", "Statistics"),
    ("get", "/v1/overview", "200", "Overview"),
    ("get", "/v1/templates", "200", "TemplatePage"),
    ("post", "/v1/templates", "201", "Template"),
    ("get", "/v1/orders", "200", "Orders"),
    ("get", "/v1/blacklist", "200", "BlacklistPage"),
    ("put", "/v1/callback", "200", "Callback"),
    ("post", "/v1/missions/preview", "200", "MissionPreview"),
    ("post", "/v1/blacklist", "200", "BlacklistAdded"),
    ("post", "/v1/blacklist/import", "200", "BlacklistImported"),
    ("post", "/v1/messages/exports", "202", "PreparedExport"),
    ("get", "/v1/messages/exports/{export_id}", "200", "PreparedExport"),
    ("post", "/v1/captchas", "201", "Captcha"),
    ("post", "/v1/sessions", "201", "SessionAnswer"),
    ("get", "/v1/account", "200", "Account"),
    ("post", "/v1/account/password", "200", "SessionAnswer"),
    ("post", "/v1/admin/accounts", "201", "IssuedAccount"),
]


def test_the_answers_tenants_integrate_with_are_described_field_by_field():
    document = openapi.build_document()

    def described(method: str, path: str, status: str) -> str:
        content = document["paths"][path][method]["responses"][status]["content"]
        return str(content["application/json"]["schema"].get("$ref", "free-form"))

    assert [described(m, p, s) for m, p, s, _ in DESCRIBED] == [
        f"#/components/schemas/{name}" for *_, name in DESCRIBED
    ]
    mission = document["components"]["schemas"]["Mission"]["properties"]
    assert mission["status"] == {"$ref": "#/components/schemas/MissionStatus"}
    assert mission["created_at"] == {"type": "string", "format": "date-time", "title": "Created At"}


def test_the_status_callback_is_documented_as_a_webhook_with_its_body_and_headers():
    document = openapi.build_document()

    webhook = document["webhooks"]["messageStatus"]["post"]

    body = webhook["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/StatusEvent"}
    assert {p["name"] for p in webhook["parameters"]} == {
        "X-CloudSMS-Signature",
        "X-CloudSMS-Event-Id",
    }
    event = document["components"]["schemas"]["StatusEvent"]["properties"]
    assert event["dr_state"]["$ref"] == "#/components/schemas/DrState"


def test_no_json_answer_is_a_free_form_object():
    paths = openapi.build_document()["paths"]

    def free_form(response: dict) -> bool:
        """A JSON body documented without a schema of its fields (a file or none: no)."""
        media = response.get("content", {}).get("application/json")
        return media is not None and "$ref" not in media["schema"]

    described_nowhere = [
        f"{method.upper()} {path} {status}"
        for path, item in paths.items()
        for method, operation in item.items()
        for status, response in operation["responses"].items()
        if status.startswith("2") and free_form(response)
    ]

    assert described_nowhere == []


def test_every_operation_behind_the_api_documents_its_failure_in_the_error_shape():
    """A client must know a 502 or 504 from API Gateway still has the error shape, and
    which requests it may send again without doing anything twice."""
    document = openapi.build_document()
    behind_api = _documented(document) - _at_function_urls(document)

    for method, path in behind_api:
        failed = document["paths"][path][method.lower()]["responses"]["5XX"]
        schema = failed["content"]["application/json"]["schema"]
        assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
        retry_safe = "Idempotency-Key" in failed["description"]
        assert retry_safe == ((method, path) in {("POST", "/v1/sms"), ("POST", "/v1/missions")})


def _operations(document: dict) -> list[tuple[str, str, dict]]:
    return [
        (method, path, operation)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def test_the_document_is_a_valid_openapi_document():
    """Client generators refuse, or drop parts of, a document with a dangling $ref."""
    document = openapi.build_document()

    validate(document)  # raises on the first error


SNAKE_CASE = re.compile(r"[a-z]+(_[a-z]+)*")


def test_every_operation_has_a_unique_snake_case_operation_id_of_its_own():
    """A generated client names its functions after operationIds: `send_sms`, not the
    event handler's default made of the path and method (`send_v1_sms_post`)."""
    operations = _operations(openapi.build_document())

    ids = [operation["operationId"] for _, _, operation in operations]

    assert len(ids) == len(set(ids))
    assert [i for i in ids if not SNAKE_CASE.fullmatch(i)] == []
    assert [
        operation["operationId"]
        for method, _, operation in operations
        if operation["operationId"].endswith(f"_{method}") or "v1" in operation["operationId"]
    ] == []


def test_every_operation_that_takes_a_key_names_the_key_schemes_itself():
    """Generators read an operation's own `security`, not the document's, to tell a
    call that sends the key from one that does not (openapi-python-client: which calls
    take an AuthenticatedClient)."""
    document = openapi.build_document()
    keyless = openapi.public_routes() | {
        (method.lower(), path) for method, path in _at_function_urls(document)
    }

    securities = {
        (method, path): operation.get("security")
        for method, path, operation in _operations(document)
    }

    assert {route: s for route, s in securities.items() if route in keyless} == {
        route: [] for route in keyless
    }
    assert {
        route: s
        for route, s in securities.items()
        if route not in keyless and s != [{"bearer": []}, {"apiKey": []}]
    } == {}


def test_every_object_a_schema_describes_is_a_named_component():
    """An object described inline gets a name made up by the generator (the error's
    `ErrorError`); a component is named once, here."""
    schemas = openapi.build_document()["components"]["schemas"]

    def inline_objects(schema: object, where: str) -> list[str]:
        if isinstance(schema, list):
            return [found for item in schema for found in inline_objects(item, where)]
        if not isinstance(schema, dict):
            return []
        found = [where] if "properties" in schema and not where.endswith("/") else []
        for key, value in schema.items():
            if key == "properties":
                found += [
                    f
                    for name, field in value.items()
                    for f in inline_objects(field, f"{where}.{name}")
                ]
            elif key != "$defs":
                found += inline_objects(value, where)
        return found

    assert [f for name, schema in schemas.items() for f in inline_objects(schema, f"{name}/")] == []


def test_the_operators_calls_are_grouped_apart_from_a_tenants():
    """A tenant's generated client puts each group in a module of its own: the calls
    under /v1/admin/ take an operator key, so none of them is among a tenant's."""
    operations = _operations(openapi.build_document())

    tagged_operator = {
        (method, path)
        for method, path, operation in operations
        if operation["tags"] == ["Operator"]
    }

    assert tagged_operator == {
        (method, path) for method, path, _ in operations if path.startswith("/v1/admin/")
    }
