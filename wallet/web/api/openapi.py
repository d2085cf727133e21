"""The OpenAPI 3.1 document, built by apispec's MarshmallowPlugin from the schemas and the operation list."""
from __future__ import annotations

import re
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from wallet.web.api import schemas as s
from wallet.web.api.registry import OPERATIONS, bp

_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_STATUS_WORDS = {200: "Done", 201: "Made", 400: "The request did not pass validation; nothing was written",
                 401: "Not signed in", 403: "Not allowed", 404: "No such wallet or request",
                 409: "Refused by the service: not enough money, already decided, or a key reused"}


def openapi_path(rule: str) -> str:
    """``/wallets/<wallet_id>`` -> ``/api/v1/wallets/{wallet_id}``."""
    return (bp.url_prefix or "") + _PARAM.sub(r"{\1}", rule)


def document() -> dict[str, Any]:
    spec = APISpec(
        title="Care Wallet API", version="1", openapi_version="3.1.0", plugins=[MarshmallowPlugin()],
        info={"description": "The portal's functions for programs. Sign in to the portal first: the API uses "
                             "the same session cookie. Send the CSRF token in the X-CSRFToken header with every "
                             "POST. Money is always whole pence."})
    spec.components.security_scheme("session", {"type": "apiKey", "in": "cookie", "name": "session"})
    spec.components.security_scheme("csrf", {"type": "apiKey", "in": "header", "name": "X-CSRFToken"})
    spec.components.schema("Error", schema=s.ErrorSchema)
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        parameters: list[dict[str, Any]] = [
            {"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
            for name in _PARAM.findall(op.rule)]
        if op.query is not None:
            parameters.append({"in": "query", "schema": op.query})
        responses: dict[str, Any] = {str(op.status): {"description": _STATUS_WORDS.get(op.status, "Done")}}
        if op.response is not None:
            responses[str(op.status)]["content"] = {op.content_type: {"schema": op.response}}
        for code in op.errors:
            responses[str(code)] = {"description": _STATUS_WORDS[code],
                                    "content": {"application/json": {"schema": "Error"}}}
        details: dict[str, Any] = {"operationId": op.endpoint, "summary": op.summary, "tags": [op.tag],
                                   "parameters": parameters, "responses": responses,
                                   "security": [{"session": [], "csrf": []}] if op.method != "GET"
                                   else [{"session": []}]}
        if op.description:
            details["description"] = op.description
        if op.body is not None:
            details["requestBody"] = {"required": True,
                                      "content": {"application/json": {"schema": op.body}}}
        paths.setdefault(openapi_path(op.rule), {})[op.method.lower()] = details
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()
