"""Ruby: Rails ``config/routes.rb`` (resources, namespaces, verbs), ActiveRecord models, loops."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from ast_grep_py import SgNode

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    ModelDecl,
    RelationDecl,
    RouteDecl,
    plural,
    singular,
    snake,
)
from logtriage.locate.structural_code import (
    StructuralScanner,
    end_line_of,
    line_of,
    root_name,
    string_value,
)

_VERBS = {"get", "post", "put", "patch", "delete", "match"}
# (action, method, path after the collection, is member)
_RESOURCES_ACTIONS = (
    ("index", "GET", "", False),
    ("create", "POST", "", False),
    ("new", "GET", "/new", False),
    ("show", "GET", "", True),
    ("edit", "GET", "/edit", True),
    ("update", "PATCH", "", True),
    ("update", "PUT", "", True),
    ("destroy", "DELETE", "", True),
)
_ITERATORS = frozenset(
    {"each", "map", "flat_map", "collect", "select", "filter", "filter_map", "reject", "sum",
     "each_with_index", "each_with_object", "find_each", "find_in_batches", "group_by",
     "index_by", "inject", "reduce", "to_h", "sort_by", "each_slice", "times"}
)  # fmt: skip
_EAGER = frozenset({"includes", "preload", "eager_load"})
_TO_ONE = frozenset({"belongs_to", "has_one"})
_TO_MANY = frozenset({"has_many", "has_and_belongs_to_many"})
_LITERALS = frozenset({"string", "simple_symbol", "integer", "float", "true", "false", "nil"})


@dataclass(frozen=True)
class _Scope:
    """Where a route block sits: path prefix, controller module, and the resource's member path."""

    path: str = ""
    module: str = ""
    controller: str | None = None
    member: str | None = None  # "/articles/:id" inside ``member do``
    collection: str | None = None


def _args(call: SgNode) -> list[SgNode]:
    args = call.field("arguments")
    return [a for a in args.children() if a.is_named()] if args is not None else []


def _pairs(args: list[SgNode]) -> dict[str, SgNode]:
    out: dict[str, SgNode] = {}
    for arg in args:
        if arg.kind() == "pair":
            key, value = arg.field("key"), arg.field("value")
            if key is not None and value is not None:
                out[string_value(key).rstrip(":")] = value
    return out


def _symbols(node: SgNode | None) -> list[str]:
    if node is None:
        return []
    if node.kind() in ("simple_symbol", "string"):
        return [string_value(node)]
    return [string_value(c) for c in node.children() if c.kind() in ("simple_symbol", "string")]


def _camel(name: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in name.split("_"))


class RubyScanner(StructuralScanner):
    """Rails applications."""

    language = "ruby"
    function_kinds = frozenset({"method", "singleton_method"})
    string_kinds = frozenset({"string"})
    name_kinds = frozenset({"constant"})

    def scan_root(self, rel: str, root: SgNode, facts: FileFacts) -> None:
        """Routes of ``config/routes.rb``, models of ``app/models``."""
        if PurePosixPath(rel).name == "routes.rb":
            app_root = str(PurePosixPath(rel).parent.parent)
            app_root = "" if app_root == "." else app_root + "/"
            for block in root.find_all(kind="call", has={"kind": "identifier", "regex": "^draw$"}):
                body = block.field("block")
                if body is not None:
                    self._routes(body, _Scope(), rel, app_root, facts)
        for node in root.find_all(kind="class"):
            model = self._model(rel, node)
            if model is not None:
                facts.models.append(model)

    # -- routes ----------------------------------------------------------------------------
    def _routes(self, block: SgNode, scope: _Scope, rel: str, app: str, facts: FileFacts) -> None:
        body = next((c for c in block.children() if c.kind() in ("body_statement",)), None)
        for call in (c for c in (body.children() if body else []) if c.kind() == "call"):
            self._route_call(call, scope, rel, app, facts)

    def _route_call(
        self, call: SgNode, scope: _Scope, rel: str, app: str, facts: FileFacts
    ) -> None:
        method = call.field("method")
        if method is None or call.field("receiver") is not None:
            return
        name = method.text()
        args = _args(call)
        pairs = _pairs(args)
        block = call.field("block")
        positional = [a for a in args if a.kind() != "pair"]
        if name in ("resources", "resource"):
            for resource in _symbols(positional[0] if positional else None):
                many = name == "resources"
                self._resources(call, resource, many, pairs, block, scope, rel, app, facts)
        elif name == "namespace" and positional and block is not None:
            ns = string_value(positional[0])
            inner = _Scope(f"{scope.path}/{ns}", f"{scope.module}{ns}/")
            self._routes(block, inner, rel, app, facts)
        elif name == "scope" and block is not None:
            path = string_value(positional[0]) if positional else ""
            path = string_value(pairs["path"]) if "path" in pairs else path
            module = string_value(pairs["module"]) + "/" if "module" in pairs else ""
            inner = _Scope(
                scope.path + "/" + path.strip("/") if path else scope.path,
                scope.module + module,
                scope.controller,
            )
            self._routes(block, inner, rel, app, facts)
        elif name in ("member", "collection") and block is not None:
            base = scope.member if name == "member" else scope.collection
            if base is not None:
                self._routes(block, _Scope(base, scope.module, scope.controller), rel, app, facts)
        elif name == "root":
            target = pairs.get("to") or (positional[0] if positional else None)
            if target is not None:
                self._verb(
                    call, ("GET",), scope.path or "/", string_value(target), scope, rel, app, facts
                )
        elif name in _VERBS:
            self._verb_call(call, name, positional, pairs, scope, rel, app, facts)

    def _verb_call(
        self,
        call: SgNode,
        verb: str,
        positional: list[SgNode],
        pairs: dict[str, SgNode],
        scope: _Scope,
        rel: str,
        app: str,
        facts: FileFacts,
    ) -> None:
        methods: tuple[str, ...] = (verb.upper(),)
        if verb == "match":
            methods = tuple(v.upper() for v in _symbols(pairs.get("via"))) or ()
        path, target = "", None
        if positional:
            path = string_value(positional[0])
        for arg in _args(call):
            key, value = arg.field("key"), arg.field("value")
            # ``get "feed" => "feeds#show"``: a hash argument whose key is the path.
            if (
                arg.kind() == "pair"
                and key is not None
                and value is not None
                and (key.kind() == "string")
            ):
                path, target = string_value(key), string_value(value)
        if "to" in pairs:
            target = string_value(pairs["to"])
        if target is None and "action" in pairs:
            controller = (
                string_value(pairs["controller"]) if "controller" in pairs else scope.controller
            )
            target = f"{controller}#{string_value(pairs['action'])}"
        if target is None:
            if scope.controller is not None:  # ``get :stats`` inside a resource
                target = f"{scope.controller}#{path.strip('/')}"
            elif "/" in path.strip("/"):  # ``get "photos/search"`` → photos#search
                head, _, action = path.strip("/").rpartition("/")
                target = f"{head.split('/')[-1]}#{action}"
        if target is None or "#" not in target:
            return
        base = scope.path
        on = string_value(pairs["on"]) if "on" in pairs else None
        if on == "member" and scope.member is not None:  # get :preview, on: :member
            base = scope.member
        elif on == "collection" and scope.collection is not None:
            base = scope.collection
        full = f"{base}/{path.strip('/')}" if path.strip("/") else base
        self._verb(call, methods, full or "/", target, scope, rel, app, facts)

    def _verb(
        self,
        call: SgNode,
        methods: tuple[str, ...],
        path: str,
        target: str,
        scope: _Scope,
        rel: str,
        app: str,
        facts: FileFacts,
    ) -> None:
        controller, _, action = target.partition("#")
        module = scope.module if "/" not in controller else ""
        facts.routes.append(self._decl(call, methods, path, module + controller, action, rel, app))

    def _decl(
        self,
        call: SgNode,
        methods: tuple[str, ...],
        path: str,
        controller: str,
        action: str,
        rel: str,
        app: str,
    ) -> RouteDecl:
        owner = _camel(controller.split("/")[-1]) + "Controller"
        return RouteDecl(
            methods,
            path,
            rel,
            line_of(call),
            "rails",
            handler=action,
            handler_owner=owner,
            handler_path=f"{app}app/controllers/{controller}_controller.rb",
        )

    def _resources(
        self,
        call: SgNode,
        resource: str,
        many: bool,
        pairs: dict[str, SgNode],
        block: SgNode | None,
        scope: _Scope,
        rel: str,
        app: str,
        facts: FileFacts,
    ) -> None:
        only = set(_symbols(pairs.get("only"))) or None
        except_ = set(_symbols(pairs.get("except")))
        path_name = string_value(pairs["path"]) if "path" in pairs else resource
        controller_name = (
            string_value(pairs["controller"]) if "controller" in pairs
            else resource if many else plural(resource)
        )  # fmt: skip
        controller = scope.module + controller_name
        base = f"{scope.path}/{path_name}"
        member = f"{base}/:id" if many else base
        for action, verb, suffix, is_member in _RESOURCES_ACTIONS:
            if (only is not None and action not in only) or action in except_:
                continue
            if not many and action == "index":
                continue
            path = (member if is_member else base) + suffix
            facts.routes.append(self._decl(call, (verb,), path, controller, action, rel, app))
        if block is not None:
            nested = f"{base}/:{singular(resource)}_id" if many else base
            inner = _Scope(nested, scope.module, controller_name, member, base)
            self._routes(block, inner, rel, app, facts)

    # -- models and code -------------------------------------------------------------------
    def _model(self, rel: str, node: SgNode) -> ModelDecl | None:
        name_node = node.field("name")
        superclass = node.field("superclass")
        if name_node is None or superclass is None:
            return None
        parent = superclass.text().lstrip("<").strip()
        if (
            parent not in ("ApplicationRecord", "ActiveRecord::Base")
            and "/models/" not in f"/{rel}"
        ):
            return None
        name = name_node.text().split("::")[-1]
        table = plural(snake(name))
        relations: list[RelationDecl] = []
        for call in node.find_all(kind="call"):
            method = call.field("method")
            if method is None or call.field("receiver") is not None:
                continue
            args = _args(call)
            kind = method.text()
            if kind in _TO_ONE | _TO_MANY and args:
                assoc = string_value(args[0])
                pairs = _pairs(args)
                target = (
                    string_value(pairs["class_name"]) if "class_name" in pairs
                    else _camel(singular(assoc))
                )  # fmt: skip
                many = "to-many" if kind in _TO_MANY else "to-one"
                relations.append(RelationDecl(assoc, target, line_of(call), many))
        for assign in node.find_all(kind="assignment"):
            left, right = assign.field("left"), assign.field("right")
            if left is not None and right is not None and left.text() == "self.table_name":
                table = string_value(right)
        return ModelDecl(name, table.lower(), rel, line_of(node), "activerecord", tuple(relations))

    def function_decl(self, rel: str, node: SgNode) -> FunctionDecl | None:
        """``def name`` with the class it is defined in."""
        name = node.field("name")
        if name is None:
            return None
        owner = next((a.field("name") for a in node.ancestors() if a.kind() == "class"), None)
        owner_name = owner.text().split("::")[-1] if owner is not None else None
        return FunctionDecl(name.text(), owner_name, rel, line_of(node), end_line_of(node))

    def loop_parts(self, node: SgNode) -> tuple[SgNode | None, set[str], SgNode] | None:
        """``for x in xs`` and ``xs.each do |x|`` (any iterator method with a block)."""
        if node.kind() == "for":
            pattern, value, body = node.field("pattern"), node.field("value"), node.field("body")
            if body is None:
                return None
            names = {pattern.text()} if pattern is not None else set()
            return value, names, body
        if node.kind() != "call":
            return None
        method, block = node.field("method"), node.field("block")
        if method is None or block is None or method.text() not in _ITERATORS:
            return None
        params = next((c for c in block.children() if c.kind() == "block_parameters"), None)
        names = (
            {c.text() for c in params.children() if c.kind() == "identifier"} if params else set()
        )
        return node.field("receiver"), names, block

    def relation_access(self, node: SgNode) -> tuple[str, str | None] | None:
        """``article.author``."""
        if node.kind() != "call":
            return None
        method = node.field("method")
        receiver = node.field("receiver")
        if method is None or receiver is None:
            return None
        return method.text(), root_name(receiver)

    def call_name(self, node: SgNode) -> str | None:
        """The method a ``call`` calls."""
        if node.kind() != "call":
            return None
        method = node.field("method")
        return method.text() if method is not None else None

    def eager_names(self, func: SgNode) -> set[str]:
        """``includes(:author)``, ``preload(:comments)``, ``eager_load(author: :profile)``."""
        out: set[str] = set()
        for call in func.find_all(kind="call"):
            method = call.field("method")
            if method is not None and method.text() in _EAGER:
                args = call.field("arguments")
                if args is not None:
                    out |= {string_value(s) for s in args.find_all(kind="simple_symbol")}
                    out |= {
                        string_value(k).rstrip(":") for k in args.find_all(kind="hash_key_symbol")
                    }
        return out

    def is_constant_iterable(self, node: SgNode | None) -> bool:
        """``%w[a b]``, ``[:a, :b]``, ``1..3``, ``3.times``."""
        if node is None:
            return False
        if node.kind() in ("string_array", "symbol_array"):
            return True
        if node.kind() == "array":
            return all(c.kind() in _LITERALS for c in node.children() if c.is_named())
        if node.kind() in ("range", "integer"):
            return all(c.kind() in _LITERALS for c in node.children() if c.is_named())
        return False
