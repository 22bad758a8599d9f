"""logfmt access logs (Heroku router ``at=info method=GET path=… status=200 service=18ms``).

The same reader as ``logfmt`` (see there), chosen when most lines are requests: lines with
``method``, a path and ``status`` become ``requests`` (Heroku's ``connect`` + ``service`` is
the duration, ``service`` the upstream time, ``fwd`` the client); the app's logfmt lines on
the same stream become app events beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from logtriage.sources.base import Detection, FormatOptions, ParsePlan
from logtriage.sources.logfmt import access_plan, confidence


class LogfmtAccessFormat:
    """logfmt access-log records: Heroku router lines, logfmt request logs of Go/Ruby services."""

    name = "logfmt_access"
    table = "requests"
    description = (
        "logfmt access logs: Heroku router lines, request logs written as key=value pairs "
        "(method, path, status, duration)"
    )
    recognises = 'key=value pairs with method, path and status: at=info method=GET path="/" …'
    field_hints: Mapping[str, str] = {
        "duration_ms": (
            "log the request time as a pair: duration=1.5ms (Go time.Duration) or "
            "duration_ms=1.5; Heroku's router always writes connect= and service="
        ),
        "request_id": (
            "log the request id as a pair (request_id=…): Heroku's router adds request_id "
            "and passes it to the app as the X-Request-ID header, so log that header there too"
        ),
    }

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Share of sample lines that are logfmt; sure when most are requests."""
        return confidence(lines, primary_access=True)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Requests from the access lines; the other logfmt lines as app events beside."""
        return access_plan(sample, options, variant)


FORMAT = LogfmtAccessFormat()
