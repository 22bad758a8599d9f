"""The specific fix of an N+1 once its loop, its relation and its ORM are known."""

from __future__ import annotations

from dataclasses import dataclass

from logtriage.locate.code_facts import FunctionDecl, LoopHit, ModelDecl, RelationDecl


@dataclass(frozen=True)
class LoopCause:
    """A located loop with what the scan knows of the models behind it."""

    hit: LoopHit
    owner: ModelDecl | None = None  # the model that declares the relation touched in the loop
    relation: RelationDecl | None = None
    target: ModelDecl | None = None  # the model mapped to the repeated query's table
    handler: FunctionDecl | None = None  # the route's handler, when the loop is elsewhere


def _eager_call(orm: str, owner: str, relation: RelationDecl) -> str:
    """The eager-loading call that loads ``owner.relation`` with its parents, in ``orm``'s words."""
    name = relation.name
    many = relation.kind == "to-many"
    alias = owner[:1].lower() or "x"
    return {
        "sqlalchemy": f"`.options(selectinload({owner}.{name}))`"
        + ("" if many else f" (or `joinedload({owner}.{name})`)"),
        "django": f'`.prefetch_related("{name}")`' if many else f'`.select_related("{name}")`',
        "activerecord": f"`.includes(:{name})`",
        "jpa": f"`JOIN FETCH {alias}.{name}` in the query (or "
        f'`@EntityGraph(attributePaths = "{name}")` on the repository method)',
        "eloquent": f"`->with('{name}')`",
        "sequelize": f"`include: '{name}'`",
        "typeorm": f"`relations: {{ {name}: true }}`",
        "prisma": f"`include: {{ {name}: true }}`",
    }.get(orm, f"eager loading of `{name}`")


def _bulk_call(orm: str, model: str) -> str:
    """One query for all the items' rows instead of one per item."""
    delegate = model[:1].lower() + model[1:]
    return {
        "sqlalchemy": f"`select({model}).where({model}.id.in_(ids))`",
        "django": f"`{model}.objects.in_bulk(ids)`",
        "activerecord": f"`{model}.where(id: ids).index_by(&:id)`",
        "jpa": f"`findAllById(ids)` on the {model} repository",
        "eloquent": f"`{model}::whereIn('id', $ids)->get()->keyBy('id')`",
        "sequelize": f"`{model}.findAll({{ where: {{ id: ids }} }})`",
        "typeorm": f"`find({{ where: {{ id: In(ids) }} }})` on the {model} repository",
        "prisma": f"`prisma.{delegate}.findMany({{ where: {{ id: {{ in: ids }} }} }})`",
    }.get(orm, "one `WHERE id IN (...)` query")


def loop_fix(cause: LoopCause, table: str, per_request: object) -> str:
    """The fix text for an N+1 whose loop is at ``cause.hit``."""
    hit = cause.hit
    where = f"{hit.path}:{hit.line}" + (
        f" (in `{hit.function}`)" if hit.function != hit.path else ""
    )
    count = f"{per_request} queries" if per_request is not None else "the per-item queries"
    handler = cause.handler
    # The loop may sit in a template or a helper: the eager load goes into the handler's query.
    query = (
        f"the query in `{handler.name}` ({handler.path}:{handler.line})"
        if handler is not None and handler.path != hit.path
        else "the query"
    )
    if cause.relation is not None and cause.owner is not None:
        call = _eager_call(cause.owner.orm, cause.owner.name, cause.relation)
        return (
            f"The loop at {where} reads {hit.reason}, which loads one row of {table} per "
            f"{cause.owner.name}: load `{cause.owner.name}.{cause.relation.name}` with "
            f"{query} that fetches the {cause.owner.name} rows — {call} — so one query "
            f"replaces {count} per request."
        )
    if cause.target is not None and hit.via in ("model", "helper"):
        call = _bulk_call(cause.target.orm, cause.target.name)
        return (
            f"The loop at {where} runs {hit.reason} once per item: fetch the {table} rows of "
            f"all items before the loop with {call} and look them up by id, so one query "
            f"replaces {count} per request."
        )
    return (
        f"The loop at {where} runs a query on {table} per item ({hit.reason}): load those rows "
        f"with the parent query (eager loading) or with one `WHERE id IN (...)` query before "
        f"the loop, so one query replaces {count} per request."
    )
