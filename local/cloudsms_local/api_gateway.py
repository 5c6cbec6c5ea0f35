"""A local API Gateway: serves the template's Api events and function URLs over HTTP.

It builds REST API proxy events as API Gateway does, runs the Api's Lambda REQUEST
authorizer first (401 when it fails, 403 on a Deny), and serves the portal's static files.
What it refuses itself (an unknown route, the authorizer's refusals) it answers with the
template's gateway responses, as the deployed API does.
A function URL is served under a path of its own (`function_url_path`), with the events
Lambda builds for one (payload format 2.0) and no authorizer.
"""

from __future__ import annotations

import base64
import fnmatch
import json
import mimetypes
import re
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cloudsms_local import urgency
from cloudsms_local.lambda_runtime import LocalLambda
from cloudsms_local.template import ACCOUNT_ID, REGION, ApiRoute, GatewayResponse

BINARY_TYPES = ("multipart/form-data", "application/octet-stream")
# A function URL passes a body as text only when its type says it is text; anything else,
# a form too, arrives base64-encoded.
FUNCTION_URL_TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript")
STAGE = "local"
# API Gateway's own status and message for each refusal a gateway response may change.
REFUSALS: dict[str, tuple[int, str | None]] = {
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token"),
    "UNAUTHORIZED": (401, "Unauthorized"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource"),
    "AUTHORIZER_FAILURE": (500, None),
}
API_GATEWAYS_OWN_BODY = '{"message":$context.error.messageString}'


def _route_pattern(path: str) -> re.Pattern[str]:
    def param(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.endswith("+"):
            return f"(?P<{name[:-1]}>.+)"
        return f"(?P<{name}>[^/]+)"

    return re.compile("^" + re.sub(r"\{([^}]+)\}", param, path) + "$")


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = json.dumps({"error": {"code": code, "message": message, "details": []}})
    return status, {"Content-Type": "application/json"}, body.encode()


class LocalApiGateway:
    def __init__(
        self,
        lambdas: LocalLambda,
        routes: list[ApiRoute],
        authorizers: dict[str, str],
        static_dir: Path | None,
        host: str = "127.0.0.1",
        port: int = 3000,
        function_urls: dict[str, str] | None = None,
        gateway_responses: dict[str, GatewayResponse] | None = None,
    ):
        self.lambdas = lambdas
        self.routes = [(r, _route_pattern(r.path)) for r in routes]
        self.authorizers = authorizers
        self.gateway_responses = gateway_responses or {}
        self.function_urls = function_urls or {}  # local path -> function
        self.static_dir = static_dir
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # An answer goes out as two writes (head, body); on a kept-open connection
            # Nagle's algorithm would hold the body until the client's delayed ACK (40 ms).
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, headers, payload = gateway.handle(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    body,
                    self.client_address[0],
                )
                self.send_response(status)
                for name, value in headers.items():
                    if name.lower() not in ("content-length", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # request lines would print phone numbers from query strings

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> LocalApiGateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def match(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        for route, pattern in self.routes:
            found = pattern.match(path)
            if found and route.method in (method, "ANY"):
                return route, found.groupdict()
        return None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes, source_ip: str
    ) -> tuple[int, dict[str, str], bytes]:
        split = urlsplit(raw_path)
        path = unquote(split.path)
        # A REST API hands the function the path as the client wrote it, escapes and all
        # ("%2B63…", not "+63…"), and its path parameters so too.
        escaped = split.path
        on_url = self.function_url(path)
        if on_url is not None:
            function, url_path = on_url
            event = self._url_event(
                function, method, url_path, split.query, headers, body, source_ip
            )
            return self._invoke(function, event)
        matched = self.match(method, escaped)
        if matched is None:
            if method in ("GET", "HEAD") and self.static_dir and not path.startswith("/v1/"):
                return self._static(path)
            # A method its path does not have too: API Gateway has no 405.
            return self.refusal("MISSING_AUTHENTICATION_TOKEN")
        route, path_params = matched
        event = self._event(
            route, method, escaped, split.query, headers, body, path_params, source_ip
        )
        # Someone waits for this answer: the API goes before background work (urgency.py).
        with urgency.marked():
            if route.authorized:
                denied = self._authorize(route, event)
                if denied:
                    return denied
            return self._invoke(route.function, event)

    def refusal(self, kind: str) -> tuple[int, dict[str, str], bytes]:
        """A refusal of the API's own, as its gateway response for it (else its default
        response for the status, else API Gateway's own) words it."""
        status, message = REFUSALS[kind]
        default = "DEFAULT_4XX" if status < 500 else "DEFAULT_5XX"
        response = (
            self.gateway_responses.get(kind)
            or self.gateway_responses.get(default)
            or GatewayResponse(None, {}, API_GATEWAYS_OWN_BODY)
        )
        body = response.body.replace("$context.error.messageString", json.dumps(message))
        headers = {"Content-Type": "application/json", **response.headers}
        return response.status or status, headers, body.encode()

    def function_url(self, path: str) -> tuple[str, str] | None:
        """(function, path at its URL) when `path` is under a function URL's local path."""
        for prefix, function in self.function_urls.items():
            if path == prefix or path.startswith(prefix + "/"):
                return function, path[len(prefix) :] or "/"
        return None

    def _invoke(self, function: str, event: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        try:
            result = self.lambdas.invoke(function, event)
        except Exception:  # noqa: BLE001 - both answer 502 when the function fails
            traceback.print_exc()
            return _error(502, "internal_error", "Internal server error")
        return self._response(result)

    def _event(
        self,
        route: ApiRoute,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        path_params: dict[str, str],
        source_ip: str,
    ) -> dict[str, Any]:
        multi_query = parse_qs(query, keep_blank_values=True) if query else {}
        content_type = headers.get("Content-Type") or headers.get("content-type") or ""
        binary = any(content_type.startswith(t) for t in BINARY_TYPES)
        text_body: str | None
        if not body:
            text_body = None
        elif binary:
            text_body = base64.b64encode(body).decode()
        else:
            text_body = body.decode("utf-8", errors="replace")
        request_id = str(uuid.uuid4())
        return {
            "resource": route.path,
            "path": path,
            "httpMethod": method,
            "headers": headers,
            "multiValueHeaders": {k: [v] for k, v in headers.items()},
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": {
                "resourcePath": route.path,
                "httpMethod": method,
                "path": f"/{STAGE}{path}",
                "stage": STAGE,
                "requestId": request_id,
                "extendedRequestId": request_id,
                "requestTimeEpoch": int(time.time() * 1000),
                "accountId": ACCOUNT_ID,
                "apiId": route.api.lower(),
                "protocol": "HTTP/1.1",
                "identity": {"sourceIp": source_ip, "userAgent": headers.get("User-Agent")},
                "domainName": "127.0.0.1",
            },
            "body": text_body,
            "isBase64Encoded": binary and bool(body),
        }

    @staticmethod
    def _url_event(
        function: str,
        method: str,
        path: str,
        query: str,
        headers: dict[str, str],
        body: bytes,
        source_ip: str,
    ) -> dict[str, Any]:
        """What Lambda hands a function called at its function URL (payload format 2.0)."""
        lowered = {name.lower(): value for name, value in headers.items()}
        cookies = lowered.pop("cookie", None)
        multi_query = parse_qs(query, keep_blank_values=True) if query else {}
        content_type = lowered.get("content-type", "").lower()
        text = any(content_type.startswith(t) for t in FUNCTION_URL_TEXT_TYPES)
        url_id = function.lower()
        now = time.time()
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "headers": lowered,
            "requestContext": {
                "accountId": "anonymous",
                "apiId": url_id,
                "domainName": f"{url_id}.lambda-url.{REGION}.on.aws",
                "domainPrefix": url_id,
                "http": {
                    "method": method,
                    "path": path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": lowered.get("user-agent", ""),
                },
                "requestId": str(uuid.uuid4()),
                "routeKey": "$default",
                "stage": "$default",
                "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "timeEpoch": int(now * 1000),
            },
            "isBase64Encoded": bool(body) and not text,
        }
        if cookies:
            event["cookies"] = cookies.split("; ")
        if multi_query:
            # Lambda joins a repeated parameter's values with commas.
            event["queryStringParameters"] = {k: ",".join(v) for k, v in multi_query.items()}
        if body:
            event["body"] = (
                body.decode("utf-8", "replace") if text else base64.b64encode(body).decode()
            )
        return event

    def _authorize(
        self, route: ApiRoute, event: dict[str, Any]
    ) -> tuple[int, dict[str, str], bytes] | None:
        context = event["requestContext"]
        method_arn = (
            f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{context['apiId']}/{STAGE}/"
            f"{route.method}{route.path}"
        )
        request = {
            "type": "REQUEST",
            "methodArn": method_arn,
            "resource": route.path,
            "path": event["path"],
            "httpMethod": route.method,
            "headers": event["headers"],
            "multiValueHeaders": event["multiValueHeaders"],
            "queryStringParameters": event["queryStringParameters"] or {},
            "multiValueQueryStringParameters": event["multiValueQueryStringParameters"] or {},
            "pathParameters": event["pathParameters"] or {},
            "stageVariables": {},
            "requestContext": context,
        }
        try:
            policy = self.lambdas.invoke(self.authorizers[route.api], request)
        except Exception as error:  # noqa: BLE001 - any authorizer failure is a refusal
            if str(error) == "Unauthorized":
                return self.refusal("UNAUTHORIZED")
            return self.refusal("AUTHORIZER_FAILURE")
        if not _allows(policy.get("policyDocument", {}).get("Statement", []), method_arn):
            return self.refusal("ACCESS_DENIED")
        context["authorizer"] = {
            **(policy.get("context") or {}),
            "principalId": policy.get("principalId"),
        }
        return None

    @staticmethod
    def _response(result: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        headers = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers[name] = ", ".join(values)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        return int(result.get("statusCode", 200)), headers, payload

    def _static(self, path: str) -> tuple[int, dict[str, str], bytes]:
        assert self.static_dir is not None
        relative = path.lstrip("/") or "index.html"
        target = (self.static_dir / relative).resolve()
        if not target.is_relative_to(self.static_dir.resolve()) or not target.is_file():
            return _error(404, "not_found", f"no page at {path}")
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        return 200, {"Content-Type": kind}, target.read_bytes()


def _allows(statements: list[dict[str, Any]], method_arn: str) -> bool:
    """As IAM reads an authorizer's policy for one request: an explicit Deny of its
    method ARN wins, else it needs an Allow. `*` in a resource matches any characters."""

    def names(statement: dict[str, Any]) -> bool:
        resources = statement.get("Resource", [])
        resources = [resources] if isinstance(resources, str) else resources
        return any(fnmatch.fnmatchcase(method_arn, resource) for resource in resources)

    effects = {statement.get("Effect") for statement in statements if names(statement)}
    return "Allow" in effects and "Deny" not in effects
