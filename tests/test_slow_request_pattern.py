"""P003: the attribute that explains a slow tail fires when planted, stays quiet otherwise."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

from logtriage import api
from logtriage.model.report import Report

Writer = Callable[..., Path]


def feed_requests(
    seed: int, slow_when: Callable[[int, str], bool]
) -> list[tuple[str, str, int, float]]:
    rng = random.Random(seed)
    out = []
    for i in range(1500):
        include = rng.random() < 0.1
        query = (
            f"?include=comments&page={rng.randint(1, 9)}"
            if include
            else f"?page={rng.randint(1, 9)}"
        )
        slow = slow_when(i, query)
        seconds = rng.uniform(1.5, 2.5) if slow else rng.uniform(0.02, 0.06)
        out.append(("GET", f"/users/{rng.randint(1, 5000)}/feed{query}", 200, seconds))
    return out


def p003(report: Report) -> list[dict[str, object]]:
    return [f.to_json() for f in report.findings if f.code == "P003"]


def test_fires_on_the_planted_parameter(write_nginx_log: Writer) -> None:
    path = write_nginx_log(feed_requests(1, lambda _, q: "include=comments" in q))
    found = p003(api.analyze([str(path)]))
    assert len(found) == 1
    assert found[0]["route"] == "GET /users/{id}/feed"
    assert found[0]["evidence"]["attribute"] == "with include=comments"  # type: ignore[index]
    assert found[0]["evidence"]["p95_with_ms"] > 1400  # type: ignore[index,operator]
    assert "include=comments" in str(found[0]["title"])


def test_quiet_when_slowness_has_no_attribute(write_nginx_log: Writer) -> None:
    rng = random.Random(5)
    path = write_nginx_log(feed_requests(2, lambda _, __: rng.random() < 0.1))
    assert p003(api.analyze([str(path)])) == []


def test_quiet_when_everything_is_fast(write_nginx_log: Writer) -> None:
    path = write_nginx_log(feed_requests(3, lambda _, __: False))
    assert p003(api.analyze([str(path)])) == []


def test_quiet_on_small_routes(write_nginx_log: Writer) -> None:
    requests = feed_requests(4, lambda _, q: "include=comments" in q)[:40]
    path = write_nginx_log(requests)
    assert p003(api.analyze([str(path)])) == []
