"""Babel extraction for analyzer modules: their gettext calls plus each docstring section."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from io import BytesIO
from typing import IO, Any

from logtriage.analyzers.base import DOC_SECTIONS, split_doc


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[tuple[Any, ...]]:
    """Babel extraction method (``babel.cfg``): messages of ``_()`` calls and of the docs.

    A class docstring with ``What it finds:`` is an analyzer's documentation; ``logtriage
    explain`` shows each of its sections through the catalog, so each section is a message.
    """
    from babel.messages.extract import extract_python

    source = fileobj.read()
    yield from extract_python(BytesIO(source), keywords, comment_tags, options)  # type: ignore[arg-type]
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        doc = ast.get_docstring(node)
        if not doc or f"{DOC_SECTIONS[0]}:" not in doc:
            continue
        line = node.body[0].lineno
        for title, body in split_doc(doc).items():
            yield line, None, body, [f"{node.name} docs: {title}"]
