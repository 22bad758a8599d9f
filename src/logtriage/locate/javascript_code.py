"""JavaScript/TypeScript: Express/Koa routes and mounts, Sequelize models, loops."""

from __future__ import annotations

import posixpath

from ast_grep_py import SgNode

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    LoopTargets,
    ModelDecl,
    Mount,
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

_VERBS = frozenset({"get", "post", "put", "patch", "delete", "del", "all", "head", "options"})
_ITERATORS = frozenset(
    {"forEach", "map", "flatMap", "filter", "reduce", "some", "every", "find", "findIndex"}
)
_FUNCTIONS = frozenset({"arrow_function", "function_expression", "function", "function_declaration",
                        "method_definition", "generator_function_declaration"})  # fmt: skip
_LITERALS = frozenset({"string", "number", "true", "false", "null", "template_string"})
_TO_ONE = frozenset({"belongsTo", "hasOne"})
_TO_MANY = frozenset({"hasMany", "belongsToMany"})
# Options that load associations with the parent query (Sequelize, TypeORM, Prisma).
_EAGER_KEYS = frozenset({"include", "relations", "with"})
_EAGER_NAMES = frozenset({"string", "property_identifier", "identifier"})


_CLASSES = frozenset({"class_declaration", "class"})
_TYPEORM_RELATIONS = {"ManyToOne": "to-one", "OneToOne": "to-one", "OneToMany": "to-many",
                      "ManyToMany": "to-many"}  # fmt: skip
_PRISMA_QUERIES = frozenset(
    {"findUnique", "findUniqueOrThrow", "findFirst", "findFirstOrThrow", "findMany", "count",
     "aggregate"}
)  # fmt: skip
# TypeORM query builder calls that join a relation into the parent query.
_JOIN_SELECT = frozenset({"leftJoinAndSelect", "innerJoinAndSelect"})


_NEST_VERBS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ALL"})


def _class_decorators(cls: SgNode) -> list[SgNode]:
    """A class's decorators (an exported class has them on its ``export`` statement)."""
    decorators = [c for c in cls.children() if c.kind() == "decorator"]
    parent = cls.parent()
    if parent is not None and parent.kind() == "export_statement":
        decorators += [c for c in parent.children() if c.kind() == "decorator"]
    return decorators


def _decorator_name(node: SgNode) -> str:
    """``@Entity("x")`` → ``Entity``."""
    call = node.find(kind="call_expression")
    function = call.field("function") if call is not None else None
    return (function or node).text().lstrip("@")


def _named(node: SgNode | None) -> list[SgNode]:
    return [c for c in node.children() if c.is_named()] if node is not None else []


def _pairs(obj: SgNode | None) -> dict[str, SgNode]:
    out: dict[str, SgNode] = {}
    for pair in _named(obj):
        if pair.kind() == "pair":
            key, value = pair.field("key"), pair.field("value")
            if key is not None and value is not None:
                out[string_value(key)] = value
    return out


class JavaScriptScanner(StructuralScanner):
    """Node.js applications (Express, Koa, Sequelize)."""

    function_kinds = _FUNCTIONS
    string_kinds = frozenset({"string", "template_string"})
    name_kinds = frozenset({"identifier"})

    def __init__(self, language: str) -> None:
        super().__init__()
        self.language = language

    def scan_root(self, rel: str, root: SgNode, facts: FileFacts) -> None:
        """Imports, exports, routes, mounts, Sequelize models and associations."""
        self._imports(rel, root, facts)
        for call in root.find_all(kind="call_expression"):
            function = call.field("function")
            if function is None or function.kind() != "member_expression":
                continue
            receiver, prop = function.field("object"), function.field("property")
            if receiver is None or prop is None:
                continue
            verb = prop.text()
            args = _named(call.field("arguments"))
            if verb in _VERBS and args and args[0].kind() == "string":
                self._route(rel, call, receiver, verb, args, facts)
            elif verb == "use" and args and args[0].kind() == "string":
                for mounted in args[1:]:
                    key = self._key(rel, mounted, facts)
                    if key is not None:
                        parent = f"{rel}::{receiver.text()}"
                        facts.mounts.append(Mount(key, string_value(args[0]), parent=parent))
            elif verb == "define" and args and args[0].kind() == "string":
                self._define(rel, call, args, facts)
            elif verb == "init" and len(args) >= 2:
                self._init(rel, call, receiver.text(), args, facts)
            elif verb in _TO_ONE | _TO_MANY and args:
                self._association(call, receiver.text(), verb, args, facts)
        for cls in self.kinds(root, _CLASSES):
            entity = self._typeorm_entity(rel, cls)
            if entity is not None:
                facts.models.append(entity)
            self._nest_routes(rel, cls, facts)
        for declarator in root.find_all(kind="variable_declarator"):
            value = declarator.field("value")
            name = declarator.field("name")
            if value is None or name is None or value.kind() != "new_expression":
                continue
            # Koa: ``const router = new Router({ prefix: "/api" })``.
            prefix = _pairs(next(iter(_named(value.field("arguments"))), None)).get("prefix")
            if prefix is not None and prefix.kind() == "string":
                facts.mounts.append(Mount(f"{rel}::{name.text()}", string_value(prefix)))

    def _imports(self, rel: str, root: SgNode, facts: FileFacts) -> None:
        for declarator in root.find_all(kind="variable_declarator"):
            value, name = declarator.field("value"), declarator.field("name")
            if value is None or name is None or value.kind() != "call_expression":
                continue
            function = value.field("function")
            args = _named(value.field("arguments"))
            if function is None or function.text() != "require" or not args:
                continue
            source = self._module(rel, string_value(args[0]))
            if name.kind() == "identifier":
                facts.imports[name.text()] = (source, "default")
            for item in _named(name):
                if item.kind() == "shorthand_property_identifier_pattern":
                    facts.imports[item.text()] = (source, item.text())
                elif item.kind() == "pair_pattern":
                    key, local = item.field("key"), item.field("value")
                    if key is not None and local is not None:
                        facts.imports[local.text()] = (source, key.text())
        for statement in root.find_all(kind="import_statement"):
            spec = statement.field("source")
            if spec is None:
                continue
            source = self._module(rel, string_value(spec))
            clause = next((c for c in _named(statement) if c.kind() == "import_clause"), None)
            for item in _named(clause):
                if item.kind() == "identifier":
                    facts.imports[item.text()] = (source, "default")
                for specifier in item.find_all(kind="import_specifier"):
                    imported, alias = specifier.field("name"), specifier.field("alias")
                    if imported is not None:
                        as_name = alias.text() if alias is not None else imported.text()
                        facts.imports[as_name] = (source, imported.text())
        for assign in root.find_all(kind="assignment_expression"):
            left, right = assign.field("left"), assign.field("right")
            if left is not None and right is not None and left.text() == "module.exports":
                self._export(rel, right, facts)
        for export in root.find_all(kind="export_statement"):
            value = export.field("value")
            if value is not None and value.kind() == "identifier":
                facts.mounts.append(Mount(f"{rel}::{value.text()}", "", parent=f"{rel}::default"))

    def _export(self, rel: str, value: SgNode, facts: FileFacts) -> None:
        if value.kind() == "identifier":
            facts.mounts.append(Mount(f"{rel}::{value.text()}", "", parent=f"{rel}::default"))
        for name, local in _pairs(value).items():
            if local.kind() == "identifier" and local.text() != name:
                facts.mounts.append(Mount(f"{rel}::{local.text()}", "", parent=f"{rel}::{name}"))

    def _module(self, rel: str, spec: str) -> str:
        """``js:<file without extension>`` for a relative import; the package name otherwise."""
        if not spec.startswith("."):
            return spec
        return "js:" + posixpath.normpath(posixpath.join(posixpath.dirname(rel), spec))

    def _key(self, rel: str, node: SgNode, facts: FileFacts) -> str | None:
        """The mount key of an expression given to ``app.use``."""
        if node.kind() == "identifier":
            if node.text() in facts.imports:
                source, name = facts.imports[node.text()]
                return f"{source}::{name}" if source.startswith("js:") else None
            return f"{rel}::{node.text()}"
        if node.kind() == "call_expression":
            function = node.field("function")
            args = _named(node.field("arguments"))
            if function is not None and function.text() == "require" and args:
                return f"{self._module(rel, string_value(args[0]))}::default"
            if function is not None and function.kind() == "member_expression":
                # Koa: ``app.use(router.routes())``.
                receiver = function.field("object")
                return self._key(rel, receiver, facts) if receiver is not None else None
        return None

    def _route(
        self,
        rel: str,
        call: SgNode,
        receiver: SgNode,
        verb: str,
        args: list[SgNode],
        facts: FileFacts,
    ) -> None:
        handler = args[-1]
        method = "DELETE" if verb == "del" else verb.upper()
        methods: tuple[str, ...] = () if verb == "all" else (method,)
        name: str | None = None
        line: int | None = None
        if handler.kind() in _FUNCTIONS:
            decl = self.function_decl(rel, handler)
            name, line = (decl.name, decl.line) if decl is not None else (None, None)
        elif handler.kind() == "identifier":
            name = handler.text()
        elif handler.kind() == "member_expression":
            prop = handler.field("property")
            name = prop.text() if prop is not None else None
        facts.routes.append(
            RouteDecl(
                methods,
                string_value(args[0]),
                rel,
                line_of(call),
                "express",
                handler=name,
                handler_path=rel,
                handler_line=line,
                mount_key=f"{rel}::{receiver.text()}",
            )
        )

    def _define(self, rel: str, call: SgNode, args: list[SgNode], facts: FileFacts) -> None:
        model = string_value(args[0])
        options = _pairs(args[2]) if len(args) > 2 else {}
        parent = call.parent()
        local = (
            parent.field("name")
            if parent is not None and parent.kind() == "variable_declarator"
            else None
        )
        name = local.text() if local is not None else model
        table = options.get("tableName")
        table_name = string_value(table) if table is not None else plural(snake(model))
        facts.models.append(ModelDecl(name, table_name.lower(), rel, line_of(call), "sequelize"))

    def _init(
        self, rel: str, call: SgNode, name: str, args: list[SgNode], facts: FileFacts
    ) -> None:
        options = _pairs(args[1])
        if "sequelize" not in options and not any(c.text() == "sequelize" for c in _named(args[1])):
            return
        model = string_value(options["modelName"]) if "modelName" in options else name
        table = options.get("tableName")
        table_name = string_value(table) if table is not None else plural(snake(model))
        facts.models.append(ModelDecl(name, table_name.lower(), rel, line_of(call), "sequelize"))

    def _association(
        self, call: SgNode, owner: str, verb: str, args: list[SgNode], facts: FileFacts
    ) -> None:
        target = args[0].text()
        options = _pairs(args[1]) if len(args) > 1 else {}
        alias = options.get("as")
        many = verb in _TO_MANY
        default = target[:1].lower() + target[1:]
        name = string_value(alias) if alias is not None else (plural(default) if many else default)
        relation = RelationDecl(name, target, line_of(call), "to-many" if many else "to-one")
        facts.associations.append((owner, relation))

    def _nest_routes(self, rel: str, cls: SgNode, facts: FileFacts) -> None:
        """NestJS: ``@Controller("writers")`` and its methods' ``@Get(":id")``, ``@Post()``."""
        controller = next(
            (d for d in _class_decorators(cls) if _decorator_name(d) == "Controller"), None
        )
        name = cls.field("name")
        body = cls.field("body")
        if controller is None or name is None or body is None:
            return
        args = _named(controller.find(kind="arguments"))
        prefix = string_value(args[0]) if args and args[0].kind() == "string" else ""
        pending: list[SgNode] = []
        for member in _named(body):
            if member.kind() == "decorator":
                pending.append(member)
                continue
            if member.kind() == "method_definition":
                method = member.field("name")
                for decorator in pending:
                    verb = _decorator_name(decorator)
                    if verb.upper() not in _NEST_VERBS or method is None:
                        continue
                    found = _named(decorator.find(kind="arguments"))
                    path = string_value(found[0]) if found and found[0].kind() == "string" else ""
                    pattern = "/" + "/".join(p.strip("/") for p in (prefix, path) if p.strip("/"))
                    methods = () if verb == "All" else (verb.upper(),)
                    facts.routes.append(
                        RouteDecl(
                            methods, pattern, rel, line_of(decorator), "nestjs",
                            handler=method.text(), handler_owner=name.text(), handler_path=rel,
                            handler_line=line_of(member),
                        )
                    )  # fmt: skip
            pending = []

    def _typeorm_entity(self, rel: str, cls: SgNode) -> ModelDecl | None:
        """``@Entity("authors") class Author`` with its ``@ManyToOne(() => X)`` relations."""
        entity = next((d for d in _class_decorators(cls) if _decorator_name(d) == "Entity"), None)
        name = cls.field("name")
        if entity is None or name is None:
            return None
        table = snake(name.text())  # TypeORM's default naming strategy
        args = _named(entity.find(kind="arguments"))
        if args and args[0].kind() == "string":
            table = string_value(args[0])
        elif args and "name" in _pairs(args[0]):
            table = string_value(_pairs(args[0])["name"])
        relations: list[RelationDecl] = []
        for field in cls.find_all(kind="public_field_definition"):
            kind = next(
                (_TYPEORM_RELATIONS[n] for d in field.children() if d.kind() == "decorator"
                 if (n := _decorator_name(d)) in _TYPEORM_RELATIONS),
                None,
            )  # fmt: skip
            prop = field.field("name")
            if kind is None or prop is None:
                continue
            decorator = next(d for d in field.children() if d.kind() == "decorator")
            call_args = _named(decorator.find(kind="arguments"))
            target = ""
            if call_args and call_args[0].kind() == "arrow_function":
                body = call_args[0].field("body")
                target = body.text() if body is not None else ""
            options = next((_pairs(a) for a in call_args if a.kind() == "object"), {})
            eager = "eager" in options and options["eager"].text() == "true"
            relations.append(RelationDecl(prop.text(), target, line_of(field), kind, eager))
        return ModelDecl(name.text(), table.lower(), rel, line_of(cls), "typeorm", tuple(relations))

    def function_decl(self, rel: str, node: SgNode) -> FunctionDecl | None:
        """Named functions, methods, and anonymous handlers (named after their variable)."""
        name_node = node.field("name")
        name = name_node.text() if name_node is not None else None
        parent = node.parent()
        if name is None and parent is not None and parent.kind() == "variable_declarator":
            local = parent.field("name")
            name = local.text() if local is not None else None
        owner = next(
            (
                a.field("name")
                for a in node.ancestors()
                if a.kind() in ("class_declaration", "class")
            ),
            None,
        )
        return FunctionDecl(
            name or "<anonymous>",
            owner.text() if owner is not None else None,
            rel,
            line_of(node),
            end_line_of(node),
        )

    def loop_parts(self, node: SgNode) -> tuple[SgNode | None, set[str], SgNode] | None:
        """``for (const x of xs)``, ``while``, and ``xs.map(x => …)`` style callbacks."""
        kind = node.kind()
        if kind == "for_in_statement":
            left, right, body = node.field("left"), node.field("right"), node.field("body")
            if body is None:
                return None
            names = {n.text() for n in (left.find_all(kind="identifier") if left else [])}
            if left is not None and left.kind() == "identifier":
                names.add(left.text())
            return right, names, body
        if kind in ("for_statement", "while_statement", "do_statement"):
            body = node.field("body")
            return (None, set(), body) if body is not None else None
        if kind != "call_expression":
            return None
        function = node.field("function")
        if function is None or function.kind() != "member_expression":
            return None
        prop = function.field("property")
        if prop is None or prop.text() not in _ITERATORS:
            return None
        callback = next(
            (a for a in _named(node.field("arguments")) if a.kind() in _FUNCTIONS), None
        )
        if callback is None:
            return None
        params = callback.field("parameters") or callback.field("parameter")
        names = {n.text() for n in params.find_all(kind="identifier")} if params else set()
        if params is not None and params.kind() == "identifier":
            names.add(params.text())
        body = callback.field("body")
        return (function.field("object"), names, body) if body is not None else None

    def _query_reason(self, node: SgNode, targets: LoopTargets) -> str | None:
        """Also Prisma's ``prisma.author.findUnique(...)``: a model's delegate queried."""
        if node.kind() == "call_expression":
            function = node.field("function")
            delegate = function.field("object") if function is not None else None
            method = function.field("property") if function is not None else None
            if (
                delegate is not None
                and method is not None
                and method.text() in _PRISMA_QUERIES
                and delegate.kind() == "member_expression"
            ):
                prop = delegate.field("property")
                name = prop.text() if prop is not None else ""
                if name[:1].upper() + name[1:] in targets.models:
                    return f"`{' '.join(node.text().split())[:80]}`"
        return super()._query_reason(node, targets)

    def relation_access(self, node: SgNode) -> tuple[str, str | None] | None:
        """``article.author`` / ``article.getAuthor``."""
        if node.kind() != "member_expression":
            return None
        prop = node.field("property")
        return (prop.text(), root_name(node.field("object"))) if prop is not None else None

    def call_name(self, node: SgNode) -> str | None:
        """The called function's name (a method's property name)."""
        if node.kind() != "call_expression":
            return None
        function = node.field("function")
        if function is None:
            return None
        if function.kind() == "member_expression":
            prop = function.field("property")
            return prop.text() if prop is not None else None
        return function.text() if function.kind() == "identifier" else None

    def eager_names(self, func: SgNode) -> set[str]:
        """Associations named in ``include:``/``relations:`` options of the function's queries."""
        out: set[str] = set()
        for pair in func.find_all(kind="pair"):
            key, value = pair.field("key"), pair.field("value")
            if key is None or value is None or string_value(key) not in _EAGER_KEYS:
                continue
            if value.kind() in ("string", "identifier"):
                out.add(string_value(value))
            for node in self.kinds(value, _EAGER_NAMES):
                out.add(string_value(node))
        for call in func.find_all(kind="call_expression"):
            if self.call_name(call) in _JOIN_SELECT:  # .leftJoinAndSelect("post.author", "a")
                first = next(iter(_named(call.field("arguments"))), None)
                if first is not None and first.kind() == "string":
                    out.add(string_value(first).split(".")[-1])
        getters = {"get" + n[:1].upper() + n[1:] for n in out}
        lowered = {n[:1].lower() + n[1:] for n in out}
        return out | getters | lowered | {plural(n) for n in lowered}

    def is_constant_iterable(self, node: SgNode | None) -> bool:
        """``["a", "b"]``."""
        return (
            node is not None
            and node.kind() == "array"
            and all(c.kind() in _LITERALS for c in _named(node))
        )
