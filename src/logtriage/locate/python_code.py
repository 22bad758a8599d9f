"""Python code read with the stdlib's ``ast``: routes, models, SQL strings and per-item loops.

Flask/FastAPI decorators and blueprints/routers, Django ``urls.py`` (``path``/``re_path`` and
``include``), SQLAlchemy and Django models with their relations, and the loops of a handler that
run a query once per item.
"""

from __future__ import annotations

import ast
import re
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import PurePosixPath

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
    looks_like_sql,
    plural,
    singular,
    snake,
)

# Parsed trees kept between the scan and the loop search (a module's tree weighs ~100× its text).
_CACHED_TREES = 64
# A string literal that starts like a SQL statement: only then are the expressions walked.
_SQL_STRING = re.compile(r"""['"]\s*(?:select|insert|update|delete|with)\s""", re.IGNORECASE)
# Calls that render a template by name (Flask, Django, Starlette/FastAPI, Jinja).
_RENDERERS = frozenset(
    {"render_template", "render", "render_to_response", "render_to_string", "TemplateResponse",
     "get_template"}
)  # fmt: skip
_TEMPLATE_ENDINGS = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".txt", ".xml")
_HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")
_EAGER_LOADERS = frozenset(
    {"selectinload", "joinedload", "subqueryload", "contains_eager", "immediateload",
     "select_related", "prefetch_related", "Prefetch"}
)  # fmt: skip
_EAGER_LAZY = frozenset({"joined", "selectin", "subquery", "immediate"})
_TO_ONE_FIELDS = frozenset({"ForeignKey", "OneToOneField"})
_TO_MANY_FIELDS = frozenset({"ManyToManyField"})


def module_name(rel: str) -> str:
    """``blog/views.py`` → ``blog.views``; ``blog/__init__.py`` → ``blog``."""
    parts = list(PurePosixPath(rel).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _const_str(node: ast.AST | None) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _kw(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _callee(call: ast.Call) -> str | None:
    """The called name: ``relationship`` for ``db.relationship(...)``."""
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _dotted(node: ast.AST) -> str | None:
    """``users.router`` for an attribute chain of names."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _methods(call: ast.Call, default: tuple[str, ...]) -> tuple[str, ...]:
    node = _kw(call, "methods")
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        found = tuple(s.upper() for e in node.elts if (s := _const_str(e)))
        return found or default
    return default


class PythonScanner:
    """Reads Python files; keeps each parsed tree for the loop search that follows."""

    language = "python"

    def __init__(self) -> None:
        self._trees: OrderedDict[str, ast.Module | None] = OrderedDict()

    def tree(self, rel: str, text: str) -> ast.Module | None:
        """The parsed module (a few kept in cache); None when it does not parse."""
        if rel in self._trees:
            self._trees.move_to_end(rel)
            return self._trees[rel]
        try:
            tree: ast.Module | None = ast.parse(text, filename=rel)
        except (SyntaxError, ValueError, RecursionError):
            tree = None
        self._trees[rel] = tree
        if len(self._trees) > _CACHED_TREES:
            self._trees.popitem(last=False)
        return tree

    def scan(self, rel: str, text: str) -> FileFacts:
        """Routes, mounts, models, functions and SQL strings of one file."""
        facts = FileFacts()
        tree = self.tree(rel, text)
        if tree is None:
            return facts
        self._imports(tree, rel, facts)
        for top in tree.body:
            if isinstance(top, ast.ClassDef):
                model = _model(top, rel)
                if model is not None:
                    facts.models.append(model)
        # Routes, mounts and functions are statements: walking statements only (not every
        # expression) keeps the scan of a big code base short.
        for owner, node in _statements(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                end = node.end_lineno or node.lineno
                facts.functions.append(FunctionDecl(node.name, owner, rel, node.lineno, end))
                if owner is None:
                    facts.routes.extend(_decorator_routes(node, rel))
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                self._assignment(node, rel, facts)
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                if node.target.id == "urlpatterns":  # urlpatterns += [...]
                    self._urlpatterns(node.value, rel, facts)
            elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
                self._registration(node.value, rel, facts)
        if _SQL_STRING.search(text):
            for inner in ast.walk(tree):
                if isinstance(inner, ast.Constant) and isinstance(inner.value, str):
                    if looks_like_sql(inner.value):
                        facts.sql.append(SqlLiteral(inner.value.lower(), rel, inner.lineno))
                elif isinstance(inner, ast.JoinedStr):
                    joined = "".join(_const_str(v) or " ? " for v in inner.values)
                    if looks_like_sql(joined):
                        facts.sql.append(SqlLiteral(joined.lower(), rel, inner.lineno))
        return facts

    def _imports(self, tree: ast.Module, rel: str, facts: FileFacts) -> None:
        package = module_name(rel).split(".")
        if not rel.endswith("__init__.py"):
            package = package[:-1]
        # Imports sit at the top level or one block down (``try:``, ``if TYPE_CHECKING:``, a
        # function body); the scan's single pass needs them first, so they are read apart.
        shallow = [n for top in tree.body for n in (top, *ast.iter_child_nodes(top))]
        for node in shallow:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    local = alias.asname or alias.name.split(".")[0]
                    target = alias.name if alias.asname else alias.name.split(".")[0]
                    facts.imports[local] = (target, None)
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
                for alias in node.names:
                    local = alias.asname or alias.name
                    # ``from . import views``: a module; ``from .views import bp``: a name.
                    facts.imports[local] = (module, alias.name)

    def _ref(self, node: ast.AST, rel: str, facts: FileFacts) -> str | None:
        """A mount key for a blueprint/router expression: this file's, or an imported one's."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        if head in facts.imports:
            module, name = facts.imports[head]
            if rest:  # ``users.router`` with ``from app.routers import users``
                module = f"{module}.{name}" if name else module
                return f"py:{module}::{rest}"
            if name is not None:  # ``bp`` with ``from .views import bp``
                return f"py:{module}::{name}"
        return f"{rel}::{dotted}"

    def _assignment(self, node: ast.Assign, rel: str, facts: FileFacts) -> None:
        target = node.targets[0]
        value = node.value
        if isinstance(target, ast.Name) and isinstance(value, ast.Call):
            kind = _callee(value)
            if kind == "Blueprint":
                prefix = _const_str(_kw(value, "url_prefix"))
                if prefix:
                    facts.mounts.append(Mount(f"{rel}::{target.id}", prefix))
            elif kind == "APIRouter":
                prefix = _const_str(_kw(value, "prefix"))
                if prefix:
                    facts.mounts.append(Mount(f"{rel}::{target.id}", prefix))
        if isinstance(target, ast.Name) and target.id == "urlpatterns":
            self._urlpatterns(value, rel, facts)

    def _registration(self, call: ast.Call, rel: str, facts: FileFacts) -> None:
        kind = _callee(call)
        if kind in ("register_blueprint", "include_router") and call.args:
            key = self._ref(call.args[0], rel, facts)
            prefix = _const_str(
                _kw(call, "url_prefix" if kind == "register_blueprint" else "prefix")
            )
            parent = (
                self._ref(call.func.value, rel, facts)
                if isinstance(call.func, ast.Attribute)
                else None
            )
            if key and prefix:
                facts.mounts.append(
                    Mount(key, prefix, parent=parent, replaces=kind == "register_blueprint")
                )
        elif kind == "add_url_rule" and call.args and isinstance(call.func, ast.Attribute):
            pattern = _const_str(call.args[0])
            view = _kw(call, "view_func") or (call.args[2] if len(call.args) > 2 else None)
            name = _dotted(view) if view is not None else None
            if pattern is not None and name:
                receiver = _dotted(call.func.value) or "app"
                facts.routes.append(
                    RouteDecl(
                        _methods(call, ("GET",)), pattern, rel, call.lineno, "flask",
                        handler=name.rsplit(".", 1)[-1], mount_key=f"{rel}::{receiver}",
                    )
                )  # fmt: skip

    def _urlpatterns(self, value: ast.expr, rel: str, facts: FileFacts) -> None:
        """Django ``urlpatterns = [path(...), re_path(...), path('x/', include('app.urls'))]``."""
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else []
        for item in items:
            if not isinstance(item, ast.Call) or _callee(item) not in ("path", "re_path", "url"):
                continue
            if len(item.args) < 2:
                continue
            pattern = _const_str(item.args[0])
            if pattern is None:
                continue
            is_regex = _callee(item) != "path"
            view = item.args[1]
            if isinstance(view, ast.Call) and _callee(view) == "include" and view.args:
                first = view.args[0]
                if isinstance(first, ast.Tuple) and first.elts:
                    first = first.elts[0]
                module = _const_str(first) or _dotted(first)
                if module:
                    if module in facts.imports:
                        base, member = facts.imports[module]
                        module = f"{base}.{member}" if member else base
                    prefix = pattern.lstrip("^").rstrip("$") if is_regex else pattern
                    facts.mounts.append(
                        Mount(f"py:{module}::urlpatterns", prefix, parent=f"{rel}::urlpatterns")
                    )
                continue
            owner = None
            if isinstance(view, ast.Call) and _callee(view) == "as_view":
                view = view.func.value if isinstance(view.func, ast.Attribute) else view
                owner = _dotted(view)
            name = owner or _dotted(view)
            if not name:
                continue
            head, _, rest = name.partition(".")
            handler_path = None
            if head in facts.imports:
                source, imported = facts.imports[head]
                if rest:
                    handler_path = f"py:{source}.{imported}" if imported else f"py:{source}"
                elif imported is not None:
                    handler_path = f"py:{source}"
            local = name.rsplit(".", 1)[-1]
            facts.routes.append(
                RouteDecl(
                    (),
                    pattern if not is_regex else "",
                    rel,
                    item.lineno,
                    "django",
                    handler=None if owner else local,
                    handler_owner=local if owner else None,
                    handler_path=handler_path,
                    regex=pattern if is_regex else None,
                    mount_key=f"{rel}::urlpatterns",
                )
            )

    def loops(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> list[LoopHit]:
        """Loops in ``func`` (or its class's methods) that touch ``targets`` once per item."""
        tree = self.tree(rel, text)
        if tree is None:
            return []
        hits: list[LoopHit] = []
        for _, node in _functions(tree):
            if node.lineno == func.line:
                hits.extend(_loop_hits(node, rel, targets))
        unique = {(h.line, h.via): h for h in hits}
        return sorted(unique.values(), key=lambda h: (-h.confidence, h.line))

    def file_loops(
        self, rel: str, text: str, targets: LoopTargets, eager: set[str]
    ) -> list[LoopHit]:
        """Python has no templates of its own kind: nothing."""
        return []

    def type_names(self, rel: str, text: str) -> set[str]:
        """Python finds its helpers through imports: nothing by name."""
        return set()

    def eager_in(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """Relations ``func`` loads eagerly (for the templates it renders)."""
        node = self._function(rel, text, func)
        return _eager_relations(node) if node is not None else set()

    def rendered_templates(self, rel: str, text: str, func: FunctionDecl) -> list[str]:
        """Template names ``func`` renders (``render_template``, ``render``, ``TemplateResponse``).

        A class-based view's ``template_name`` counts too.
        """
        node = self._function(rel, text, func)
        tree = self.tree(rel, text)
        names: list[str] = []
        if node is not None:
            for call in (c for c in ast.walk(node) if isinstance(c, ast.Call)):
                if _callee(call) in _RENDERERS:
                    names += [s for a in call.args[:2] if (s := _const_str(a))][:1]
                    names += [s for k in call.keywords if k.arg in ("template_name", "name")
                              if (s := _const_str(k.value))]  # fmt: skip
        if func.owner is not None and tree is not None:
            for cls in (n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)):
                if cls.name == func.owner:
                    names += [
                        s for name, value, _ in _fields(cls)
                        if name == "template_name" and (s := _const_str(value))
                    ]  # fmt: skip
        return [n for n in names if n.endswith(_TEMPLATE_ENDINGS)]

    def _function(
        self, rel: str, text: str, func: FunctionDecl
    ) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        tree = self.tree(rel, text)
        if tree is None:
            return None
        return next((n for _, n in _functions(tree) if n.lineno == func.line), None)

    def calls(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """Names of the functions that ``func`` calls (to follow the loop into helpers)."""
        tree = self.tree(rel, text)
        out: set[str] = set()
        if tree is None:
            return out
        for _, node in _functions(tree):
            if node.lineno == func.line:
                out.update(
                    n for c in ast.walk(node) if isinstance(c, ast.Call) if (n := _callee(c))
                )
        return out

    def queries(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> bool:
        """True when ``func`` itself queries the target models or tables (a per-item helper)."""
        tree = self.tree(rel, text)
        if tree is None:
            return False
        for _, node in _functions(tree):
            if node.lineno == func.line:
                return any(_query_reason(n, targets) for n in ast.walk(node))
        return False


def _statements(tree: ast.Module) -> Iterator[tuple[str | None, ast.stmt]]:
    """Every statement, nested ones included, with the class it sits in."""
    stack: list[tuple[str | None, list[ast.stmt]]] = [(None, tree.body)]
    while stack:
        owner, block = stack.pop()
        for node in block:
            yield owner, node
            inner = node.name if isinstance(node, ast.ClassDef) else owner
            for name in ("body", "orelse", "finalbody"):
                children = getattr(node, name, None)
                if isinstance(children, list) and children:
                    stack.append((inner, children))
            for handler in getattr(node, "handlers", ()):
                stack.append((inner, handler.body))
            for case in getattr(node, "cases", ()):
                stack.append((inner, case.body))


def _functions(
    tree: ast.Module,
) -> Iterator[tuple[str | None, ast.FunctionDef | ast.AsyncFunctionDef]]:
    """Every function with its class (methods) — nested functions included."""

    def visit(
        node: ast.AST, owner: str | None
    ) -> Iterator[tuple[str | None, ast.FunctionDef | ast.AsyncFunctionDef]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                yield from visit(child, child.name)
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield owner, child
                yield from visit(child, owner)
            else:
                yield from visit(child, owner)

    yield from visit(tree, None)


def _decorator_routes(func: ast.FunctionDef | ast.AsyncFunctionDef, rel: str) -> list[RouteDecl]:
    """``@app.route('/x', methods=[...])``, ``@bp.get('/x')``, ``@router.post('/x')``."""
    out: list[RouteDecl] = []
    for deco in func.decorator_list:
        if not isinstance(deco, ast.Call) or not isinstance(deco.func, ast.Attribute):
            continue
        verb = deco.func.attr
        pattern = _const_str(deco.args[0]) if deco.args else _const_str(_kw(deco, "path"))
        if pattern is None:
            pattern = _const_str(_kw(deco, "rule"))
        if pattern is None:
            continue
        if verb == "route":
            methods, framework = _methods(deco, ("GET",)), "flask"
        elif verb == "api_route":
            methods, framework = _methods(deco, ("GET",)), "fastapi"
        elif verb in _HTTP_METHODS:
            methods, framework = (verb.upper(),), "flask/fastapi"
        else:
            continue
        receiver = _dotted(deco.func.value) or "app"
        out.append(
            RouteDecl(
                methods, pattern, rel, deco.lineno, framework, handler=func.name,
                handler_path=rel, mount_key=f"{rel}::{receiver}",
            )
        )  # fmt: skip
    return out


def _bases(node: ast.ClassDef) -> list[str]:
    return [d for b in node.bases if (d := _dotted(b))]


def _model(node: ast.ClassDef, rel: str) -> ModelDecl | None:
    """A SQLAlchemy or Django model class, with its table and relations."""
    bases = _bases(node)
    body_names = {
        t.id: stmt.value
        for stmt in node.body
        if isinstance(stmt, ast.Assign)
        for t in stmt.targets
        if isinstance(t, ast.Name)
    }
    if (
        any(b in ("models.Model", "Model") and "db.Model" not in bases for b in bases)
        and ("models.Model" in bases or rel.endswith("models.py") or "/models/" in rel)
        and "__tablename__" not in body_names
    ):
        return _django_model(node, rel)
    table = _const_str(body_names.get("__tablename__"))
    if table is None:
        if not any(b in ("db.Model", "Model", "Base") or b.endswith(".Model") for b in bases):
            return None
        has_columns = any(
            isinstance(v, ast.Call) and _callee(v) in ("Column", "mapped_column")
            for v in _values(node)
        )
        if not has_columns:
            return None
        table = snake(node.name)  # Flask-SQLAlchemy's default table name
    relations: list[RelationDecl] = []
    backrefs: list[tuple[str, RelationDecl]] = []
    for name, value, annotation in _fields(node):
        if not isinstance(value, ast.Call) or _callee(value) != "relationship":
            continue
        target = _const_str(value.args[0]) if value.args else None
        if target is None and value.args and isinstance(value.args[0], ast.Name):
            target = value.args[0].id
        many = False
        if annotation is not None:
            text = ast.unparse(annotation)
            many = any(w in text for w in ("List[", "list[", "Set[", "set[", "Collection["))
            if target is None:
                target = text.split("[")[-1].strip("]'\" ")
        uselist = _kw(value, "uselist")
        if isinstance(uselist, ast.Constant):
            many = bool(uselist.value)
        elif annotation is None:
            # Untyped: an association table, or a plural name (``tags``), says to-many.
            many = _kw(value, "secondary") is not None or (
                singular(name) != name and plural(singular(name)) == name
            )
        lazy = _const_str(_kw(value, "lazy"))
        if not target:
            continue
        target = target.split(".")[-1]
        relations.append(
            RelationDecl(name, target, value.lineno, "to-many" if many else "to-one",
                         lazy in _EAGER_LAZY)
        )  # fmt: skip
        back = _const_str(_kw(value, "backref"))
        if back is None and isinstance(backref := _kw(value, "backref"), ast.Call):
            back = _const_str(backref.args[0]) if backref.args else None
        if back:
            kind = "to-one" if many else "to-many"
            backrefs.append((target, RelationDecl(back, node.name, value.lineno, kind)))
    return ModelDecl(
        node.name, table.lower(), rel, node.lineno, "sqlalchemy", tuple(relations), tuple(backrefs)
    )


def _values(node: ast.ClassDef) -> Iterator[ast.expr]:
    for stmt in node.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
            yield stmt.value


def _fields(node: ast.ClassDef) -> Iterator[tuple[str, ast.expr, ast.expr | None]]:
    for stmt in node.body:
        if (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
        ):
            yield stmt.targets[0].id, stmt.value, None
        elif (
            isinstance(stmt, ast.AnnAssign)
            and isinstance(stmt.target, ast.Name)
            and stmt.value is not None
        ):
            yield stmt.target.id, stmt.value, stmt.annotation


def _django_model(node: ast.ClassDef, rel: str) -> ModelDecl:
    parts = PurePosixPath(rel).parts
    # The app is the folder of models.py, or the folder above a models/ package.
    app = (
        parts[-3]
        if len(parts) >= 3 and parts[-2] == "models"
        else (parts[-2] if len(parts) >= 2 else "")
    )
    table = f"{app}_{node.name.lower()}" if app else node.name.lower()
    for stmt in node.body:
        if isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
            for inner in stmt.body:
                if isinstance(inner, ast.Assign) and any(
                    isinstance(t, ast.Name) and t.id == "db_table" for t in inner.targets
                ):
                    table = _const_str(inner.value) or table
    relations: list[RelationDecl] = []
    backrefs: list[tuple[str, RelationDecl]] = []
    for name, value, _ in _fields(node):
        if not isinstance(value, ast.Call):
            continue
        kind = _callee(value)
        if kind not in _TO_ONE_FIELDS | _TO_MANY_FIELDS or not value.args:
            continue
        target = _const_str(value.args[0]) or _dotted(value.args[0]) or ""
        target = node.name if target == "self" else target.split(".")[-1]
        many = "to-many" if kind in _TO_MANY_FIELDS else "to-one"
        relations.append(RelationDecl(name, target, value.lineno, many))
        back = _const_str(_kw(value, "related_name")) or f"{node.name.lower()}_set"
        if not back.endswith("+"):
            back_kind = "to-one" if kind == "OneToOneField" else "to-many"
            backrefs.append((target, RelationDecl(back, node.name, value.lineno, back_kind)))
    return ModelDecl(
        node.name, table.lower(), rel, node.lineno, "django", tuple(relations), tuple(backrefs)
    )


def _is_constant_iterable(node: ast.expr) -> bool:
    """A loop over a literal list/tuple/set or ``range(<constant>)``: a fixed fan-out, not N+1."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        return all(isinstance(e, ast.Constant) for e in node.elts)
    if isinstance(node, ast.Call) and _callee(node) == "range":
        return all(isinstance(a, ast.Constant) for a in node.args)
    return False


def _names(target: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}


def _eager_relations(func: ast.AST) -> set[str]:
    """Relations the function loads eagerly: ``selectinload(Article.author)``, ``"author"``."""
    out: set[str] = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and _callee(node) in _EAGER_LOADERS:
            for arg in node.args:
                if isinstance(arg, ast.Attribute):
                    out.add(arg.attr)
                elif (text := _const_str(arg)) is not None:
                    out.update(part for part in text.split("__"))
    return out


def _query_reason(node: ast.AST, targets: LoopTargets) -> str | None:
    """Why ``node`` runs the target query: a model call, a helper, or raw SQL on the table."""
    if isinstance(node, ast.Call):
        names = _names(node.func) | {n for a in node.args for n in _names(a)}
        model = next((m for m in sorted(targets.models) if m in names), None)
        if model is not None:
            return f"`{ast.unparse(node)[:80]}`"
    if (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and looks_like_sql(node.value)
    ):
        text = node.value.lower()
        if any(t in text for t in targets.tables):
            return "a SQL string on " + ", ".join(sorted(t for t in targets.tables if t in text))
    return None


_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)


def _loop_parts(node: ast.AST) -> tuple[ast.expr, set[str], list[ast.AST]] | None:
    """(iterable, loop variables, body nodes) of a for loop or a comprehension."""
    if isinstance(node, ast.For | ast.AsyncFor):
        return node.iter, _names(node.target), list(node.body)
    if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
        gens = node.generators
        body: list[ast.AST] = (
            [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        )
        body += [cond for g in gens for cond in g.ifs]
        return gens[0].iter, set().union(*(_names(g.target) for g in gens)), body
    return None


def _loop_hits(
    func: ast.FunctionDef | ast.AsyncFunctionDef, rel: str, targets: LoopTargets
) -> list[LoopHit]:
    eager = _eager_relations(func)
    hits: list[LoopHit] = []
    for node in ast.walk(func):
        parts = _loop_parts(node)
        if parts is None:
            continue
        iterable, variables, body = parts
        if _is_constant_iterable(iterable):
            continue
        # Names bound from the item inside the loop (``author = article.author``) count too.
        for inner in (n for b in body for n in ast.walk(b)):
            if isinstance(inner, ast.Assign) and _names(inner.value) & variables:
                for t in inner.targets:
                    variables |= _names(t)
        hit = _first_hit(body, variables, targets, eager)
        if hit is not None:
            reason, via, relation, confidence, where = hit
            # A ``for`` statement's header is the loop's line; a comprehension that spans
            # lines is pointed at the element that runs the query.
            line = where if isinstance(node, _COMPREHENSIONS) else getattr(node, "lineno", 0)
            hits.append(LoopHit(rel, line, func.name, reason, via, relation, confidence))
    return hits


def _first_hit(
    body: list[ast.AST], variables: set[str], targets: LoopTargets, eager: set[str]
) -> tuple[str, str, str | None, float, int] | None:
    nodes = [n for b in body for n in ast.walk(b)]
    for inner in nodes:
        if (
            isinstance(inner, ast.Attribute)
            and inner.attr in targets.relations
            and inner.attr not in eager
            and _root_name(inner.value) in variables
        ):
            return f"`{ast.unparse(inner)}`", "relation", inner.attr, 0.9, inner.lineno
    for inner in nodes:
        reason = _query_reason(inner, targets)
        if reason is not None:
            via = "sql" if isinstance(inner, ast.Constant) else "model"
            return reason, via, None, 0.85, getattr(inner, "lineno", 0)
    for inner in nodes:
        if isinstance(inner, ast.Call) and _callee(inner) in targets.helpers:
            return f"`{ast.unparse(inner)[:80]}`", "helper", None, 0.75, inner.lineno
    return None
