"""Babel extraction for analyzer modules: gettext calls, docstring sections, evidence labels."""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from io import BytesIO
from typing import IO, Any

from logtriage.analyzers.base import DOC_SECTIONS, split_doc
from logtriage.model.formatting import key_label


def extract(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: dict[str, Any],
) -> Iterator[tuple[Any, ...]]:
    """Babel extraction method (``babel.cfg``): messages of ``_()`` calls and of the docs.

    A class docstring with ``What it finds:`` is an analyzer's documentation; ``logtriage
    explain`` shows each of its sections through the catalog, so each section is a message.
    The keys of the dicts an analyzer builds in its functions (evidence, impact, examples)
    are shown as labels ("requests affected") in HTML and Markdown: each label is a message.
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
    for line, key in _dict_keys(ast.parse(source)):
        text = key_label(key)
        if text is not None:
            yield line, None, text, ["evidence label"]


def _dict_keys(tree: ast.Module) -> Iterator[tuple[int, str]]:
    """String keys of dicts built inside functions: literals, ``d["key"] = …``, ``dict(key=…)``."""
    for function in ast.walk(tree):
        if not isinstance(function, ast.FunctionDef):
            continue
        for node in ast.walk(function):
            if isinstance(node, ast.Dict):
                for key in node.keys:
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield key.lineno, key.value
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    key = target.slice if isinstance(target, ast.Subscript) else None
                    if isinstance(key, ast.Constant) and isinstance(key.value, str):
                        yield target.lineno, key.value
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "dict":
                yield from ((node.lineno, k.arg) for k in node.keywords if k.arg)
