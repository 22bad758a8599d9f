"""The Japanese HTML report in headless Chromium: CJK text is drawn with a real CJK font."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import pytest

from logtriage import api
from logtriage.config import Settings
from logtriage.model.i18n import using_language
from logtriage.report.html import render_html
from tests.e2e.test_html_browser import (  # noqa: F401
    CHROME_FLAGS,
    browser,
    open_report,
    screenshot,
)
from tests.fixed_report import fixed_report

pytestmark = pytest.mark.e2e

Request = tuple[str, str, int, float]
HEADINGS = {"#findings h2": "検出結果", "#overview h2": "概要", "#inputs h2": "入力"}


# Fontconfig that sees DejaVu only: the same Chromium with no CJK face installed.
NO_CJK_FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig><dir>/usr/share/fonts/truetype/dejavu</dir><cachedir>{cache}</cachedir></fontconfig>
"""


@pytest.fixture(scope="module")
def browser_without_cjk() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("chromium and chromium-driver are missing: run `make system`", pytrace=False)
    work = Path(tempfile.mkdtemp(prefix="logtriage-nocjk-"))
    (work / "fonts.conf").write_text(NO_CJK_FONTS.format(cache=work / "cache"))
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROME_FLAGS, f"--user-data-dir={work / 'profile'}"):
        options.add_argument(flag)
    env = {**os.environ, "FONTCONFIG_FILE": str(work / "fonts.conf")}
    driver = webdriver.Chrome(service=Service(driver_path, env=env), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(work, ignore_errors=True)


def _cjk_glyphs_and_width(driver: object, selector: str) -> tuple[int, float, float]:
    """Glyphs drawn from a CJK face, and the text's width against its font size."""
    fonts = _fonts_for(driver, selector)
    cjk = sum(int(str(f["glyphCount"])) for f in fonts if "CJK" in str(f["familyName"]))
    width, size = driver.execute_script(  # type: ignore[attr-defined]
        f"const h = document.querySelector('{selector}');"
        "const r = document.createRange(); r.selectNodeContents(h);"
        "return [r.getBoundingClientRect().width, parseFloat(getComputedStyle(h).fontSize)];"
    )
    return cjk, float(width), float(size)


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
        # Every glyph of the heading came from a CJK face (a missing font leaves them to a
        # Latin fallback, drawn as .notdef boxes: "tofu"), and an ideograph is one em wide.
        cjk, width, size = _cjk_glyphs_and_width(browser, selector)
        assert cjk == len(text), _fonts_for(browser, selector)
        assert abs(width - len(text) * size) <= 1.0, (selector, width, size)

    # Finding titles in Japanese, drawn the same way.
    title = run("return document.querySelector('.finding-title').textContent")
    assert "が" in title
    fonts = _fonts_for(browser, ".finding-title")
    assert any("CJK" in str(f["familyName"]) for f in fonts), fonts

    # The charts' axis titles are Japanese inside the inline SVG, drawn with a CJK face too.
    found = run(
        "const t = [...document.querySelectorAll('svg text')]"
        ".find(e => e.textContent === '時刻 (UTC)'); if (t) t.id = 'axis-ja'; return !!t;"
    )
    assert found
    fonts = _fonts_for(browser, "#axis-ja")
    assert sum(int(str(f["glyphCount"])) for f in fonts if "CJK" in str(f["familyName"])) == 2
    screenshot(browser, "report-ja")


def test_the_glyph_check_fails_when_no_cjk_font_is_installed(
    browser_without_cjk: object,
    tmp_path: Path,
) -> None:
    """The same page in a Chromium that sees no CJK face: the check above must notice."""
    with using_language("ja"):
        html = render_html(fixed_report(), (), svg_renderer=lambda spec: "<svg></svg>")
    open_report(browser_without_cjk, html, "report-ja-no-cjk-font", tmp_path)
    cjk, width, size = _cjk_glyphs_and_width(browser_without_cjk, "#findings h2")
    assert cjk == 0
    assert abs(width - 4 * size) > 1.0  # tofu boxes are not one em wide
    screenshot(browser_without_cjk, "report-ja-no-cjk-font")  # to compare with report-ja.png
