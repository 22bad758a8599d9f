"""Line breaking for text with CJK characters, which may break between any two characters."""

from __future__ import annotations

import re

from rich.cells import cell_len

# Hiragana, katakana, CJK ideographs, full-width forms and CJK punctuation.
_CJK = "\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef"
_WIDE = re.compile(f"[{_CJK}]")
# A CJK character, a run of other non-space characters (a Latin word, a number), or spaces.
_UNIT = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+|\s+")
# Japanese line-breaking rules (kinsoku): these never start a line.
_NO_START = set(
    "、。，．・：；？！）」』】〕〉》”’ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ)]"
)


def has_wide(text: str) -> bool:
    """True when ``text`` holds CJK characters (rich's word wrap breaks it badly)."""
    return _WIDE.search(text) is not None


def fold(text: str, width: int, first_width: int | None = None) -> list[str]:
    """``text`` as lines of at most ``width`` cells (``first_width`` for the first line).

    Breaks between CJK characters and at spaces, never inside a Latin word unless it is
    longer than a line, and keeps closing punctuation off the start of a line.
    """
    width = max(width, 4)
    lines: list[str] = []
    units: list[str] = []  # the current line, unit by unit (a carried unit moves whole)
    limit = max(first_width if first_width is not None else width, 2)

    def used() -> int:
        return cell_len("".join(units))

    def flush() -> None:
        lines.append("".join(units).rstrip())
        units.clear()

    for unit in _UNIT.findall(text):
        if unit.isspace():
            if not lines and not units:
                units.append(unit)  # the text's own indent
            elif units and used() + cell_len(unit) <= limit:
                units.append(unit)
            elif units:
                flush()
                limit = width
            continue
        if used() + cell_len(unit) <= limit:
            units.append(unit)
            continue
        if unit[0] in _NO_START and len(units) > 1 and not units[-1].isspace():
            # Carry the last unit down so the punctuation does not start the line (and the unit
            # before it too when that is closing punctuation itself: "停止)。").
            carried = [units.pop()]
            while len(units) > 1 and carried[0][0] in _NO_START and not units[-1].isspace():
                carried.insert(0, units.pop())
            flush()
            units.extend((*carried, unit))
            limit = width
            continue
        if "".join(units).strip():
            flush()
        units.clear()
        limit = width
        while cell_len(unit) > limit:  # a word longer than a line: fold it
            cut = len(unit)
            while cell_len(unit[:cut]) > limit:
                cut -= 1
            lines.append(unit[:cut])
            unit = unit[cut:]
        units.append(unit)
    if "".join(units).strip() or not lines:
        flush()
    return lines
