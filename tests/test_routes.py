"""Route templating: shapes to placeholders, busy positions collapse, declared routes win."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.engine.openapi import openapi_routes
from logtriage.engine.routes import pattern_to_regex
from logtriage.errors import ConfigError

Writer = Callable[..., Path]
CASES = tomllib.loads((Path(__file__).parent / "cases" / "routes.toml").read_text())["case"]


@pytest.mark.parametrize("case", CASES, ids=[c["path"] for c in CASES])
def test_path_shapes(case: dict[str, str], write_nginx_log: Writer) -> None:
    path = write_nginx_log([(case.get("method", "GET"), case["path"], 200, 0.01)])
    _, rows, _ = api.records(str(path))
    assert rows[0]["route"] == case["route"]


def test_many_distinct_values_collapse_to_param(write_nginx_log: Writer) -> None:
    names = [f"user{chr(97 + i % 26)}{chr(97 + i // 26 % 26)}" for i in range(300)]
    requests = [("GET", f"/profile/{n}/posts", 200, 0.01) for n in names]
    requests += [("GET", f"/api/{r}", 200, 0.01) for r in ("users", "orders", "items")]
    path = write_nginx_log(requests)
    _, rows, _ = api.records(str(path))
    routes = {r["route"] for r in rows}
    expected = {"GET /profile/{param}/posts", "GET /api/users", "GET /api/orders", "GET /api/items"}
    assert routes == expected


def test_declared_routes_win_over_templating(write_nginx_log: Writer) -> None:
    path = write_nginx_log(
        [
            ("GET", "/blog/hello-world", 200, 0.01),
            ("GET", "/blog/second-post", 200, 0.01),
            ("POST", "/blog/hello-world", 200, 0.01),
        ]
    )
    settings = Settings(routes=("GET /blog/{slug}",))
    _, rows, _ = api.records(str(path), settings)
    routes = [r["route"] for r in rows]
    assert routes == ["GET /blog/{slug}", "GET /blog/{slug}", "POST /blog/hello-world"]


def test_pattern_to_regex_forms() -> None:
    assert pattern_to_regex("GET /users/{id}") == ("GET", "/users/[^/]+/?", "/users/{id}")
    assert pattern_to_regex("/items/:item_id/tags") == (
        None,
        "/items/[^/]+/tags/?",
        "/items/{item_id}/tags",
    )


def test_a_million_distinct_paths_stay_few_routes(tmp_path: Path) -> None:
    # Distinct ids, tokens and slugs at several depths must not explode the route count.
    lines = []
    for i in range(20000):
        lines.append(
            f'10.0.0.1 - - [24/Nov/2026:10:00:00 +0000] "GET /shop/item-{i}/review/r{i}x '
            f'HTTP/1.1" 200 1 "-" "ua" 0.001 0.001'
        )
    path = tmp_path / "many.log"
    path.write_text("\n".join(lines) + "\n")
    report = api.analyze([str(path)])
    assert report.summary["routes"] == 1
    assert report.routes[0]["route"] == "GET /shop/{param}/review/{param}"


def test_openapi_routes_win_and_literals_beat_params(
    write_nginx_log: Writer, tmp_path: Path
) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(
        "openapi: 3.0.0\n"
        "servers: [{url: 'https://api.example.com/v2'}]\n"
        "paths:\n"
        "  /users/{userId}: {get: {}, delete: {}}\n"
        "  /users/me: {get: {}}\n"
        "  /articles/{slug}/comments: {post: {}}\n"
    )
    path = write_nginx_log(
        [
            ("GET", "/v2/users/alice", 200, 0.01),
            ("GET", "/v2/users/me", 200, 0.01),
            ("DELETE", "/v2/users/7", 204, 0.01),
            ("POST", "/v2/articles/hello-world/comments", 201, 0.01),
            ("GET", "/v2/other/42", 200, 0.01),
        ]
    )
    _, rows, _ = api.records(str(path), Settings(openapi=str(spec)))
    assert [r["route"] for r in rows] == [
        "GET /v2/users/{userId}",
        "GET /v2/users/me",
        "DELETE /v2/users/{userId}",
        "POST /v2/articles/{slug}/comments",
        "GET /v2/other/{id}",
    ]


def test_openapi_that_is_not_openapi_is_a_config_error(tmp_path: Path) -> None:
    spec = tmp_path / "x.json"
    spec.write_text('{"hello": 1}')
    with pytest.raises(ConfigError, match="not an OpenAPI document"):
        openapi_routes(str(spec))
