"""Read route patterns from an OpenAPI (or Swagger 2) document: the service's own route names."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import yaml

from logtriage.errors import ConfigError
from logtriage.model.i18n import _

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _load(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            _("cannot read OpenAPI file {path}: {reason}").format(
                path=path, reason=exc.strerror or exc
            )
        ) from exc
    try:
        if path.suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(
            _("cannot parse OpenAPI file {path}: {reason}").format(
                path=path, reason=str(exc).splitlines()[0]
            )
        ) from exc


def _base_path(doc: dict[str, Any]) -> str:
    """The path part of the first server URL (OpenAPI 3) or ``basePath`` (Swagger 2)."""
    servers = doc.get("servers")
    if isinstance(servers, list) and servers and isinstance(servers[0], dict):
        base = urlparse(str(servers[0].get("url", ""))).path
    else:
        base = str(doc.get("basePath", ""))
    base = base.rstrip("/")
    # Server variables ({version}) cannot be resolved here; keep the static base only.
    return "" if "{" in base else base


def openapi_routes(path: str) -> tuple[str, ...]:
    """``METHOD /path/{param}`` for every operation in the document, most specific first."""
    doc = _load(Path(path))
    if not isinstance(doc, dict) or not isinstance(doc.get("paths"), dict):
        raise ConfigError(
            _("{path} is not an OpenAPI document (no 'paths' object)").format(path=path)
        )
    base = _base_path(doc)
    routes = []
    for route_path, item in doc["paths"].items():
        if not isinstance(item, dict):
            continue
        for method in _METHODS:
            if method in item:
                routes.append(f"{method.upper()} {base}{route_path}")
    # Literal segments beat parameters: /users/me must win over /users/{id}.
    return tuple(sorted(routes, key=lambda r: (r.count("{"), -len(r), r)))
