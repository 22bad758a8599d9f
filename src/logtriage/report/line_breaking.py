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
_NO_START = set("、。，．・：；？！）」』】〕〉》”’ーぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ")


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
    line = ""
    limit = max(first_width if first_width is not None else width, 2)
    for unit in _UNIT.findall(text):
        if unit.isspace():
            if line and cell_len(line) + cell_len(unit) <= limit:
                line += unit
            elif line:
                lines.append(line.rstrip())
                line, limit = "", width
            continue
        if cell_len(line) + cell_len(unit) <= limit:
            line += unit
            continue
        if unit[0] in _NO_START and len(line) > 1:
            # Carry the last character down so the punctuation does not start the line.
            carried = line[-1]
            lines.append(line[:-1].rstrip())
            line, limit = carried + unit, width
            continue
        if line.strip():
            lines.append(line.rstrip())
        line, limit = "", width
        while cell_len(unit) > limit:  # a word longer than a line: fold it
            cut = len(unit)
            while cell_len(unit[:cut]) > limit:
                cut -= 1
            lines.append(unit[:cut])
            unit = unit[cut:]
        line = unit
    if line.strip() or not lines:
        lines.append(line.rstrip())
    return lines
