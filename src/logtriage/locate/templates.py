"""Loops in the templates a handler renders: Jinja2 (Flask, FastAPI, Django-style) and ERB (Rails).

An N+1 very often sits in the page, not in the handler: ``{% for a in articles %}{{
a.author.name }}`` or ``<% @articles.each do |a| %><%= a.author.name %>``. Jinja templates are
parsed with Jinja2's own parser (a dependency already); Django templates parse with it when they
use the shared syntax and are skipped otherwise. ERB is turned into the Ruby it compiles to —
the code of its ``<% %>`` tags, every other character blanked, so lines keep their numbers —
and read by the Ruby scanner.
"""

from __future__ import annotations

import re

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension
from jinja2.parser import Parser

from logtriage.locate.code_facts import LoopHit, LoopTargets

_ERB_TAG = re.compile(r"<%(?!%)(=|-|==|#)?(.*?)-?%>", re.DOTALL)


_DJANGO_TAGS = {
    "url", "load", "csrf_token", "static", "empty", "trans", "now", "cycle", "firstof",
    "spaceless", "endspaceless", "verbatim", "endverbatim", "widthratio", "querystring",
}  # fmt: skip


class _DjangoTags(Extension):
    """Django-only block tags (``{% url %}``, ``{% load %}``, ``{% empty %}``…) read as nothing."""

    tags = _DJANGO_TAGS

    def parse(self, parser: Parser) -> nodes.Node:
        """Skip the tag's arguments."""
        lineno = next(parser.stream).lineno
        while parser.stream.current.type != "block_end":
            next(parser.stream)
        return nodes.Output([], lineno=lineno)


_ENV = jinja2.Environment(extensions=[_DjangoTags], autoescape=True)


def jinja_loops(rel: str, text: str, targets: LoopTargets, eager: set[str]) -> list[LoopHit]:
    """``{% for x in xs %}`` blocks that read a lazy relation of ``x``."""
    try:
        tree = _ENV.parse(text)
    except (jinja2.TemplateSyntaxError, RecursionError, ValueError):
        return []
    hits: list[LoopHit] = []
    for loop in tree.find_all(nodes.For):
        variables = {n.name for n in loop.target.find_all(nodes.Name)}
        if isinstance(loop.target, nodes.Name):
            variables.add(loop.target.name)
        body = [*loop.body, *loop.else_]
        for access in (g for part in body for g in _getattrs(part)):
            root = access.node
            while isinstance(root, nodes.Getattr):
                root = root.node
            if (
                access.attr in targets.relations
                and access.attr not in eager
                and isinstance(root, nodes.Name)
                and root.name in variables
            ):
                reason = f"`{root.name}.{access.attr}` in the template"
                hits.append(LoopHit(rel, loop.lineno, rel, reason, "relation", access.attr, 0.85))
                break
    return hits


def _getattrs(node: nodes.Node) -> list[nodes.Getattr]:
    found = list(node.find_all(nodes.Getattr))
    return [node, *found] if isinstance(node, nodes.Getattr) else found


def erb_to_ruby(text: str) -> str:
    """The Ruby code of an ERB template, at the same lines and columns (the rest blanked)."""
    out = [c if c == "\n" else " " for c in text]
    for match in _ERB_TAG.finditer(text):
        if match.group(1) == "#":
            continue
        start = match.start(2)
        code = match.group(2)
        out[start : start + len(code)] = list(code)
        # Statements of consecutive tags must not run together on one line.
        end = match.end() - 1
        if out[end] != "\n":
            out[end] = ";"
    return "".join(out)
