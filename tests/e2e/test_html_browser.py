"""The HTML report in a real headless Chromium: planted XSS never runs, the page renders."""

from __future__ import annotations

import base64
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from logtriage import api
from logtriage.report.html import render_html
from tests.fixed_report import XSS_PAYLOADS, fixed_report

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
CHROME_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--window-size=1280,900",
)
# Runs before any script of the page: every way a payload could announce itself sets __xss.
TRAP = """
window.__xss = undefined;
for (const name of ["alert", "confirm", "prompt", "print"]) {
  window[name] = function () { window.__xss = name; };
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromium-driver are missing: run `make system`", pytrace=False)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="logtriage-chromium-")
    for flag in (*CHROME_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def hostile_access_log(path: Path) -> Path:
    """nginx lines whose paths, query strings and user agents carry the payloads."""
    start = datetime(2026, 11, 24, 10, 0, 0, tzinfo=UTC)
    lines = []
    for i in range(600):
        payload = XSS_PAYLOADS[i % len(XSS_PAYLOADS)]
        # nginx writes a request line without spaces and escapes '"' as \x22.
        raw = payload.replace(" ", "%20").replace('"', "\\x22")
        agent = payload.replace('"', "\\x22")
        if i % 3 == 0:
            request, status, seconds = f"GET /search?q={raw} HTTP/1.1", 500, 0.05
        elif i % 3 == 1:
            request, status, seconds = f"GET /p/{raw}/view HTTP/1.1", 200, 2.0
        else:
            request, status, seconds = f"POST /api/{raw} HTTP/1.1", 502, 0.3
        stamp = (start + timedelta(seconds=i)).strftime("%d/%b/%Y:%H:%M:%S +0000")
        lines.append(
            f'10.0.0.{i % 7} - - [{stamp}] "{request}" {status} 512 "{raw}" "{agent}" '
            f"{seconds:.3f} {seconds:.3f}"
        )
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def open_report(driver: object, html: str, name: str, tmp_path: Path) -> None:
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    driver.get(page.as_uri())  # type: ignore[attr-defined]


def screenshot(driver: object, name: str) -> Path:
    """A full-page PNG under tests/artifacts/ for a reviewer to open."""
    ARTIFACTS.mkdir(exist_ok=True)
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})  # type: ignore[attr-defined]
    size = metrics["cssContentSize"]
    shot = driver.execute_cdp_cmd(  # type: ignore[attr-defined]
        "Page.captureScreenshot",
        {
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        },
    )
    path = ARTIFACTS / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def assert_rendered_and_inert(driver: object, findings: int) -> None:
    run = driver.execute_script  # type: ignore[attr-defined]
    assert run("return window.__xss") is None, "a planted payload ran"
    assert run("return document.title").startswith("logtriage report")
    assert run("return document.querySelectorAll('article.card').length") == findings
    # Exactly our script exists, and it ran (the CSP allows it by hash, nothing else).
    assert run("return document.scripts.length") == 1
    assert run("return document.documentElement.getAttribute('data-sortable')") == "ready"
    assert run("return document.querySelectorAll('img, iframe, object, embed, video').length") == 0
    handlers = run(
        "return [...document.querySelectorAll('*')].filter(e => [...e.attributes]"
        ".some(a => a.name.startsWith('on'))).length"
    )
    assert handlers == 0


def test_planted_payloads_from_a_log_stay_inert(browser: object, tmp_path: Path) -> None:
    log = hostile_access_log(tmp_path / "access.log")
    report = api.analyze([str(log)], now=datetime(2026, 11, 25, tzinfo=UTC))
    assert report.findings, "the planted errors and slow route must produce findings"
    html = render_html(report, api.rule_docs())
    # The payloads really are in the page, as text.
    assert "&lt;script&gt;window.__xss=" in html
    open_report(browser, html, "from-log", tmp_path)
    assert_rendered_and_inert(browser, len(report.findings))
    assert (
        browser.execute_script(  # type: ignore[attr-defined]
            "return document.querySelectorAll('figure.chart svg').length"
        )
        >= 3
    )
    screenshot(browser, "report-from-hostile-log")


def test_planted_payloads_in_every_field_stay_inert(browser: object, tmp_path: Path) -> None:
    report = fixed_report(hostile=True)
    html = render_html(report, api.rule_docs())
    open_report(browser, html, "hand-built", tmp_path)
    assert_rendered_and_inert(browser, len(report.findings))
    text = browser.execute_script("return document.body.textContent")  # type: ignore[attr-defined]
    for payload in XSS_PAYLOADS[:20]:
        assert payload in text, f"{payload!r} should show as text"
    screenshot(browser, "report-hand-built-hostile")


def test_route_table_sorts_on_click(browser: object, tmp_path: Path) -> None:
    html = render_html(fixed_report(), api.rule_docs())
    open_report(browser, html, "sorting", tmp_path)
    run = browser.execute_script  # type: ignore[attr-defined]
    column = (
        "[...document.querySelectorAll('#route-table tbody tr')].map(r => r.cells[1].dataset.v)"
    )
    assert run(f"return {column}") == ["812", "90"]
    run("document.querySelectorAll('#route-table th')[1].click()")  # requests: descending first
    assert run(f"return {column}") == ["812", "90"]
    run("document.querySelectorAll('#route-table th')[1].click()")
    assert run(f"return {column}") == ["90", "812"]
    screenshot(browser, "report-fixed")
