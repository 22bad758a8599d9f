"""Babel extraction for reader modules: their gettext calls plus descriptions and field hints."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from io import BytesIO
from typing import IO, Any

# Attributes whose text `logtriage formats` shows, and hint tables M002 quotes as its fix.
_TEXT_NAMES = ("description", "recognises")
_HINT_NAMES = ("field_hints", "FIELD_HINTS")


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[tuple[Any, ...]]:
    """Babel extraction method (``babel.cfg``): ``_()`` calls, then the readers' own texts.

    A reader's ``description`` and ``recognises`` and the values of its ``field_hints`` are
    plain strings in code (the registry reads them); they are shown through the catalog.
    """
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(BytesIO(source), keywords, comment_tags, options)  # type: ignore[arg-type]
    for node in ast.walk(ast.parse(source)):
        target, value = _assignment(node)
        if target in _TEXT_NAMES and _is_text(value):
            assert isinstance(value, ast.Constant)
            yield value.lineno, None, value.value, [f"format {target}"]
        elif target in _HINT_NAMES and isinstance(value, ast.Dict):
            for key, hint in zip(value.keys, value.values, strict=True):
                if _is_text(hint) and isinstance(key, ast.Constant) and isinstance(key.value, str):
                    assert isinstance(hint, ast.Constant)
                    yield hint.lineno, None, hint.value, [f"field hint: {key.value}"]


def _assignment(node: ast.AST) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1:
        target = node.targets[0]
        return (target.id if isinstance(target, ast.Name) else None), node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _is_text(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str) and bool(node.value)
