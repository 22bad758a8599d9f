"""The Japanese HTML report in headless Chromium: CJK text is drawn with a real CJK font."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.model.i18n import using_language
from logtriage.report.html import render_html
from tests.e2e.test_html_browser import browser, open_report, screenshot  # noqa: F401

pytestmark = pytest.mark.e2e

Request = tuple[str, str, int, float]
HEADINGS = {"#findings h2": "検出結果", "#overview h2": "概要", "#inputs h2": "入力"}


def _fonts_for(driver: object, selector: str) -> list[dict[str, object]]:
    """The platform fonts Chromium really drew the node's text with (DevTools CSS domain)."""
    cdp = driver.execute_cdp_cmd  # type: ignore[attr-defined]
    cdp("DOM.enable", {})
    cdp("CSS.enable", {})
    root = cdp("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    node = cdp("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    fonts: list[dict[str, object]] = cdp("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
    return fonts


def test_japanese_report_draws_cjk_glyphs(
    browser: object,  # noqa: F811
    tmp_path: Path,
    write_nginx_log: Callable[[Iterable[Request], str], Path],
) -> None:
    requests: list[Request] = []
    for i in range(200):
        requests.append(("GET", f"/reports/{i}", 200, 2.5 + (i % 7) / 10))
        requests.append(("GET", f"/items/{i}", 500 if i % 4 == 0 else 200, 0.02))
    log = write_nginx_log(requests, "access.log")
    report = api.analyze([str(log)], Settings(lang="ja"))
    with using_language("ja"):
        html = render_html(report, api.rule_docs())
    open_report(browser, html, "report-ja", tmp_path)
    run = browser.execute_script  # type: ignore[attr-defined]
    assert run("return document.documentElement.lang") == "ja"
    assert "Noto Sans CJK JP" in run("return getComputedStyle(document.body).fontFamily")

    for selector, text in HEADINGS.items():
        assert run(f"return document.querySelector('{selector}').textContent") == text
        # Every glyph of the heading came from a CJK face: a missing font would leave some
        # to a Latin fallback (drawn as .notdef boxes, "tofu").
        fonts = _fonts_for(browser, selector)
        cjk = sum(int(f["glyphCount"]) for f in fonts if "CJK" in str(f["familyName"]))  # type: ignore[call-overload]
        assert cjk == len(text), fonts
        # An ideograph is exactly one em wide in a CJK face; tofu boxes are narrower.
        width, size = run(
            f"const h = document.querySelector('{selector}');"
            "const r = document.createRange(); r.selectNodeContents(h);"
            "return [r.getBoundingClientRect().width, parseFloat(getComputedStyle(h).fontSize)];"
        )
        assert abs(width - len(text) * size) <= 1.0, (selector, width, size)

    # Finding titles in Japanese, drawn the same way.
    title = run("return document.querySelector('.finding-title').textContent")
    assert "が" in title
    fonts = _fonts_for(browser, ".finding-title")
    assert any("CJK" in str(f["familyName"]) for f in fonts), fonts
    screenshot(browser, "report-ja")
