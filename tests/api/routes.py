"""The route table, read the way the tests need it: which ``/api/v1`` operations exist and which kinds of
organisation each admits (from its ``require_kind`` dependency)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from qianfan.models import OrgKind

_BY_NAME = {f"require_{kind.value}": kind for kind in OrgKind}


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    yield dependant
    for sub in dependant.dependencies:
        yield from _walk(sub)


def admitted_kinds(route: Any) -> list[OrgKind]:
    """The kinds a route's ``require_kind`` dependency admits; empty when any logged-in user may call it."""
    kinds: list[OrgKind] = []
    for dep in _walk(route.dependant):
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_"):
            kinds.extend(_BY_NAME[part] for part in _names(name))
    return kinds


def _names(name: str) -> list[str]:
    return [f"require_{part}" if not part.startswith("require_") else part for part in name.split("_or_")]


def api_routes(app: FastAPI) -> list[tuple[str, str, Any]]:
    """(method, path, route context) for every ``/api/v1`` operation, sorted.  FastAPI includes routers
    lazily, so the table is read through ``iter_route_contexts`` (a context has the route's ``dependant``)."""
    rows = []
    for route in iter_route_contexts(app.routes):
        if isinstance(route.original_route, APIRoute) and route.path and route.path.startswith("/api/v1"):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                rows.append((method, route.path, route))
    return sorted(rows, key=lambda row: (row[1], row[0]))
