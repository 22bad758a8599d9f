"""What a language scanner reads out of one file: routes, ORM models, SQL, functions, loops."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class RouteDecl:
    """A route declared in code, with the function that handles it."""

    methods: tuple[str, ...]  # upper-case; () = any method
    pattern: str  # the path as declared (framework syntax), prefixes applied when known
    path: str  # the file that declares the route
    line: int
    framework: str
    handler: str | None = None  # function or method name
    handler_owner: str | None = None  # its class/controller, when it is a method
    handler_path: str | None = None  # the file that defines the handler, when known
    handler_line: int | None = None  # the handler's first line, when declared inline
    regex: str | None = None  # a full-match regex instead of a pattern (Django re_path)
    # Mount keys whose prefixes apply (a Flask blueprint, an Express router's module, …).
    mount_key: str | None = None


@dataclass(frozen=True)
class Mount:
    """A prefix applied to every route of ``key`` (``app.use('/api', router)``, blueprints…)."""

    key: str
    prefix: str
    # The key whose prefixes come before this one (an include inside an included urls.py).
    parent: str | None = None
    # Flask's ``register_blueprint(url_prefix=…)`` replaces the blueprint's own prefix.
    replaces: bool = False


@dataclass(frozen=True)
class RelationDecl:
    """An association of a model: ``Article.author`` → the ``Author`` model."""

    name: str
    target: str  # class name (or table name) it points to
    line: int
    kind: str = "to-one"  # to-one | to-many
    eager: bool = False  # declared eager (``lazy="joined"``, ``FetchType.EAGER``, ``$with``)


@dataclass(frozen=True)
class ModelDecl:
    """A class an ORM maps to a table."""

    name: str
    table: str
    path: str
    line: int
    orm: str  # sqlalchemy | django | activerecord | jpa | eloquent | sequelize | typeorm
    relations: tuple[RelationDecl, ...] = ()
    # Relations this class adds to *other* models (SQLAlchemy ``backref``, Django
    # ``related_name``): (the other model's name, the relation on it).
    backrefs: tuple[tuple[str, RelationDecl], ...] = ()


@dataclass(frozen=True)
class FunctionDecl:
    """A function or method: its name, class, and the lines it spans."""

    name: str
    owner: str | None
    path: str
    line: int
    end_line: int


@dataclass(frozen=True)
class SqlLiteral:
    """A string in the code that is a SQL statement."""

    text: str  # lower-case
    path: str
    line: int


@dataclass
class FileFacts:
    """Everything one scanner read from one file."""

    routes: list[RouteDecl] = field(default_factory=list)
    mounts: list[Mount] = field(default_factory=list)
    models: list[ModelDecl] = field(default_factory=list)
    functions: list[FunctionDecl] = field(default_factory=list)
    sql: list[SqlLiteral] = field(default_factory=list)
    # Local name -> (module or file, name in it): what imports bring into this file.
    imports: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    # Relations declared outside the model class (Sequelize ``A.belongsTo(B)``): (owner, relation).
    associations: list[tuple[str, RelationDecl]] = field(default_factory=list)
    # Query methods that fetch relations eagerly (a JPA ``@Query`` with ``JOIN FETCH``,
    # ``@EntityGraph``): method name -> relation names.
    eager_methods: dict[str, set[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LoopTargets:
    """What, touched once per item inside a loop, issues the finding's query."""

    relations: frozenset[str]  # lazy association names (``author``, ``getAuthor``)
    models: frozenset[str]  # model class names mapped to the table (``Author``)
    tables: frozenset[str]  # table names, for raw SQL in the loop
    helpers: frozenset[str]  # project functions that run such a query
    # Project query methods that load relations eagerly: method name -> relation names.
    eager_calls: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LoopHit:
    """A loop that runs the query once per item: the line the fix goes on."""

    path: str
    line: int
    function: str
    reason: str  # what in the loop issues the query, for the fix text
    via: str  # relation | model | helper | sql
    relation: str | None = None
    confidence: float = 0.8


_SQL_START = re.compile(r"^\s*(?:select|insert|update|delete|with)\b", re.IGNORECASE)
_SQL_BODY = re.compile(r"\b(?:from|into|set|join)\b", re.IGNORECASE)


def looks_like_sql(text: str) -> bool:
    """A string constant that is a SQL statement (not prose that starts with "select")."""
    return bool(_SQL_START.match(text)) and bool(_SQL_BODY.search(text)) and len(text) < 20_000


def snake(name: str) -> str:
    """``ArticleTag`` → ``article_tag``."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name).lower()


_IRREGULAR = {"person": "people", "man": "men", "child": "children", "mouse": "mice"}


def plural(word: str) -> str:
    """English plural as Rails/Laravel/Sequelize name tables (the common rules)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if re.search(r"[^aeiou]y$", word):
        return word[:-1] + "ies"
    if re.search(r"(?:s|x|z|ch|sh)$", word):
        return word + "es"
    return word + "s"


def singular(word: str) -> str:
    """The singular of a table name: ``authors`` → ``author``, ``categories`` → ``category``."""
    for one, many in _IRREGULAR.items():
        if word == many:
            return one
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if re.search(r"(?:ss|x|z|ch|sh)es$", word):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word
