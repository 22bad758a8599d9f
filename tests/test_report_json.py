"""The report JSON contract: schema-valid, deterministic, findings ranked, secrets redacted."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path

import jsonschema

from logtriage import api
from logtriage.report.json_report import render_json
from tests.conftest import NGINX_CASE

Writer = Callable[..., Path]
NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


def schema() -> dict[str, object]:
    text = resources.files("logtriage.report").joinpath("schema/report.schema.json").read_text()
    loaded: dict[str, object] = json.loads(text)
    return loaded


def planted(write_nginx_log: Writer) -> Path:
    requests = (
        [("GET", f"/users/{i}", 200, 0.02) for i in range(200)]
        + [("GET", f"/reports/{i}", 200, 3.0) for i in range(40)]
        + [("POST", "/checkout", 502 if i % 3 == 0 else 200, 0.05) for i in range(90)]
        + [("GET", "/login?user=bob&password=hunter2", 500, 0.01) for _ in range(30)]
    )
    return write_nginx_log(requests)


def test_report_validates_against_schema(write_nginx_log: Writer) -> None:
    report = api.analyze([str(planted(write_nginx_log)), str(NGINX_CASE)], now=NOW)
    jsonschema.validate(json.loads(render_json(report)), schema())


def test_same_input_same_bytes(write_nginx_log: Writer) -> None:
    path = str(planted(write_nginx_log))
    first = render_json(api.analyze([path], now=NOW))
    second = render_json(api.analyze([path], now=NOW))
    assert first == second


def test_findings_sorted_by_score_and_planted_ones_found(write_nginx_log: Writer) -> None:
    data = json.loads(render_json(api.analyze([str(planted(write_nginx_log))], now=NOW)))
    scores = [f["score"] for f in data["findings"]]
    assert scores == sorted(scores, reverse=True)
    by_code = {(f["code"], f.get("route")) for f in data["findings"]}
    assert ("P004", "GET /reports/{id}") in by_code
    assert ("A001", "POST /checkout") in by_code
    assert ("A001", "GET /login") in by_code
    assert not any(
        f["code"] == "P004" and f["route"] == "GET /users/{id}" for f in data["findings"]
    )


def test_secrets_never_appear_in_json(write_nginx_log: Writer) -> None:
    text = render_json(api.analyze([str(planted(write_nginx_log))], now=NOW))
    assert "hunter2" not in text


def test_accepted_findings_are_suppressed_visibly(write_nginx_log: Writer) -> None:
    from logtriage.config import settings_from_mapping

    settings = settings_from_mapping(
        {"accept": [{"code": "P004", "route": "GET /reports/{id}", "reason": "batch, by design"}]}
    )
    data = json.loads(render_json(api.analyze([str(planted(write_nginx_log))], settings, now=NOW)))
    assert not any(
        f["code"] == "P004" and f["route"] == "GET /reports/{id}" for f in data["findings"]
    )
    assert data["suppressed"] == [
        {
            "code": "P004",
            "title": data["suppressed"][0]["title"],
            "route": "GET /reports/{id}",
            "reason": "batch, by design",
        }
    ]
    assert "GET /reports/{id}" in data["suppressed"][0]["title"]


def test_numbers_json_cannot_hold_are_null(write_nginx_log: Writer) -> None:
    """A NaN from the engine (a correlation of constant columns) must not make invalid JSON."""
    report = api.analyze([str(planted(write_nginx_log))], now=NOW)
    first = report.findings[0]
    odd = {"nan": float("nan"), "inf": float("inf"), "nested": [float("-inf"), 1.5]}
    report = dataclasses.replace(
        report, findings=[dataclasses.replace(first, evidence={**first.evidence, **odd})]
    )

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    document = json.loads(render_json(report), parse_constant=refuse)
    evidence = document["findings"][0]["evidence"]
    assert evidence["nan"] is None and evidence["inf"] is None
    assert evidence["nested"] == [None, 1.5]
