"""Match our templated route (``GET /users/{id}/feed``) against a framework's route pattern.

Declared patterns come in every framework's syntax — Flask ``<int:id>``, FastAPI/Spring/Laravel
``{id}``, Express/Rails ``:id``, splats ``*path``/``{*rest}``/``<path:p>`` — and Django's
``re_path`` regexes. Both sides are cut into segments; a placeholder of ours matches a parameter
of theirs, a literal matches the same literal. A declared parameter may also stand where our
route kept a literal (few distinct values were seen), at a lower score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from logtriage.locate.code_facts import RouteDecl

_OUR_PLACEHOLDER = re.compile(r"^\{[^{}/]+\}(?:\.\w+)?$")
# A framework's parameter segment: {id}, {id:int}, {id?}, <id>, <int:id>, :id, :id?, [id], *.
_PARAM = re.compile(r"^(?:\{[^{}]+\}|<[^<>]+>|:\w+\??|\[\w+\]|\$\w+|\(\?P<\w+>[^)]*\))$")
_SPLAT = re.compile(r"^(?:\*\w*|\{\*\w*\}|\{\w+:\.\*\}|<path:\w+>|\*\*|\{\w+\*\}|\[\.\.\.\w+\])$")
# Concrete values for our placeholders, to test a Django regex route.
_SAMPLES = {
    "{id}": ("1", "42"),
    "{uuid}": ("0b7f7c4e-8d0a-4a4e-9a53-0c1d2e3f4a5b",),
    "{date}": ("2024-01-31",),
    "{hex}": ("deadbeef0123",),
}
_DEFAULT_SAMPLES = ("x", "1", "abc-def", "2024")


@dataclass(frozen=True)
class RouteMatch:
    """How well a declared route matches ours (1.0 = every segment agrees)."""

    decl: RouteDecl
    score: float


def split_route(route: str) -> tuple[str | None, list[str]]:
    """``GET /a/{id}?q=*`` → (``GET``, [``a``, ``{id}``]); query keys and slashes dropped."""
    text = route.strip()
    method = None
    if " " in text:
        head, rest = text.split(None, 1)
        if head.isalpha() and head.isupper():
            method, text = head, rest
    text = text.split("?", 1)[0]
    return method, [s for s in text.split("/") if s]


def _method_ok(method: str | None, decl: RouteDecl) -> bool:
    if method is None or not decl.methods:
        return True
    allowed = set(decl.methods)
    if "GET" in allowed:
        allowed.add("HEAD")
    return method in allowed or "ANY" in allowed


def _segment_score(ours: str, theirs: str) -> float | None:
    mine_is_param = bool(_OUR_PLACEHOLDER.match(ours))
    theirs_is_param = bool(_PARAM.match(theirs))
    if mine_is_param and theirs_is_param:
        return 1.0
    if theirs_is_param:
        return 0.75  # our templating kept a value the framework treats as a parameter
    if mine_is_param:
        # A format suffix ``{id}.json`` against ``:id.json`` or ``{id}.{format}``.
        return 1.0 if _PARAM.match(theirs.split(".", 1)[0]) else None
    return 1.0 if ours.lower() == theirs.lower() else None


def _match_segments(ours: list[str], theirs: list[str]) -> float | None:
    """Mean segment score of a full match, None when they do not match."""
    if theirs and _SPLAT.match(theirs[-1]):
        head = theirs[:-1]
        if len(ours) < len(head):
            return None
        scores = [_segment_score(o, t) for o, t in zip(ours, head, strict=False)]
        if any(s is None for s in scores):
            return None
        return 0.8 * (sum(s for s in scores if s is not None) + 1) / (len(head) + 1)
    if len(ours) != len(theirs):
        return None
    if not ours:
        return 1.0
    scores = [_segment_score(o, t) for o, t in zip(ours, theirs, strict=True)]
    if any(s is None for s in scores):
        return None
    return sum(s for s in scores if s is not None) / len(scores)


def _samples(segments: list[str]) -> list[str]:
    """A few concrete paths for our route, to try against a regex."""
    paths = [""]
    for seg in segments:
        options = _SAMPLES.get(seg, _DEFAULT_SAMPLES) if _OUR_PLACEHOLDER.match(seg) else (seg,)
        paths = [p + "/" + o for p in paths for o in options][:64]
    return paths


def _regex_score(segments: list[str], regex: str) -> float | None:
    try:
        compiled = re.compile(regex)
    except re.error:
        return None
    for sample in _samples(segments):
        for candidate in (sample.lstrip("/"), sample.lstrip("/") + "/", sample, sample + "/"):
            if compiled.fullmatch(candidate):
                return 0.95
    return None


def match_route(route: str, decl: RouteDecl) -> float | None:
    """How well ``decl`` handles our ``route``; None when it cannot."""
    method, ours = split_route(route)
    if not _method_ok(method, decl):
        return None
    if decl.regex is not None:
        return _regex_score(ours, decl.regex)
    theirs = [s for s in decl.pattern.split("?", 1)[0].split("/") if s]
    full = _match_segments(ours, theirs)
    if full is not None:
        return full if decl.methods else full * 0.9
    return None


def suffix_match(route: str, decl: RouteDecl) -> float | None:
    """A match of the declared pattern against the tail of our path (an unknown mount prefix)."""
    method, ours = split_route(route)
    if decl.regex is not None or not _method_ok(method, decl):
        return None
    theirs = [s for s in decl.pattern.split("/") if s]
    if not theirs or len(theirs) >= len(ours):
        return None
    score = _match_segments(ours[len(ours) - len(theirs) :], theirs)
    literal = sum(1 for t in theirs if not _PARAM.match(t))
    # A bare "/{id}" tail says little; demand one literal segment.
    return 0.6 * score if score is not None and literal else None


def best_routes(route: str, decls: list[RouteDecl], limit: int = 3) -> list[RouteMatch]:
    """The declared routes that handle ``route``, best first (suffix matches only as a fallback)."""
    full = [RouteMatch(d, s) for d in decls if (s := match_route(route, d)) is not None]
    if not full:
        full = [RouteMatch(d, s) for d in decls if (s := suffix_match(route, d)) is not None]
    full.sort(key=lambda m: (-m.score, m.decl.path, m.decl.line))
    return full[:limit]
