"""Java: Spring ``@GetMapping``/``@RequestMapping`` handlers, JPA entities and relations, loops."""

from __future__ import annotations

import re

from ast_grep_py import SgNode

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    ModelDecl,
    RelationDecl,
    RouteDecl,
    snake,
)
from logtriage.locate.structural_code import (
    StructuralScanner,
    end_line_of,
    line_of,
    root_name,
    string_value,
)

_MAPPINGS = {
    "GetMapping": "GET",
    "PostMapping": "POST",
    "PutMapping": "PUT",
    "PatchMapping": "PATCH",
    "DeleteMapping": "DELETE",
    "RequestMapping": "",
}
_RELATIONS = {"ManyToOne": "to-one", "OneToOne": "to-one", "OneToMany": "to-many",
              "ManyToMany": "to-many"}  # fmt: skip
_ITERATORS = frozenset({"forEach", "map", "flatMap", "filter", "anyMatch", "allMatch", "collect"})
_LITERALS = frozenset({"string_literal", "decimal_integer_literal", "true", "false"})
_JOIN_FETCH = re.compile(r"\bjoin\s+fetch\s+\w+\.(\w+)", re.IGNORECASE)


def _named(node: SgNode | None) -> list[SgNode]:
    return [c for c in node.children() if c.is_named()] if node is not None else []


def _annotations(node: SgNode) -> list[SgNode]:
    modifiers = next((c for c in node.children() if c.kind() == "modifiers"), None)
    return [a for a in _named(modifiers) if a.kind() in ("annotation", "marker_annotation")]


def _annotation_name(node: SgNode) -> str:
    name = node.field("name")
    return name.text().split(".")[-1] if name is not None else ""


def _annotation_values(node: SgNode) -> dict[str, list[SgNode]]:
    """``@X("a")`` → {"value": [a]}; ``@X(path = {"a", "b"}, method = GET)`` → by key."""
    out: dict[str, list[SgNode]] = {}
    for arg in _named(node.field("arguments")):
        if arg.kind() == "element_value_pair":
            key, value = arg.field("key"), arg.field("value")
            if key is not None and value is not None:
                out[key.text()] = (
                    _named(value) if value.kind().endswith("array_initializer") else [value]
                )
        else:
            out.setdefault("value", []).extend(
                _named(arg) if arg.kind().endswith("array_initializer") else [arg]
            )
    return out


def _paths(values: dict[str, list[SgNode]]) -> list[str]:
    nodes = values.get("value", []) + values.get("path", [])
    return [string_value(n) for n in nodes if n.kind() == "string_literal"] or [""]


class JavaScanner(StructuralScanner):
    """Spring MVC / Spring Data JPA applications."""

    language = "java"
    function_kinds = frozenset({"method_declaration"})
    string_kinds = frozenset({"string_literal", "text_block"})
    name_kinds = frozenset({"identifier", "type_identifier"})

    def scan_root(self, rel: str, root: SgNode, facts: FileFacts) -> None:
        """Controllers' routes, entities, and repository methods that fetch eagerly."""
        for cls in self.kinds(root, frozenset({"class_declaration", "interface_declaration"})):
            name = cls.field("name")
            if name is None:
                continue
            annotations = {_annotation_name(a): a for a in _annotations(cls)}
            prefixes = [""]
            if "RequestMapping" in annotations:
                prefixes = _paths(_annotation_values(annotations["RequestMapping"]))
            if "Entity" in annotations:
                facts.models.append(self._entity(rel, cls, name.text(), annotations))
            body = cls.field("body")
            for method in (m for m in _named(body) if m.kind() == "method_declaration"):
                self._method(rel, method, name.text(), prefixes, facts)

    def _method(
        self, rel: str, method: SgNode, owner: str, prefixes: list[str], facts: FileFacts
    ) -> None:
        name = method.field("name")
        if name is None:
            return
        for annotation in _annotations(method):
            kind = _annotation_name(annotation)
            values = _annotation_values(annotation)
            if kind in _MAPPINGS:
                verb = _MAPPINGS[kind]
                methods = (
                    (verb,)
                    if verb
                    else tuple(n.text().split(".")[-1] for n in values.get("method", []))
                )
                for prefix in prefixes:
                    for path in _paths(values):
                        pattern = prefix.rstrip("/") + "/" + path.lstrip("/") if path else prefix
                        facts.routes.append(
                            RouteDecl(
                                methods, pattern or "/", rel, line_of(annotation), "spring",
                                handler=name.text(), handler_owner=owner, handler_path=rel,
                                handler_line=line_of(name),
                            )
                        )  # fmt: skip
            elif kind == "Query":
                text = " ".join(string_value(v) for v in values.get("value", []))
                fetched = set(_JOIN_FETCH.findall(text))
                if fetched:
                    facts.eager_methods.setdefault(name.text(), set()).update(fetched)
            elif kind == "EntityGraph":
                paths = {string_value(v) for v in values.get("attributePaths", [])}
                facts.eager_methods.setdefault(name.text(), set()).update(paths)

    def _entity(
        self, rel: str, cls: SgNode, name: str, annotations: dict[str, SgNode]
    ) -> ModelDecl:
        table = snake(name)  # Spring Boot's default physical naming: snake_case
        if "Table" in annotations:
            names = _annotation_values(annotations["Table"]).get("name", [])
            table = string_value(names[0]) if names else table
        relations: list[RelationDecl] = []
        for field in cls.find_all(kind="field_declaration"):
            kinds = [_annotation_name(a) for a in _annotations(field)]
            kind = next((_RELATIONS[k] for k in kinds if k in _RELATIONS), None)
            declarator = field.find(kind="variable_declarator")
            type_node = field.field("type")
            if kind is None or declarator is None or type_node is None:
                continue
            var = declarator.field("name")
            targets = [t.text() for t in type_node.find_all(kind="type_identifier")]
            target = targets[-1] if targets else type_node.text()
            # FetchType.EAGER does not prevent an N+1: Hibernate still loads each row apart
            # after a query that did not JOIN FETCH it, so every relation counts as lazy here.
            if var is not None:
                relations.append(RelationDecl(var.text(), target, line_of(field), kind))
        return ModelDecl(name, table.lower(), rel, line_of(cls), "jpa", tuple(relations))

    def function_decl(self, rel: str, node: SgNode) -> FunctionDecl | None:
        """A method, on the line of its name (annotations come before it)."""
        name = node.field("name")
        if name is None:
            return None
        owner = next(
            (a.field("name") for a in node.ancestors()
             if a.kind() in ("class_declaration", "interface_declaration", "enum_declaration")),
            None,
        )  # fmt: skip
        return FunctionDecl(
            name.text(),
            owner.text() if owner is not None else None,
            rel,
            line_of(name),
            end_line_of(node),
        )

    def loop_parts(self, node: SgNode) -> tuple[SgNode | None, set[str], SgNode] | None:
        """``for (T x : xs)``, ``for``/``while``, and stream lambdas (``xs.forEach(x -> …)``)."""
        kind = node.kind()
        if kind == "enhanced_for_statement":
            name, value, body = node.field("name"), node.field("value"), node.field("body")
            if body is None:
                return None
            return value, {name.text()} if name is not None else set(), body
        if kind in ("for_statement", "while_statement", "do_statement"):
            body = node.field("body")
            return (None, set(), body) if body is not None else None
        if kind != "method_invocation":
            return None
        name = node.field("name")
        if name is None or name.text() not in _ITERATORS:
            return None
        lam = next(
            (a for a in _named(node.field("arguments")) if a.kind() == "lambda_expression"), None
        )
        if lam is None:
            return None
        params = lam.field("parameters")
        names = {n.text() for n in params.find_all(kind="identifier")} if params else set()
        if params is not None and params.kind() == "identifier":
            names.add(params.text())
        body = lam.field("body")
        return (node.field("object"), names, body) if body is not None else None

    def relation_access(self, node: SgNode) -> tuple[str, str | None] | None:
        """``article.getAuthor()`` / ``article.author``."""
        if node.kind() == "method_invocation":
            name, obj = node.field("name"), node.field("object")
            if name is not None and obj is not None:
                return name.text(), root_name(obj)
        if node.kind() == "field_access":
            name, obj = node.field("field"), node.field("object")
            if name is not None and obj is not None:
                return name.text(), root_name(obj)
        return None

    def call_name(self, node: SgNode) -> str | None:
        """The invoked method's name."""
        if node.kind() != "method_invocation":
            return None
        name = node.field("name")
        return name.text() if name is not None else None

    def eager_names(self, func: SgNode) -> set[str]:
        """Relations fetched by a JPQL ``JOIN FETCH`` written in the method itself."""
        out: set[str] = set()
        for literal in func.find_all(kind="string_literal"):
            out.update(_JOIN_FETCH.findall(string_value(literal)))
        return out | {"get" + n[:1].upper() + n[1:] for n in out}

    def is_constant_iterable(self, node: SgNode | None) -> bool:
        """``List.of("a", "b")`` / ``Arrays.asList(…)`` / ``new String[] {…}`` of literals."""
        if node is None:
            return False
        if node.kind() == "method_invocation":
            name = node.field("name")
            args = _named(node.field("arguments"))
            return (
                name is not None and name.text() in ("of", "asList") and bool(args)
                and all(a.kind() in _LITERALS for a in args)
            )  # fmt: skip
        if node.kind() == "array_creation_expression":
            init = node.find(kind="array_initializer")
            return init is not None and all(a.kind() in _LITERALS for a in _named(init))
        return False
