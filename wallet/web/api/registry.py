"""One list of the API's operations: each route is added to the blueprint and to the OpenAPI document by the
same decorator, so the document cannot forget a route."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import Blueprint
from marshmallow import Schema

bp = Blueprint("api", __name__, url_prefix="/api/v1")


@dataclass(frozen=True)
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    description: str
    tag: str
    query: type[Schema] | None
    body: type[Schema] | None
    response: type[Schema] | None
    status: int
    errors: tuple[int, ...]
    content_type: str = "application/json"


OPERATIONS: list[Operation] = []


def operation(rule: str, method: str, *, summary: str, tag: str, query: type[Schema] | None = None,
              body: type[Schema] | None = None, response: type[Schema] | None = None, status: int = 200,
              errors: tuple[int, ...] = (401, 403, 404)) -> Callable:
    def register(view: Callable) -> Callable:
        bp.add_url_rule(rule, endpoint=view.__name__, view_func=view, methods=[method])
        all_errors = tuple(sorted(set(errors) | ({400} if (query or body) else set()) | {401}))
        OPERATIONS.append(Operation(rule, method, view.__name__, summary, (view.__doc__ or "").strip(), tag,
                                    query, body, response, status, all_errors))
        return view

    return register
