"""Scan the code base (``--source``): a route's handler, a query shape's code, an N+1's loop.

Every file is parsed once by its language's scanner (Python's ``ast``; ast-grep's built-in
tree-sitter grammars for Ruby, JavaScript/TypeScript, Java and PHP) into facts — routes with their
mount prefixes, ORM models with their tables and relations, SQL strings, functions — and the facts
are joined here. Confidence says how a location was found: a loop that touches the relation in a
matched handler is near certain, a model declaration is only a hint.
"""

from __future__ import annotations

import dataclasses
import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Protocol

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    LoopHit,
    LoopTargets,
    ModelDecl,
    Mount,
    RelationDecl,
    RouteDecl,
    SqlLiteral,
    singular,
    snake,
)
from logtriage.locate.fixes import LoopCause
from logtriage.locate.prisma_schema import PrismaScanner
from logtriage.locate.python_code import PythonScanner, module_name
from logtriage.locate.query_shape import query_shape
from logtriage.locate.route_match import RouteMatch, best_routes
from logtriage.locate.source_tree import SourceTree
from logtriage.locate.templates import erb_to_ruby, jinja_loops
from logtriage.model.finding import Finding, Location

HOW = "source-scan"
# What makes a file worth parsing up front: a string that starts with "/" (a route), a route
# or mount declaration, an ORM model, SQL. Cheap substring tests, before any parse.
_TRIGGERS = (
    '"/', "'/", "`/", "urlpatterns", "Mapping", "Route::", "Blueprint", "APIRouter", "Router(",
    "include_router", "register_blueprint", ".use(", "Model", "__tablename__", "Record",
    "@Entity", "define(", "belongsTo", "hasMany", "has_many", "belongs_to", "relationship",
    "Controller",
)  # fmt: skip
_SQL_WORDS = re.compile(r"\b(?:select|insert\s+into|update|delete\s+from|with)\s", re.IGNORECASE)
_ROUTE_FILES = frozenset({"routes.rb", "urls.py"})
# Functions searched for an N+1 loop when no route leads to a handler (database logs only).
MAX_FUNCTIONS_WITHOUT_ROUTE = 400
_JS_EXTENSIONS = (".js", ".ts", ".mjs", ".cjs", ".jsx", ".tsx", "/index.js", "/index.ts")


class LanguageScanner(Protocol):
    """What each language module provides to the scan."""

    language: str

    def scan(self, rel: str, text: str) -> FileFacts:
        """The facts of one file."""
        ...

    def loops(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> list[LoopHit]:
        """Loops in ``func`` that run the target query once per item."""
        ...

    def calls(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """Names of the functions ``func`` calls."""
        ...

    def queries(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> bool:
        """True when ``func`` runs the target query itself."""
        ...

    def eager_in(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """Relations ``func`` loads eagerly."""
        ...

    def type_names(self, rel: str, text: str) -> set[str]:
        """Class names a file refers to (to find the files they are defined in)."""
        ...

    def file_loops(
        self, rel: str, text: str, targets: LoopTargets, eager: set[str]
    ) -> list[LoopHit]:
        """Loops anywhere in a file of this language (a view template turned into code)."""
        ...


def _scanners() -> tuple[dict[str, LanguageScanner], str | None]:
    """The scanner of each language; the structural ones only when ast-grep-py is installed."""
    out: dict[str, LanguageScanner] = {"python": PythonScanner(), "prisma": PrismaScanner()}
    try:
        from logtriage.locate.structural_code import structural_scanners
    except ImportError:
        return out, "ast-grep-py is not installed (pip install 'logtriage[source]')"
    out.update(structural_scanners())
    return out, None


@dataclass
class SourceIndex:
    """The facts of every file of a source tree, joined."""

    tree: SourceTree
    scanners: dict[str, LanguageScanner] = field(default_factory=dict)
    facts: dict[str, FileFacts] = field(default_factory=dict)
    routes: list[RouteDecl] = field(default_factory=list)
    models: list[ModelDecl] = field(default_factory=list)
    functions: list[FunctionDecl] = field(default_factory=list)
    sql: list[SqlLiteral] = field(default_factory=list)
    # Relations declared on a model by name from elsewhere: (owner model name, relation).
    associations: list[tuple[str, RelationDecl]] = field(default_factory=list)
    eager_methods: dict[str, frozenset[str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    parsed_on_demand: int = 0
    _modules: dict[str, list[str]] = field(default_factory=dict)
    _files: set[str] = field(default_factory=set)
    _stems: dict[str, list[str]] = field(default_factory=dict)
    # Files not parsed up front (nothing in them declares routes, models or SQL).
    _pending: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, tree: SourceTree) -> SourceIndex:
        """Parse the files that declare routes, models or SQL, once, and join the facts.

        The other files are parsed only when a finding needs them (a handler's module, a
        helper it imports); parsing stops at the tree's time budget.
        """
        scanners, missing = _scanners()
        index = cls(tree, scanners)
        index._files = set(tree.files)
        unparsed: dict[str, int] = {}
        deadline = time.monotonic() + tree.limits.max_seconds
        for rel in tree.files:
            language = tree.language(rel)
            if language == "python":
                parts = module_name(rel).split(".")
                for start in range(len(parts)):
                    index._modules.setdefault(".".join(parts[start:]), []).append(rel)
            scanner = scanners.get(language)
            if scanner is None:
                unparsed[language] = unparsed.get(language, 0) + 1
                continue
            if time.monotonic() > deadline:
                tree.skipped["time_budget"] = tree.skipped.get("time_budget", 0) + 1
                index._pending.add(rel)
                continue
            text = tree.text(rel)
            if text is None:
                continue
            if not _worth_parsing(rel, text):
                index._pending.add(rel)
                continue
            index._add(rel, index._scan(scanner, rel, text))
        for language, n in sorted(unparsed.items()):
            tree.skipped[f"no_parser_{language}"] = n
        if missing and unparsed:
            index.notes.append(missing)
        index._join()
        return index

    def _scan(self, scanner: LanguageScanner, rel: str, text: str) -> FileFacts:
        """One file's facts; a file a parser chokes on is counted and left out, not fatal."""
        try:
            return scanner.scan(rel, text)
        except Exception:  # any parser failure on one odd file must not sink the report
            self.tree.skipped["unparsable"] = self.tree.skipped.get("unparsable", 0) + 1
            return FileFacts()

    def _add(self, rel: str, facts: FileFacts) -> None:
        self.facts[rel] = facts
        self.models.extend(facts.models)
        self.functions.extend(facts.functions)
        self.sql.extend(facts.sql)
        self.associations.extend(facts.associations)
        for model in facts.models:
            self.associations.extend(model.backrefs)
        for method, names in facts.eager_methods.items():
            self.eager_methods[method] = self.eager_methods.get(method, frozenset()) | names

    def ensure(self, rel: str | None) -> None:
        """Parse a file left out of the first pass, now that a finding needs it."""
        if rel is None or rel not in self._pending:
            return
        self._pending.discard(rel)
        scanner = self.scanners.get(self.tree.language(rel))
        text = self.tree.text(rel)
        if scanner is not None and text is not None:
            self._add(rel, self._scan(scanner, rel, text))
            self.parsed_on_demand += 1

    def files_named(self, type_name: str) -> list[str]:
        """Files named after a class: ``ArticleService.java``, ``article_service.rb``."""
        if not self._stems:
            for rel in self.tree.files:
                stem = PurePosixPath(rel).stem.replace("_", "").replace("-", "").lower()
                self._stems.setdefault(stem, []).append(rel)
        return self._stems.get(type_name.replace("_", "").lower(), [])[:3]

    def imported_file(self, rel: str, name: str) -> str | None:
        """The project file that ``name`` is imported from in ``rel`` (Python, JavaScript)."""
        facts = self.facts.get(rel)
        if facts is None or name not in facts.imports:
            return None
        source, _ = facts.imports[name]
        if source.startswith("js:"):
            return self._js_file(source[3:])
        return self._module_file(source)

    def _resolve_key(self, key: str) -> str:
        """``py:blog.urls::urlpatterns`` / ``js:routes/users::router`` → ``<file>::<name>``."""
        if key.startswith("py:"):
            module, _, name = key[3:].partition("::")
            rel = self._module_file(module)
            return f"{rel}::{name}" if rel else key
        if key.startswith("js:"):
            base, _, name = key[3:].partition("::")
            rel = self._js_file(base)
            return f"{rel}::{name}" if rel else key
        return key

    def _module_file(self, module: str) -> str | None:
        files = self._modules.get(module, [])
        return min(files, key=len) if files else None

    def _js_file(self, base: str) -> str | None:
        if base in self._files:
            return base
        return next((base + ext for ext in _JS_EXTENSIONS if base + ext in self._files), None)

    def _join(self) -> None:
        mounts: dict[str, list[Mount]] = {}
        for facts in self.facts.values():
            for m in facts.mounts:
                parent = self._resolve_key(m.parent) if m.parent else None
                resolved = dataclasses.replace(m, key=self._resolve_key(m.key), parent=parent)
                mounts.setdefault(resolved.key, []).append(resolved)
        for facts in self.facts.values():
            for route in facts.routes:
                key = self._resolve_key(route.mount_key) if route.mount_key else None
                for prefix in _prefixes(key, mounts, 0):
                    self.routes.append(_prefixed(route, prefix))

    def handler_function(self, decl: RouteDecl) -> FunctionDecl | None:
        """The function that handles a declared route."""
        path = decl.handler_path
        if path is not None and path.startswith("py:"):
            path = self._module_file(path[3:]) or None
        if path is not None and path.startswith("js:"):
            path = self._js_file(path[3:].partition("::")[0])
        self.ensure(path)
        self.ensure(decl.path)
        funcs = self.functions
        if decl.handler_line is not None and path is not None:
            found = [f for f in funcs if f.path == path and f.line == decl.handler_line]
            if found:
                return found[0]
        if decl.handler is None and decl.handler_owner is None:
            return None
        named = [
            f
            for f in funcs
            if (decl.handler is None or f.name == decl.handler)
            and (decl.handler_owner is None or f.owner == decl.handler_owner)
        ]
        if decl.handler is None:  # a class-based view: the method of the request's verb
            verbs = {m.lower() for m in decl.methods} or {"get"}
            named = [f for f in named if f.name in verbs] or named
        if not named:
            return None
        same = [f for f in named if f.path == path] or [f for f in named if f.path == decl.path]
        near = sorted(named, key=lambda f: (-_shared_prefix(f.path, decl.path), f.path, f.line))
        return (same or near)[0]

    def text(self, rel: str) -> str:
        """A scanned file's text."""
        return self.tree.text(rel) or ""

    def scanner_of(self, rel: str) -> LanguageScanner | None:
        """The scanner that read ``rel``."""
        return self.scanners.get(self.tree.language(rel))

    def models_of(self, table: str) -> list[ModelDecl]:
        """Models mapped to ``table`` (exactly, else by the ORM's naming convention)."""
        exact = [m for m in self.models if m.table == table]
        if exact:
            return exact
        names = {table, singular(table)}
        return [m for m in self.models if snake(m.name) in names or m.name.lower() in names]

    def relations_to(self, models: list[ModelDecl]) -> list[tuple[ModelDecl, RelationDecl]]:
        """(owner model, relation) pairs whose relation points at one of ``models``."""
        names = {m.name for m in models} | {m.table for m in models}
        by_name = {m.name: m for m in self.models}
        out = [(m, r) for m in self.models for r in m.relations if r.target in names]
        for owner_name, relation in self.associations:
            owner = by_name.get(owner_name)
            if owner is not None and relation.target in names:
                out.append((owner, relation))
        return out


def _worth_parsing(rel: str, text: str) -> bool:
    """A file that may declare routes, mounts, models or SQL (the rest is parsed on demand)."""
    path = PurePosixPath(rel)
    if path.name in _ROUTE_FILES or path.suffix == ".prisma" or "/routes/" in f"/{rel}":
        return True
    return any(word in text for word in _TRIGGERS) or bool(_SQL_WORDS.search(text))


def _shared_prefix(a: str, b: str) -> int:
    n = 0
    for x, y in zip(PurePosixPath(a).parts, PurePosixPath(b).parts, strict=False):
        if x != y:
            break
        n += 1
    return n


def _prefixes(key: str | None, mounts: dict[str, list[Mount]], depth: int) -> list[str]:
    """Every full prefix of a mount key (chains of includes), ``[""]`` when it is not mounted."""
    if key is None or depth > 6 or key not in mounts:
        return [""]
    own = mounts[key]
    replacing = [m for m in own if m.replaces]
    chosen = replacing or own
    out: list[str] = []
    for mount in chosen:
        for before in _prefixes(mount.parent, mounts, depth + 1):
            out.append(_join_path(before, mount.prefix))
    return list(dict.fromkeys(out)) or [""]


def _join_path(prefix: str, pattern: str) -> str:
    if not prefix:
        return pattern
    return prefix.rstrip("/") + "/" + pattern.lstrip("/")


def _prefixed(route: RouteDecl, prefix: str) -> RouteDecl:
    if not prefix:
        return route
    if route.regex is not None:
        regex = "^" + re.escape(prefix.lstrip("/")) + route.regex.lstrip("^")
        return dataclasses.replace(route, regex=regex)
    return dataclasses.replace(route, pattern=_join_path(prefix, route.pattern))


@dataclass(frozen=True)
class ScanResult:
    """The locations the scan found for one finding, and the N+1's cause when it found a loop."""

    locations: list[Location]
    cause: LoopCause | None = None


def _loop_targets(
    index: SourceIndex, table: str
) -> tuple[LoopTargets, list[ModelDecl], dict[str, tuple[ModelDecl, RelationDecl]]]:
    models = index.models_of(table)
    relations = {r.name: (owner, r) for owner, r in index.relations_to(models) if not r.eager}
    names = set(relations)
    if not models:
        # No model known: the relation is most likely named after the table.
        names |= {singular(table), table}
    for owner, r in list(relations.values()):
        if owner.orm in ("jpa", "sequelize"):  # relations read through getters
            getter = "get" + r.name[:1].upper() + r.name[1:]
            names.add(getter)
            relations[getter] = (owner, r)
    model_names = {m.name for m in models}
    # Spring Data code queries a model through its repository (``authorRepository``).
    model_names |= {f"{m.name[:1].lower()}{m.name[1:]}Repository" for m in models if m.orm == "jpa"}
    targets = LoopTargets(
        relations=frozenset(names),
        models=frozenset(model_names),
        tables=frozenset({table}),
        helpers=frozenset(),
        eager_calls=index.eager_methods,
    )
    return targets, models, relations


def _helpers(
    index: SourceIndex, func: FunctionDecl, targets: LoopTargets
) -> tuple[frozenset[str], list[FunctionDecl]]:
    """Project functions the handler calls: those that run the query, and all of them."""
    scanner = index.scanner_of(func.path)
    if scanner is None:
        return frozenset(), []
    text = index.text(func.path)
    called = scanner.calls(func.path, text, func)
    for name in sorted(called)[:50]:  # helpers in files the first pass did not need
        index.ensure(index.imported_file(func.path, name))
    # Classes the handler's file names (an injected ``ArticleService``, ``FeedBuilder``) live,
    # by convention, in a file named after them: parse those too.
    for name in sorted(scanner.type_names(func.path, text))[:50]:
        for rel in index.files_named(name):
            index.ensure(rel)
    querying: set[str] = set()
    callees: list[FunctionDecl] = []
    for f in index.functions:
        if f.name not in called or f == func or len(callees) >= 20:
            continue
        callees.append(f)
        callee_scanner = index.scanner_of(f.path)
        if callee_scanner is not None and callee_scanner.queries(
            f.path, index.text(f.path), f, targets
        ):
            querying.add(f.name)
    return frozenset(querying), callees


def _loops_in(
    index: SourceIndex, func: FunctionDecl, targets: LoopTargets, scale: float
) -> list[LoopHit]:
    scanner = index.scanner_of(func.path)
    if scanner is None:
        return []
    try:
        hits = scanner.loops(func.path, index.text(func.path), func, targets)
    except Exception:  # an odd file must not sink the report: no loop found there
        return []
    return [dataclasses.replace(h, confidence=h.confidence * scale) for h in hits]


def _templates_of(index: SourceIndex, func: FunctionDecl) -> list[str]:
    """The view templates a handler renders: named in a render call, or Rails' convention."""
    scanner = index.scanner_of(func.path)
    if isinstance(scanner, PythonScanner):
        names = scanner.rendered_templates(func.path, index.text(func.path), func)
        return [t for n in names for t in index.tree.templates if t == n or t.endswith("/" + n)][:5]
    marker = "app/controllers/"
    if func.path.endswith("_controller.rb") and marker in func.path:
        # ArticlesController#index renders app/views/articles/index.html.erb
        base, _, controller = func.path.rpartition(marker)
        stem = f"{base}app/views/{controller[: -len('_controller.rb')]}/{func.name}."
        return [t for t in index.tree.templates if t.startswith(stem) and t.endswith(".erb")]
    return []


def _template_loops(
    index: SourceIndex, func: FunctionDecl, targets: LoopTargets, scale: float
) -> list[LoopHit]:
    """N+1 loops in the templates the handler renders (relations it did not load eagerly)."""
    templates = _templates_of(index, func)
    scanner = index.scanner_of(func.path)
    if not templates or scanner is None:
        return []
    try:
        eager = scanner.eager_in(func.path, index.text(func.path), func)
        hits: list[LoopHit] = []
        for template in templates:
            text = index.tree.text(template)
            if text is None or len(text) > index.tree.limits.max_file_bytes:
                continue
            if template.endswith(".erb"):
                ruby = index.scanners.get("ruby")
                if ruby is not None:
                    hits += ruby.file_loops(template, erb_to_ruby(text), targets, eager)
            else:
                hits += jinja_loops(template, text, targets, eager)
    except Exception:  # an odd template must not sink the report: no loop found there
        return []
    return [dataclasses.replace(h, confidence=h.confidence * scale) for h in hits]


def _cause(
    hit: LoopHit,
    models: list[ModelDecl],
    relations: dict[str, tuple[ModelDecl, RelationDecl]],
    handler: FunctionDecl | None,
) -> LoopCause:
    owner, relation = relations.get(hit.relation or "", (None, None))
    return LoopCause(hit, owner, relation, models[0] if models else None, handler)


def find_loops(index: SourceIndex, finding: Finding, handlers: list[RouteMatch]) -> list[LoopCause]:
    """The loops that issue an N+1's query: in the handler, in what it calls, or anywhere."""
    table = query_shape(finding.fingerprint or "").table
    if table is None:
        return []
    targets, models, relations = _loop_targets(index, table)
    known = 1.0 if models else 0.8
    hits: list[LoopHit] = []
    handler_of: dict[tuple[str, int], FunctionDecl] = {}
    for match in handlers:
        func = index.handler_function(match.decl)
        if func is None:
            continue
        helpers, callees = _helpers(index, func, targets)
        with_helpers = dataclasses.replace(targets, helpers=helpers)
        scale = known * (0.5 + 0.5 * match.score)
        found = _loops_in(index, func, with_helpers, scale)
        for callee in callees:  # the loop may sit in a function the handler calls
            found += _loops_in(index, callee, targets, scale * 0.9)
        found += _template_loops(index, func, targets, scale * 0.95)
        for hit in found:
            handler_of.setdefault((hit.path, hit.line), func)
        hits += found
    if not hits and not handlers:
        # No route (database logs alone): any function with such a loop, at lower confidence.
        words = set(targets.relations) | set(targets.models)
        searched = 0
        for func in index.functions:
            if searched >= MAX_FUNCTIONS_WITHOUT_ROUTE:
                break
            text = index.text(func.path)
            if not any(w in text for w in words):
                continue
            searched += 1
            hits += _loops_in(index, func, targets, known * 0.6)
    unique = {(h.path, h.line): h for h in sorted(hits, key=lambda h: h.confidence)}
    ranked = sorted(unique.values(), key=lambda h: (-h.confidence, h.path, h.line))
    return [_cause(h, models, relations, handler_of.get((h.path, h.line))) for h in ranked]


def _handler_locations(index: SourceIndex, handlers: list[RouteMatch]) -> list[Location]:
    out: list[Location] = []
    for match in handlers:
        func = index.handler_function(match.decl)
        if func is not None:
            out.append(Location(func.path, func.line, HOW, round(0.7 * match.score, 2)))
        else:
            out.append(Location(match.decl.path, match.decl.line, HOW, round(0.5 * match.score, 2)))
    return out


def _query_locations(index: SourceIndex, fingerprint: str) -> list[Location]:
    """Raw SQL strings with the fingerprint's tables and columns, then the models of its table."""
    shape = query_shape(fingerprint)
    if not shape.tables:
        return []
    out: list[Location] = []
    scored: list[tuple[float, SqlLiteral]] = []
    for literal in index.sql:
        words = set(re.findall(r"[a-z_][a-z0-9_$]*", literal.text))
        if not all(t in words for t in shape.tables):
            continue
        columns = len(shape.columns & words) / len(shape.columns) if shape.columns else 1.0
        scored.append((0.4 + 0.3 * columns, literal))
    scored.sort(key=lambda s: (-s[0], s[1].path, s[1].line))
    out += [Location(lit.path, lit.line, HOW, round(score, 2)) for score, lit in scored[:3]]
    for model in index.models_of(shape.tables[0])[:2]:
        out.append(Location(model.path, model.line, HOW, 0.3))
    return out


def scan_finding(index: SourceIndex, finding: Finding) -> ScanResult:
    """Source locations for one finding, best first, and the N+1 loop's cause when found."""
    handlers = best_routes(finding.route, index.routes) if finding.route else []
    locations: list[Location] = []
    cause: LoopCause | None = None
    if finding.fingerprint is not None and finding.code in ("P001", "P002", "P007"):
        causes = find_loops(index, finding, handlers)
        locations += [
            Location(c.hit.path, c.hit.line, HOW, round(c.hit.confidence, 2)) for c in causes
        ]
        cause = causes[0] if causes else None
    locations += _handler_locations(index, handlers)
    if finding.fingerprint is not None and not locations:
        locations += _query_locations(index, finding.fingerprint)
    return ScanResult(locations, cause)


def scan_stats(index: SourceIndex) -> dict[str, object]:
    """What the scan read, for the report."""
    stats = index.tree.stats()
    stats.update(
        parsed=len(index.facts),
        parsed_on_demand=index.parsed_on_demand,
        routes=len(index.routes),
        models=len(index.models),
        sql_strings=len(index.sql),
    )
    if index.notes:
        stats["notes"] = list(index.notes)
    return stats
