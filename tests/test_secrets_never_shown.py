"""Planted secrets of 20+ shapes: S001 finds them and no rendering of the report shows one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from logtriage.cli import main
from tests.conftest import nginx_line

# Each secret is unique, so finding its text anywhere in an output is a leak.
SECRETS: dict[str, str] = {
    "password": "Tr0ub4dor-and-3-horses",
    "api_key": "k7Hq2mZx9VbN4cLp8RtY",
    "session": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTQyIiwiYWRtaW4iOnRydWV9.Qm9ndXNTaWduYXR1cmVYWVo",
    "aws": "AKIAZ7Q3EXAMPLE4KEY9",
    "aws_secret": "wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEY1",
    "github": "ghp_R4nd0mT0k3nV4lu3F0rT3st1ngPurp0s3s",
    "github_pat": "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOP",
    "gitlab": "glpat-Zx8Yw7Vu6Ts5Rq4Po3Nm",
    "slack": "xoxb-2048-4096-R4nd0mSl4ckT0k3n",
    "stripe": "sk_live_51HxYzAbCdEfGhIjKlMnOpQr",
    "openai": "sk-proj-Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0UvWx",
    "google_api": "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY",
    "google_oauth": "ya29.a0AfH6SMBx-R4nd0mOAuthT0k3n",
    "sendgrid": "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",
    "npm": "npm_Ab1Cd2Ef3Gh4Ij5Kl6Mn7Op8Qr9St0UvWxYz",
    "twilio": "SK0123456789abcdef0123456789abcdef",
    "azure": "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG8=",
    "url_password": "pgPassw0rdInUrl",
    "bearer": "opaqueBearerT0kenValue123",
    "card": "4111 1111 1111 1111",
    "card_plain": "5500005555555559",
    "private_key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7",
    "client_secret": "cl13nt-s3cr3t-v4lu3",
}
T0 = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)


def _access_log(path: Path) -> None:
    s = SECRETS
    queries = [
        f"/login?user=bob&password={s['password']}",
        f"/api/items?api_key={s['api_key']}",
        f"/home?PHPSESSID={s['session']}",
        f"/api/me?access_token={s['jwt']}",
        f"/oauth/callback?code=x&client_secret={s['client_secret']}",
        f"/hook?key={s['aws']}&aws_secret_access_key={s['aws_secret']}",
        "/search?q=select+password",
    ]
    lines = [
        nginx_line(T0 + timedelta(seconds=i), "GET", q, 200, 0.01)
        for i, q in enumerate(queries * 3)
    ]
    path.write_text("\n".join(lines) + "\n")


def _app_log(path: Path) -> None:
    s = SECRETS
    messages = [
        ("github push with token " + s["github"], {}),
        ("fine-grained " + s["github_pat"], {}),
        ("gitlab " + s["gitlab"], {}),
        ("slack " + s["slack"], {}),
        ("charging with " + s["stripe"], {}),
        ("llm call", {"api_header": s["openai"]}),
        ("maps", {"google": s["google_api"]}),
        ("oauth " + s["google_oauth"], {}),
        ("mail via " + s["sendgrid"], {}),
        ("publish " + s["npm"], {}),
        ("sms " + s["twilio"], {}),
        ("blob DefaultEndpointsProtocol=https;AccountKey=" + s["azure"], {}),
        (f"db postgres://app:{s['url_password']}@db.internal:5432/shop", {}),
        ("upstream header Authorization: Bearer " + s["bearer"], {}),
        ("paid with card " + s["card"], {}),
        ("refund card " + s["card_plain"], {}),
        ("loaded key -----BEGIN PRIVATE KEY-----\n" + s["private_key"], {}),
    ]
    lines = []
    for i, (message, extra) in enumerate(messages * 2):
        record = {
            "timestamp": (T0 + timedelta(seconds=i)).isoformat(),
            "level": "error" if i % 2 else "info",
            "event": message,
            "request_id": f"r{i}",
            **extra,
        }
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n")


def test_planted_secrets_are_found_and_never_shown(tmp_path: Path) -> None:
    access, app = tmp_path / "access.log", tmp_path / "app.log"
    _access_log(access)
    _app_log(app)
    outputs = {kind: tmp_path / f"report.{kind}" for kind in ("json", "html", "markdown", "sarif")}
    args = ["analyze", str(access), str(app), "-q"]
    for kind, out in outputs.items():
        args += [f"--{kind}", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    rendered = {"terminal": result.output}
    rendered |= {kind: out.read_text(encoding="utf-8") for kind, out in outputs.items()}

    for kind, text in rendered.items():
        for name, secret in SECRETS.items():
            pieces = {secret, secret.replace(" ", ""), secret[:16]}
            leaked = [p for p in pieces if p in text]
            assert not leaked, f"{name} shown in the {kind} output"

    report = json.loads(rendered["json"])
    s001 = [f for f in report["findings"] if f["code"] == "S001"]
    shapes: dict[str, int] = {}
    for finding in s001:
        for shape, count in finding["evidence"]["shapes"].items():
            shapes[shape] = shapes.get(shape, 0) + count
    expected = {
        "key-value", "jwt", "aws-access-key", "github-token", "gitlab-token", "slack-token",
        "stripe-key", "openai-key", "google-api-key", "google-oauth", "sendgrid-key",
        "npm-token", "twilio-key", "azure-storage-key", "url-credentials", "bearer",
        "card-number", "private-key",
    }  # fmt: skip
    assert expected <= set(shapes), expected - set(shapes)
    fields = {(f["evidence"]["table"], f["evidence"]["field"]) for f in s001}
    assert ("requests", "query") in fields
    assert ("app_events", "message") in fields
    assert ("app_events", "attributes") in fields
    # The harmless search for the word "password" is not counted: 6 of 7 query shapes × 3.
    query_finding = next(f for f in s001 if f["evidence"]["field"] == "query")
    assert query_finding["evidence"]["records"] == 18
    assert all("[REDACTED]" in ex["text"] for f in s001 for ex in f["examples"])
