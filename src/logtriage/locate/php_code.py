"""PHP: Laravel ``Route::get``/``prefix()->group()``/``resource``, Eloquent models and loops."""

from __future__ import annotations

from pathlib import PurePosixPath

from ast_grep_py import SgNode

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    ModelDecl,
    RelationDecl,
    RouteDecl,
    plural,
    snake,
)
from logtriage.locate.structural_code import (
    StructuralScanner,
    end_line_of,
    line_of,
    root_name,
    string_value,
)

_VERBS = frozenset({"get", "post", "put", "patch", "delete", "options", "any", "match"})
_TO_ONE = frozenset({"belongsTo", "hasOne", "morphTo", "morphOne", "hasOneThrough"})
_TO_MANY = frozenset({"hasMany", "belongsToMany", "morphMany", "morphToMany", "hasManyThrough"})
_EAGER = frozenset({"with", "load", "loadMissing"})
_CALLS = frozenset({"member_call_expression", "scoped_call_expression"})
_ITERATORS = frozenset({"map", "each", "filter", "flatMap", "transform", "mapWithKeys"})
_LITERALS = frozenset({"string", "encapsed_string", "integer", "float", "boolean", "null"})
_FUNCTIONS = frozenset({"method_declaration", "function_definition", "anonymous_function",
                        "arrow_function", "anonymous_function_creation_expression"})  # fmt: skip
# (action, method, suffix, is member, only for full resources)
_RESOURCE_ACTIONS = (
    ("index", "GET", "", False, False),
    ("create", "GET", "/create", False, True),
    ("store", "POST", "", False, False),
    ("show", "GET", "", True, False),
    ("edit", "GET", "/edit", True, True),
    ("update", "PUT", "", True, False),
    ("update", "PATCH", "", True, False),
    ("destroy", "DELETE", "", True, False),
)


def _named(node: SgNode | None) -> list[SgNode]:
    return [c for c in node.children() if c.is_named()] if node is not None else []


def _arguments(call: SgNode) -> list[SgNode]:
    """The argument expressions of a call (unwrapping ``argument`` nodes)."""
    args = call.field("arguments") or next(
        (c for c in call.children() if c.kind() == "arguments"), None
    )
    out = []
    for arg in _named(args):
        inner = _named(arg) if arg.kind() == "argument" else [arg]
        out.extend(inner[-1:])
    return out


def _class_of(node: SgNode) -> str | None:
    """``ArticleController::class`` → ``ArticleController``."""
    if node.kind() == "class_constant_access_expression":
        first = next(iter(_named(node)), None)
        return first.text().split("\\")[-1] if first is not None else None
    return None


class PhpScanner(StructuralScanner):
    """Laravel applications."""

    language = "php"
    function_kinds = _FUNCTIONS
    string_kinds = frozenset({"string", "encapsed_string"})
    name_kinds = frozenset({"name"})

    def scan_root(self, rel: str, root: SgNode, facts: FileFacts) -> None:
        """Routes of ``routes/*.php``, Eloquent models."""
        path = PurePosixPath(rel)
        if path.parent.name == "routes":
            # Laravel serves routes/api.php under /api (RouteServiceProvider, bootstrap/app.php).
            base = "/api" if path.name == "api.php" else ""
            app = str(path.parent.parent)
            app = "" if app == "." else app + "/"
            for call in root.find_all(kind="scoped_call_expression"):
                self._route(rel, call, base, app, facts)
        for cls in root.find_all(kind="class_declaration"):
            model = self._model(rel, cls)
            if model is not None:
                facts.models.append(model)

    def _prefix(self, call: SgNode) -> str:
        """Prefixes of the ``Route::prefix('x')->group(fn)`` / ``Route::group([...])`` around."""
        parts: list[str] = []
        for ancestor in call.ancestors():
            if ancestor.kind() not in ("member_call_expression", "scoped_call_expression"):
                continue
            name = ancestor.field("name")
            if name is None or name.text() != "group":
                continue
            chain = ancestor.field("object") or ancestor.field("scope")
            # ``find_all`` yields the chain itself too: Route::prefix('a')->name('x')->group().
            for link in chain.find_all(kind="scoped_call_expression") if chain else []:
                self._prefix_of(link, parts)
            for arg in _arguments(ancestor):  # Route::group(['prefix' => 'x'], fn)
                for element in arg.find_all(kind="array_element_initializer"):
                    pair = _named(element)
                    if len(pair) == 2 and string_value(pair[0]) == "prefix":
                        parts.append(string_value(pair[1]))
        return "".join("/" + p.strip("/") for p in reversed(parts) if p.strip("/"))

    def _prefix_of(self, call: SgNode, parts: list[str]) -> None:
        name = call.field("name")
        if call.kind() in ("scoped_call_expression", "member_call_expression") and (
            name is not None and name.text() == "prefix"
        ):
            args = _arguments(call)
            if args:
                parts.append(string_value(args[0]))

    def _route(self, rel: str, call: SgNode, base: str, app: str, facts: FileFacts) -> None:
        scope, name = call.field("scope"), call.field("name")
        if scope is None or name is None or scope.text().split("\\")[-1] != "Route":
            return
        verb = name.text()
        args = _arguments(call)
        if verb in ("resource", "apiResource") and len(args) >= 2:
            self._resource(rel, call, verb == "resource", args, base, app, facts)
            return
        if verb not in _VERBS or len(args) < 2:
            return
        if verb == "match":
            methods = tuple(string_value(m).upper() for m in args[0].find_all(kind="string"))
            args = args[1:]
        else:
            methods = () if verb == "any" else (verb.upper(),)
        pattern = base + self._prefix(call) + "/" + string_value(args[0]).strip("/")
        action = args[1]
        owner = handler = None
        line = None
        if action.kind() == "array_creation_expression":
            items = [_named(e)[-1] for e in _named(action) if _named(e)]
            if len(items) == 2:
                owner, handler = _class_of(items[0]), string_value(items[1])
        elif action.kind() in ("string", "encapsed_string") and "@" in string_value(action):
            owner, _, handler = string_value(action).partition("@")
            owner = owner.split("\\")[-1]
        elif action.kind() in _FUNCTIONS:
            line = line_of(action)
        controller = f"{app}app/Http/Controllers/{owner}.php" if owner else rel
        facts.routes.append(
            RouteDecl(
                methods, pattern, rel, line_of(call), "laravel", handler=handler,
                handler_owner=owner, handler_path=controller if owner else rel,
                handler_line=line,
            )
        )  # fmt: skip

    def _resource(
        self,
        rel: str,
        call: SgNode,
        full: bool,
        args: list[SgNode],
        base: str,
        app: str,
        facts: FileFacts,
    ) -> None:
        resource = string_value(args[0]).strip("/")
        owner = _class_of(args[1]) or string_value(args[1]).split("\\")[-1]
        prefix = base + self._prefix(call) + "/" + resource
        param = "{" + snake(resource.split(".")[-1]).rstrip("s") + "}"
        for action, verb, suffix, member, only_full in _RESOURCE_ACTIONS:
            if only_full and not full:
                continue
            pattern = (f"{prefix}/{param}" if member else prefix) + suffix
            facts.routes.append(
                RouteDecl(
                    (verb,), pattern, rel, line_of(call), "laravel", handler=action,
                    handler_owner=owner, handler_path=f"{app}app/Http/Controllers/{owner}.php",
                )
            )  # fmt: skip

    def _model(self, rel: str, cls: SgNode) -> ModelDecl | None:
        name = cls.field("name")
        base = next((c for c in cls.children() if c.kind() == "base_clause"), None)
        if name is None or base is None:
            return None
        parents = {n.text().split("\\")[-1] for n in _named(base)}
        if not parents & {"Model", "Authenticatable", "Pivot"}:
            return None
        table = plural(snake(name.text()))
        eager: set[str] = set()
        for prop in cls.find_all(kind="property_declaration"):
            element = prop.find(kind="property_element")
            var = element.find(kind="variable_name") if element is not None else None
            value = next(iter(_named(element)[1:]), None) if element is not None else None
            if var is None or value is None:
                continue
            if var.text() == "$table":
                table = string_value(value)
            elif var.text() == "$with":
                eager |= {string_value(s) for s in value.find_all(kind="string")}
        relations: list[RelationDecl] = []
        for method in cls.find_all(kind="method_declaration"):
            method_name = method.field("name")
            call = next(
                (c for c in method.find_all(kind="member_call_expression")
                 if (n := c.field("name")) is not None and n.text() in _TO_ONE | _TO_MANY),
                None,
            )  # fmt: skip
            if method_name is None or call is None:
                continue
            kind_node = call.field("name")
            kind = kind_node.text() if kind_node is not None else ""
            args = _arguments(call)
            target = (_class_of(args[0]) or string_value(args[0]).split("\\")[-1]) if args else ""
            relation = method_name.text()
            many = "to-many" if kind in _TO_MANY else "to-one"
            relations.append(
                RelationDecl(relation, target, line_of(method), many, relation in eager)
            )
        return ModelDecl(
            name.text(), table.lower(), rel, line_of(cls), "eloquent", tuple(relations)
        )

    def function_decl(self, rel: str, node: SgNode) -> FunctionDecl | None:
        """Methods and functions on the line of their name; closures on their first line."""
        name = node.field("name")
        owner = next(
            (a.field("name") for a in node.ancestors() if a.kind() == "class_declaration"), None
        )
        return FunctionDecl(
            name.text() if name is not None else "<closure>",
            owner.text() if owner is not None else None,
            rel,
            line_of(name) if name is not None else line_of(node),
            end_line_of(node),
        )

    def loop_parts(self, node: SgNode) -> tuple[SgNode | None, set[str], SgNode] | None:
        """``foreach ($xs as $x)``, ``for``/``while``, and collection callbacks."""
        kind = node.kind()
        if kind == "foreach_statement":
            parts = _named(node)
            if len(parts) < 3:
                return None
            iterable, body = parts[0], parts[-1]
            names = {
                v.text().lstrip("$") for p in parts[1:-1] for v in p.find_all(kind="variable_name")
            }
            names |= {p.text().lstrip("$") for p in parts[1:-1] if p.kind() == "variable_name"}
            return iterable, names, body
        if kind in ("for_statement", "while_statement", "do_statement"):
            loop_body = node.field("body") or (_named(node)[-1] if _named(node) else None)
            return (None, set(), loop_body) if loop_body is not None else None
        if kind == "member_call_expression":
            method = node.field("name")
            if method is None or method.text() not in _ITERATORS:
                return None
            callback = next((a for a in _arguments(node) if a.kind() in _FUNCTIONS), None)
            if callback is None:
                return None
            params = callback.field("parameters")
            names = (
                {v.text().lstrip("$") for v in params.find_all(kind="variable_name")}
                if params
                else set()
            )
            body = callback.field("body") or _named(callback)[-1]
            return node.field("object"), names, body
        return None

    def relation_access(self, node: SgNode) -> tuple[str, str | None] | None:
        """``$article->author`` / ``$article->author()``."""
        if node.kind() not in ("member_access_expression", "member_call_expression"):
            return None
        name, obj = node.field("name"), node.field("object")
        if name is None or obj is None:
            return None
        return name.text(), root_name(obj)

    def call_name(self, node: SgNode) -> str | None:
        """The called function or method name."""
        if node.kind() in ("member_call_expression", "scoped_call_expression"):
            name = node.field("name")
            return name.text() if name is not None else None
        if node.kind() == "function_call_expression":
            function = node.field("function")
            return function.text() if function is not None else None
        return None

    def eager_names(self, func: SgNode) -> set[str]:
        """``->with('author')``, ``::with(['author', 'tags'])``, ``->load('author')``."""
        out: set[str] = set()
        for call in self.kinds(func, _CALLS):
            name = call.field("name")
            if name is not None and name.text() in _EAGER:
                for arg in _arguments(call):
                    strings = [arg] if arg.kind() == "string" else arg.find_all(kind="string")
                    out |= {string_value(s).split(".")[0].split(":")[0] for s in strings}
        return out

    def is_constant_iterable(self, node: SgNode | None) -> bool:
        """``['draft', 'published']``."""
        if node is None or node.kind() != "array_creation_expression":
            return False
        values = [_named(e)[-1] for e in _named(node) if _named(e)]
        return all(v.kind() in _LITERALS for v in values)
