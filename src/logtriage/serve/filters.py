"""The dashboard's filter parameters (time range, route, status, client) read from a URL."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from logtriage.engine.explore import ROUTE_SORTS, Filters
from logtriage.model.i18n import _

_STATUS = re.compile(r"([1-5])(?:xx|XX)|([1-5]\d\d)")
_CLIENT = re.compile(r"[0-9A-Za-z.:\-_]{1,64}")
# Keys a page understands; anything else in the URL is refused, so a typo does not silently
# show unfiltered numbers.
KNOWN = frozenset({"since", "until", "route", "status", "client", "sort"})
_MAX_TEXT = 200


class BadFilterError(ValueError):
    """A filter value the dashboard cannot read: one line saying what is accepted."""


def _time(name: str, value: str) -> datetime | None:
    text = value.strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadFilterError(
            _(
                "{name}: cannot read {value} as a time; use 2026-11-24 or 2026-11-24T10:00:00Z"
            ).format(name=name, value=repr(text[:40]))
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed  # a time without a zone is UTC, as the logs' tables are


def _statuses(value: str) -> tuple[tuple[int, int], ...]:
    out = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        match = _STATUS.fullmatch(part)
        if not match:
            raise BadFilterError(
                _("status: cannot read {value}; use a code (404), a class (5xx) or a list").format(
                    value=repr(part[:20])
                )
            )
        if match.group(1):
            base = int(match.group(1)) * 100
            out.append((base, base + 99))
        else:
            code = int(match.group(2))
            out.append((code, code))
    return tuple(out)


def parse_filters(params: Mapping[str, str]) -> tuple[Filters, str]:
    """The filters and the sort key in ``params``; ``BadFilterError`` for a value it cannot read."""
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise BadFilterError(
            _("unknown parameter {name}; filters are {known}").format(
                name=repr(unknown[0][:40]), known=", ".join(sorted(KNOWN))
            )
        )
    route = params.get("route", "").strip()
    client = params.get("client", "").strip()
    if len(route) > _MAX_TEXT:
        raise BadFilterError(_("route: at most {count} characters").format(count=_MAX_TEXT))
    if client and not _CLIENT.fullmatch(client):
        raise BadFilterError(_("client: an address or its beginning, such as 10.0.0.7 or 10.0."))
    since = _time("since", params.get("since", ""))
    until = _time("until", params.get("until", ""))
    if since and until and since >= until:
        raise BadFilterError(_("since must be before until"))
    sort = params.get("sort", "").strip() or "total"
    if sort not in ROUTE_SORTS:
        raise BadFilterError(_("sort: one of {choices}").format(choices=", ".join(ROUTE_SORTS)))
    filters = Filters(
        since=since,
        until=until,
        route=route,
        statuses=_statuses(params.get("status", "")),
        client=client,
    )
    return filters, sort
