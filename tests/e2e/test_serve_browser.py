"""``logtriage serve`` as a real process, driven by a real headless Chromium.

From the overview to the N+1 route, to one of its requests and its query sequence: every page
renders, our one script runs under the CSP, no planted payload runs, nothing is fetched from
anywhere but the dashboard itself, and the CSP reports no violation of our own pages.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_html_browser import CHROME_FLAGS, TRAP, screenshot
from tests.serve_history import ARTICLES, N_PLUS_ONE_ROUTE, build_state, write_logs

pytestmark = pytest.mark.e2e
_URL = re.compile(r"http://127\.0\.0\.1:\d+/")
_LIMIT = re.compile(r"/articles\?limit=(\d+)\b")


@contextmanager
def serving(state: Path) -> Iterator[str]:
    """``logtriage serve STATE --port 0`` in its own process; yields its URL."""
    process = subprocess.Popen(
        [sys.executable, "-m", "logtriage", "serve", str(state), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        match = _URL.search(line)
        assert match, f"serve printed no URL: {line!r}"
        yield match.group(0)
    finally:
        # Ctrl-C, as a person stops it: a clean stop, no traceback.
        process.send_signal(signal.SIGINT)
        try:
            _, err = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        assert process.returncode == 0, err
        assert "Traceback" not in err
        assert "dashboard stopped" in err


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("serve-e2e")
    with serving(build_state(root / "state", write_logs(root))) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
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
    # The performance log lists every request the page made; the browser log, CSP reports.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRAP})
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def requested_urls(driver: Any) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def open_page(driver: Any, url: str, base: str) -> None:
    """Open ``url``; check it rendered inert, fetched only from ``base`` and broke no CSP rule."""
    driver.get(url)
    deadline = time.monotonic() + 10
    run = driver.execute_script
    while run("return document.readyState") != "complete" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run("return window.__xss") is None, f"a planted payload ran on {url}"
    # Our one script (by URL, allowed by script-src 'self') ran: the tables sort.
    assert run("return document.documentElement.getAttribute('data-sortable')") == "ready"
    assert run("return document.scripts.length") == 1
    handlers = run(
        "return [...document.querySelectorAll('*')].filter(e => [...e.attributes]"
        ".some(a => a.name.startsWith('on'))).length"
    )
    assert handlers == 0
    # Anything that could leave the machine; chrome:// is the browser's own start page.
    network = [u for u in requested_urls(driver) if not u.startswith(("chrome:", "data:"))]
    outside = [u for u in network if not u.startswith(base)]
    assert any(u.startswith(base) for u in network), "the performance log saw no request"
    assert outside == [], f"requests outside the dashboard: {outside}"
    violations = [
        e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]
    ]
    assert violations == [], violations


def click_link(driver: Any, css: str, text: str) -> None:
    from selenium.webdriver.common.by import By

    links = [a for a in driver.find_elements(By.CSS_SELECTOR, css) if text in a.text]
    assert links, f"no link {css} saying {text!r}"
    links[0].click()


def test_overview_route_and_request_in_a_real_browser(browser: Any, dashboard: str) -> None:
    from selenium.webdriver.common.by import By

    run = browser.execute_script
    open_page(browser, dashboard, dashboard)
    assert run("return document.title").startswith("Overview")
    assert len(browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")) >= 3
    for viewpoint in ("performance", "availability", "monitoring", "security", "operations"):
        assert browser.find_elements(By.ID, f"vp-{viewpoint}")
    screenshot(browser, "serve-overview")

    open_page(browser, dashboard + "routes", dashboard)
    click_link(browser, "#route-table a", N_PLUS_ONE_ROUTE)
    open_page(browser, browser.current_url, dashboard)
    assert "/routes/" in browser.current_url
    slowest = browser.find_elements(By.CSS_SELECTOR, "#slowest tbody tr")
    assert len(slowest) == ARTICLES
    screenshot(browser, "serve-route-n-plus-one")

    slowest[0].find_element(By.TAG_NAME, "a").click()
    open_page(browser, browser.current_url, dashboard)
    assert "/requests/" in browser.current_url
    repeated = browser.find_elements(By.CSS_SELECTOR, "#query-sequence-table tr.repeat-top")
    banner = browser.find_element(By.CSS_SELECTOR, ".repeat-banner").text
    assert f"{len(repeated)} times" in banner and len(repeated) >= 8
    # The repeated rows are highlighted: their background differs from a plain row's.
    colour = run(
        "return getComputedStyle(document.querySelector('tr.repeat-top td')).backgroundColor"
    )
    assert colour not in ("rgba(0, 0, 0, 0)", "rgb(255, 255, 255)")
    screenshot(browser, "serve-request-query-sequence")


def test_finding_pages_and_filters_in_a_real_browser(browser: Any, dashboard: str) -> None:
    from selenium.webdriver.common.by import By

    open_page(browser, dashboard, dashboard)
    count = len(browser.find_elements(By.CSS_SELECTOR, "a.finding-link"))
    assert count >= 3
    for rank in range(1, count + 1):
        open_page(browser, f"{dashboard}findings/{rank}", dashboard)
        assert browser.find_elements(By.CSS_SELECTOR, "article.card .fix")
    open_page(browser, f"{dashboard}findings/1", dashboard)
    screenshot(browser, "serve-finding")

    # The filter form submits by GET to the same page; the planted payload routes show as text.
    open_page(browser, dashboard + "routes", dashboard)
    field = browser.find_element(By.NAME, "status")
    field.send_keys("5xx")
    field.submit()
    open_page(browser, browser.current_url, dashboard)
    assert "status=5xx" in browser.current_url
    routes = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#route-table td.route")]
    assert routes == ["POST /api/orders/{id}/pay"]
    open_page(browser, dashboard + "routes?route=script", dashboard)
    text = browser.execute_script("return document.body.textContent")
    assert "<script>window.__xss=1</script>" in text
    screenshot(browser, "serve-routes-hostile")

    bad = dashboard + "routes?status=abc"
    browser.get(bad)
    assert "status: cannot read" in browser.find_element(By.CSS_SELECTOR, ".error-line").text


def test_a_real_shops_n_plus_one_request_by_request(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Real nginx → gunicorn shop → real PostgreSQL: each request's loop has its page's size.

    ``GET /articles?limit=N`` loads N articles, then each one's author (N distinct authors):
    the request page must show the authors query repeated exactly N times.
    """
    from selenium.webdriver.common.by import By

    from tests.e2e.test_correlation_e2e import _capture

    keep = tmp_path_factory.mktemp("serve-shop")
    capture = _capture("postgresql", True, keep)
    state = build_state(keep / "state", [capture.access_log, capture.db_log])
    with serving(state) as base:
        # Forget what earlier tests' pages fetched from their own dashboard.
        browser.get_log("performance")
        browser.get_log("browser")
        open_page(browser, base + "routes?route=/articles", base)
        click_link(browser, "#route-table a", "GET /articles")
        open_page(browser, browser.current_url, base)
        rows = browser.find_elements(By.CSS_SELECTOR, "#slowest tbody tr")
        listed = [
            (row.find_element(By.TAG_NAME, "a").get_attribute("href"), row.text) for row in rows
        ]
        loops = [(href, int(m.group(1))) for href, text in listed if (m := _LIMIT.search(text))]
        assert len(loops) >= 10, listed
        for href, limit in loops[:10]:
            open_page(browser, href, base)
            repeated = browser.find_elements(By.CSS_SELECTOR, "#query-sequence-table tr.repeat-top")
            assert len(repeated) == limit, (href, limit)
            assert "authors" in repeated[0].text
        screenshot(browser, "serve-shop-n-plus-one-request")
