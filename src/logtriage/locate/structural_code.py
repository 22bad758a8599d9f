"""Code in Ruby, JavaScript/TypeScript, Java and PHP, parsed with ast-grep's built-in grammars.

ast-grep-py ships tree-sitter grammars compiled into its wheel, so nothing is downloaded at run
time. This module holds what the languages share — parsing with a small cache, finding a
function by its line, and the search for loops that run a query once per item — and each
language module says how its syntax spells routes, models, loops and calls.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator

from ast_grep_py import SgNode, SgRoot

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    LoopHit,
    LoopTargets,
    SqlLiteral,
    looks_like_sql,
)

# Parsed trees kept between the scan and the loop search (a tree of a big file weighs MBs).
_CACHED_TREES = 64
_ROOT_NAME = re.compile(r"^[@$]?(\w+)")


def string_value(node: SgNode) -> str:
    """The text of a string or symbol literal, without quotes (``:x`` → ``x``)."""
    text = node.text()
    if text.startswith(":"):
        return text[1:].strip("\"'")
    if len(text) >= 2 and text[0] in "\"'`" and text[-1] == text[0]:
        return text[1:-1]
    return text


def line_of(node: SgNode) -> int:
    """1-based line where ``node`` starts."""
    return node.range().start.line + 1


def end_line_of(node: SgNode) -> int:
    """1-based line where ``node`` ends."""
    return node.range().end.line + 1


def root_name(node: SgNode | None) -> str | None:
    """The variable a receiver chain starts from: ``article`` for ``$article->author``."""
    if node is None:
        return None
    match = _ROOT_NAME.match(node.text())
    return match.group(1) if match else None


def walk(node: SgNode) -> Iterator[SgNode]:
    """Every named descendant of ``node``, itself first (depth first, in source order)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        stack.extend(reversed([c for c in current.children() if c.is_named()]))


# Where a model's name stands when the code queries it: a call, its receiver, its arguments.
_MEMBER = frozenset({"member_expression", "field_access", "scoped_call_expression"})
_CALL_CONTEXT = _MEMBER | frozenset(
    {"call", "call_expression", "method_invocation", "member_call_expression",
     "argument_list", "arguments", "argument", "scoped_property_access_expression"}
)  # fmt: skip


def _loop_line(node: SgNode) -> int:
    """A callback loop's line is its method's (``.map`` in a chain), a statement's its own."""
    marker: SgNode | None = None
    if node.kind() == "call":  # Ruby
        marker = node.field("method")
    elif node.kind() in ("method_invocation", "member_call_expression"):  # Java, PHP
        marker = node.field("name")
    elif node.kind() == "call_expression":  # JavaScript
        function = node.field("function")
        marker = function.field("property") if function is not None else None
    return line_of(marker if marker is not None else node)


class StructuralScanner:
    """The shared part of the ast-grep scanners; a language module fills in its syntax."""

    language = ""  # the ast-grep language name
    function_kinds: frozenset[str] = frozenset()
    string_kinds: frozenset[str] = frozenset()
    name_kinds: frozenset[str] = frozenset()  # identifiers and constants

    def __init__(self) -> None:
        self._roots: OrderedDict[str, SgNode] = OrderedDict()
        self._kinds: dict[str, bool] = {}

    # -- parsing ---------------------------------------------------------------------------
    def root(self, rel: str, text: str) -> SgNode:
        """The parsed tree of a file (a few kept in cache)."""
        if rel in self._roots:
            self._roots.move_to_end(rel)
            return self._roots[rel]
        node = SgRoot(text, self.language).root()
        self._roots[rel] = node
        if len(self._roots) > _CACHED_TREES:
            self._roots.popitem(last=False)
        return node

    def kinds(self, node: SgNode, kinds: frozenset[str]) -> list[SgNode]:
        """Descendants of any of ``kinds`` (ast-grep's native search)."""
        known = [k for k in sorted(kinds) if self._is_kind(node, k)]
        if not known:
            return []
        return node.find_all(any=[{"kind": k} for k in known])

    def _is_kind(self, node: SgNode, kind: str) -> bool:
        """Whether the grammar has ``kind`` (grammars differ: JS vs TS, versions)."""
        if kind not in self._kinds:
            try:
                node.find(kind=kind)
                self._kinds[kind] = True
            except RuntimeError:
                self._kinds[kind] = False
        return self._kinds[kind]

    # -- what each language says -------------------------------------------------------------
    def scan_root(self, rel: str, root: SgNode, facts: FileFacts) -> None:
        """Routes, mounts and models of one file."""

    def function_decl(self, rel: str, node: SgNode) -> FunctionDecl | None:
        """A function node as a declaration (name, class, lines)."""
        return None

    def loop_parts(self, node: SgNode) -> tuple[SgNode | None, set[str], SgNode] | None:
        """(iterable, loop variables, body) when ``node`` is a loop."""
        return None

    def relation_access(self, node: SgNode) -> tuple[str, str | None] | None:
        """(member name, receiver's root variable) when ``node`` reads a member."""
        return None

    def call_name(self, node: SgNode) -> str | None:
        """The called function or method name when ``node`` is a call."""
        return None

    def eager_names(self, func: SgNode) -> set[str]:
        """Relations the function loads eagerly (``includes(:author)``, ``with('author')``)."""
        return set()

    def is_constant_iterable(self, node: SgNode | None) -> bool:
        """A literal list of constants: a fixed fan-out, not an N+1."""
        return False

    # -- shared ----------------------------------------------------------------------------
    def scan(self, rel: str, text: str) -> FileFacts:
        """Routes, mounts, models, functions and SQL strings of one file."""
        facts = FileFacts()
        try:
            root = self.root(rel, text)
        except (RuntimeError, ValueError):
            return facts
        self.scan_root(rel, root, facts)
        for node in self.kinds(root, self.function_kinds):
            decl = self.function_decl(rel, node)
            if decl is not None:
                facts.functions.append(decl)
        for node in self.kinds(root, self.string_kinds):
            value = string_value(node)
            if looks_like_sql(value):
                facts.sql.append(SqlLiteral(value.lower(), rel, line_of(node)))
        return facts

    def _function_node(self, rel: str, text: str, func: FunctionDecl) -> SgNode | None:
        root = self.root(rel, text)
        for node in self.kinds(root, self.function_kinds):
            decl = self.function_decl(rel, node)
            if decl is not None and decl.line == func.line and decl.name == func.name:
                return node
        return None

    def calls(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """Names of the functions and methods ``func`` calls."""
        node = self._function_node(rel, text, func)
        if node is None:
            return set()
        return {name for n in walk(node) if (name := self.call_name(n))}

    def queries(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> bool:
        """True when ``func`` itself queries the target models or tables."""
        node = self._function_node(rel, text, func)
        return node is not None and any(self._query_reason(n, targets) for n in walk(node))

    def _query_reason(self, node: SgNode, targets: LoopTargets) -> str | None:
        if node.kind() in self.name_kinds and node.text().lstrip("$") in targets.models:
            # A model named in a call (``User.find(id)``, ``authorRepository.findById``), not
            # in a type (``Category getCategory()``).
            parent = node.parent()
            if parent is not None and parent.kind() in _CALL_CONTEXT:
                call = parent.parent() if parent.kind() in _MEMBER else parent
                shown = call if call is not None else parent
                return f"`{' '.join(shown.text().split())[:80]}`"
        if node.kind() in self.string_kinds:
            value = string_value(node).lower()
            tables = sorted(t for t in targets.tables if re.search(rf"\b{re.escape(t)}\b", value))
            if looks_like_sql(value) and tables:
                return "a SQL string on " + ", ".join(tables)
        return None

    def loops(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> list[LoopHit]:
        """Loops in ``func`` that touch ``targets`` once per item."""
        node = self._function_node(rel, text, func)
        if node is None:
            return []
        return self._loops_under(node, rel, func.name, targets, self.eager_names(node))

    def type_names(self, rel: str, text: str) -> set[str]:
        """Capitalised names the file refers to (types, constants, classes)."""
        root = self.root(rel, text)
        kinds = self.name_kinds | frozenset({"type_identifier", "constant"})
        return {n.text() for n in self.kinds(root, kinds) if n.text()[:1].isupper()}

    def eager_in(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """Relations ``func`` loads eagerly (for the templates it renders)."""
        node = self._function_node(rel, text, func)
        return self.eager_names(node) if node is not None else set()

    def file_loops(
        self, rel: str, text: str, targets: LoopTargets, eager: set[str]
    ) -> list[LoopHit]:
        """Loops anywhere in a file (a view template turned into code)."""
        root = SgRoot(text, self.language).root()
        return self._loops_under(root, rel, rel, targets, eager)

    def _loops_under(
        self, node: SgNode, rel: str, name: str, targets: LoopTargets, eager: set[str]
    ) -> list[LoopHit]:
        hits: list[LoopHit] = []
        for inner in walk(node):
            parts = self.loop_parts(inner)
            if parts is None:
                continue
            iterable, variables, body = parts
            if self.is_constant_iterable(iterable):
                continue
            fetched = set(eager)
            if iterable is not None:
                # A query method that fetches relations eagerly (JPA JOIN FETCH, EntityGraph).
                for called in walk(iterable):
                    for eager_name in targets.eager_calls.get(self.call_name(called) or "", ()):
                        fetched |= {eager_name, "get" + eager_name[:1].upper() + eager_name[1:]}
            hit = self._first_hit(body, variables, targets, fetched)
            if hit is not None:
                reason, via, relation, confidence = hit
                line = _loop_line(inner)
                hits.append(LoopHit(rel, line, name, reason, via, relation, confidence))
        unique = {h.line: h for h in reversed(hits)}
        return sorted(unique.values(), key=lambda h: (-h.confidence, h.line))

    def _first_hit(
        self, body: SgNode, variables: set[str], targets: LoopTargets, eager: set[str]
    ) -> tuple[str, str, str | None, float] | None:
        nodes = list(walk(body))
        for node in nodes:
            access = self.relation_access(node)
            if access is None:
                continue
            name, receiver = access
            if name in targets.relations and name not in eager and receiver in variables:
                return f"`{' '.join(node.text().split())[:80]}`", "relation", name, 0.9
        for node in nodes:
            reason = self._query_reason(node, targets)
            if reason is not None:
                via = "sql" if reason.startswith("a SQL") else "model"
                return reason, via, None, 0.85
        for node in nodes:
            called = self.call_name(node)
            if called is not None and called in targets.helpers:
                return f"`{' '.join(node.text().split())[:80]}`", "helper", None, 0.75
        return None


def structural_scanners() -> dict[str, StructuralScanner]:
    """One scanner per language that ast-grep reads for us."""
    from logtriage.locate.java_code import JavaScanner
    from logtriage.locate.javascript_code import JavaScriptScanner
    from logtriage.locate.php_code import PhpScanner
    from logtriage.locate.ruby_code import RubyScanner

    return {
        "ruby": RubyScanner(),
        "javascript": JavaScriptScanner("javascript"),
        "typescript": JavaScriptScanner("typescript"),
        "tsx": JavaScriptScanner("tsx"),
        "java": JavaScanner(),
        "php": PhpScanner(),
    }
