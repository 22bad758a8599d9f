"""Vega-Lite charts to inline SVG, and the check that an SVG is only drawing (no script)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

# What vl-convert draws with; anything else (script, foreignObject, use, image, a…) is refused.
_ELEMENTS = frozenset(
    {
        "svg", "g", "path", "rect", "line", "circle", "ellipse", "polygon", "polyline", "text",
        "tspan", "title", "desc", "defs", "clipPath", "linearGradient", "radialGradient", "stop",
        "style", "mask", "pattern",
    }
)  # fmt: skip
_SVG_NS = "{http://www.w3.org/2000/svg}"
_TEXT_ATTRIBUTES = frozenset({"role", "class"})

SvgRenderer = Callable[[dict[str, Any]], str]


class UnsafeSvgError(ValueError):
    """An SVG holds something that is not drawing: it must not reach the HTML."""


def check_svg(svg: str) -> str:
    """Return ``svg`` unchanged when it only draws; raise ``UnsafeSvgError`` otherwise.

    Chart labels come from logs (routes, SQL), so the SVG that carries them is checked as
    strictly as any other log-derived value: known drawing elements only, no event handler
    attribute, no link other than to a fragment of the same SVG, no ``javascript:`` in styles.
    """
    try:
        root = ET.fromstring(svg)
    except ET.ParseError as exc:
        raise UnsafeSvgError(f"not well-formed SVG: {exc}") from exc
    if root.tag != f"{_SVG_NS}svg":
        raise UnsafeSvgError("root element is not svg")
    for element in root.iter():
        tag = element.tag.removeprefix(_SVG_NS)
        if tag not in _ELEMENTS:
            raise UnsafeSvgError(f"element {tag!r} not allowed")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            lowered = value.lower()
            if local.startswith("on"):
                raise UnsafeSvgError(f"event attribute {local!r} not allowed")
            if local == "href" and not value.startswith("#"):
                raise UnsafeSvgError("external link not allowed")
            if local.startswith("aria-") or local in _TEXT_ATTRIBUTES:
                continue  # read as text (vl-convert puts data labels there), never loaded
            if "javascript:" in lowered or ("url(" in lowered and "url(#" not in lowered):
                raise UnsafeSvgError(f"attribute {local!r} refers outside the SVG")
        if tag == "style" and ("@import" in (element.text or "") or "url(" in (element.text or "")):
            raise UnsafeSvgError("style may not load anything")
    return svg


def vega_lite_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec to SVG with vl-convert (offline: the engine is in the wheel)."""
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(spec)
    return svg
