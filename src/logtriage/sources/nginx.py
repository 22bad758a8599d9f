"""nginx access logs: ``combined``, ``main``, timing variants, and any ``log_format`` string.

Variables: https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format and
https://nginx.org/en/docs/varindex.html. nginx writes ``$time_local`` when the request
*ends*, so the request's start is that time minus ``$request_time``.

The ``$upstream_*`` variables list one value per upstream server tried, joined with ", " (and
" : " between the upstream groups of an internal redirect). The upstream time is their sum
(the time spent waiting on upstreams); of ``$upstream_status`` the last value counts, the answer
the client got, and it stands in for ``$status`` only when the format has no ``$status``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

from logtriage.errors import FormatError
from logtriage.model.i18n import _
from logtriage.sources.access_template import (
    MAX_TAIL_FIELDS,
    QUOTED_ANY,
    TIME_CLF,
    TOKEN,
    AccessTemplate,
    Literal,
    Part,
    Var,
    compile_parts,
)
from logtriage.sources.base import Detection, FormatOptions, ParsePlan

COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
MAIN = COMBINED + ' "$http_x_forwarded_for"'
# Kubernetes ingress-nginx's default ``upstreaminfo`` (its log-format-upstream setting).
INGRESS_NGINX = COMBINED + (
    " $request_length $request_time [$proxy_upstream_name] [$proxy_alternative_upstream_name]"
    " $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $req_id"
)

# Its format before 0.26 (2019): the real client in brackets after $remote_addr, no alternative
# upstream, and before 0.20 X-Forwarded-For there and no $req_id.
INGRESS_NGINX_LEGACY = (
    '$remote_addr - [$the_real_ip] - $remote_user [$time_local] "$request" $status '
    '$body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time '
    "[$proxy_upstream_name] $upstream_addr $upstream_response_length $upstream_response_time "
    "$upstream_status $req_id"
)
INGRESS_NGINX_OLDEST = INGRESS_NGINX_LEGACY.removesuffix(" $req_id").replace(
    "[$the_real_ip]", "[$proxy_add_x_forwarded_for]"
)

_SECONDS = r"-|\d+(?:\.\d+)?"
_SECONDS_LIST = r"-|\d+(?:\.\d+)?(?:(?:, | : )(?:-|\d+(?:\.\d+)?))*"
_NUMBER_LIST = r"-|\d+(?:(?:, | : )(?:-|\d+))*"
_STATUS_LIST = r"-|\d{3}(?:(?:, | : )(?:-|\d{3}))*"
# host:port, [v6]:port, unix:/path or an upstream group name; "-" when none was tried.
_ADDRESS_LIST = r"[^\s,]+(?:(?:, | : )[^\s,]+)*"

# nginx variable -> (slot, regex when unquoted). Inside quotes any variable is QUOTED_ANY.
VARIABLES: dict[str, tuple[str | None, str]] = {
    "remote_addr": ("client", TOKEN),
    "realip_remote_addr": ("client", TOKEN),
    "binary_remote_addr": (None, TOKEN),
    "http_x_forwarded_for": ("xff", r"\S+(?:, \S+)*"),
    "http_x_real_ip": ("client", TOKEN),
    "the_real_ip": ("xff", TOKEN),
    "proxy_add_x_forwarded_for": ("xff", r"\S+(?:, \S+)*"),
    "remote_user": ("remote_user", TOKEN),
    "time_local": ("time_clf", TIME_CLF),
    "time_iso8601": ("time_iso", r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:Z|[+-]\d{2}:?\d{2})"),
    "msec": ("time_epoch_s", r"\d+\.\d+"),
    "request": ("request_line", r"\S+ \S+(?: \S+)?"),
    "request_method": ("method", TOKEN),
    "request_uri": ("uri", TOKEN),
    "uri": ("path", TOKEN),
    "document_uri": ("path", TOKEN),
    "args": ("query", r"\S*"),
    "query_string": ("query", r"\S*"),
    "status": ("status", r"\d{3}"),
    "body_bytes_sent": ("bytes", r"\d+|-"),
    "bytes_sent": ("bytes", r"\d+|-"),
    "http_referer": ("referrer", TOKEN),
    "http_user_agent": ("user_agent", TOKEN),
    "request_time": ("duration_s", _SECONDS),
    "upstream_response_time": ("upstream_s_list", _SECONDS_LIST),
    "upstream_connect_time": (None, _SECONDS_LIST),
    "upstream_header_time": (None, _SECONDS_LIST),
    "upstream_status": ("upstream_status_list", _STATUS_LIST),
    "upstream_addr": (None, _ADDRESS_LIST),
    "upstream_response_length": (None, _NUMBER_LIST),
    "upstream_bytes_received": (None, _NUMBER_LIST),
    "request_length": (None, r"\d+"),
    "request_id": ("request_id", TOKEN),
    # ingress-nginx: the client's X-Request-ID, else $request_id.
    "req_id": ("request_id", TOKEN),
    "http_x_request_id": ("request_id", TOKEN),
    "sent_http_x_request_id": ("request_id", TOKEN),
    "http_traceparent": ("traceparent", TOKEN),
    "otel_trace_id": ("trace_id", TOKEN),
    "host": ("host", TOKEN),
    "http_host": ("host", TOKEN),
    "server_name": ("host", TOKEN),
}

_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def directive_to_template(directive: str) -> str:
    """Accept a whole ``log_format name [escape=…] '…' '…';`` directive or the bare string."""
    text = directive.strip().rstrip(";").strip()
    quoted = re.findall(r"'((?:[^'\\]|\\.)*)'", text)
    if text.startswith("log_format") and quoted:
        return "".join(quoted)
    if text.startswith("log_format"):
        # Unquoted: log_format NAME [escape=X] $a $b ... (no spaces inside pieces)
        words = text.split()[2:]
        return " ".join(w for w in words if not w.startswith("escape="))
    return "".join(quoted) if quoted and text.startswith("'") else text


def parse_template(template: str) -> list[Part]:
    """Split an nginx format string into literals and variables (quoted context aware)."""
    pieces: list[tuple[str, str]] = []  # ("lit", text) | ("var", name)
    pos = 0
    for match in _VARIABLE.finditer(template):
        if match.start() > pos:
            pieces.append(("lit", template[pos : match.start()]))
        pieces.append(("var", match.group(1) or match.group(2)))
        pos = match.end()
    if pos < len(template):
        pieces.append(("lit", template[pos:]))
    parts: list[Part] = []
    for i, (kind, text) in enumerate(pieces):
        if kind == "lit":
            parts.append(Literal(text))
            continue
        before = pieces[i - 1][1] if i > 0 and pieces[i - 1][0] == "lit" else ""
        after = pieces[i + 1][1] if i + 1 < len(pieces) and pieces[i + 1][0] == "lit" else ""
        is_quoted = before.endswith('"') and after.startswith('"')
        slot, unquoted = VARIABLES.get(text, (None, r"\S*"))
        parts.append(Var(slot, QUOTED_ANY if is_quoted else unquoted))
    return parts


def compile_nginx(directive: str) -> AccessTemplate:
    """Compile an nginx ``log_format`` into an access template."""
    template = directive_to_template(directive)
    if "$" not in template:
        raise FormatError(
            _("not an nginx log_format (no $variables): {format}").format(
                format=repr(directive[:80])
            )
        )
    return compile_parts(parse_template(template), time_is_end=True)


# Extra fields people append after combined/main, recognised by key or by shape.
_TAIL_KEYS = {
    "rt": "request_time",
    "request_time": "request_time",
    "urt": "upstream_response_time",
    "upstream_response_time": "upstream_response_time",
    "uct": "upstream_connect_time",
    "uht": "upstream_header_time",
    "rid": "request_id",
    "req_id": "request_id",
    "request_id": "request_id",
    "trace_id": "otel_trace_id",
    "traceparent": "http_traceparent",
    "host": "host",
}
# A field: optional key=, then a quoted string, or a token (nginx joins upstream lists
# with ", " and " : ", so those stay one field).
_TAIL_TOKEN = re.compile(r'\s*(?:(\w+)=)?("(?:[^"\\]|\\.)*"|\S+(?:(?:, | : )\S+)*)')
_SECONDS_RE = re.compile(r"^(?:-|\d+\.\d+(?:(?:, | : )(?:-|\d+(?:\.\d+)?))*)$")
# $msec: seconds since the epoch with milliseconds (ten digits before the point until 2286).
_EPOCH_RE = re.compile(r"^\d{10}\.\d{3}$")
_HEX_ID = re.compile(r"^[0-9a-f]{16,64}$|^[0-9a-fA-F-]{36}$")


def infer_tail(tails: Sequence[str]) -> str:
    """Guess the nginx variables of text appended after a known prefix, from sample lines."""
    if not tails:
        return ""
    # Use a line with the most common number of fields (a stray line must not decide).
    counts = Counter(len(_TAIL_TOKEN.findall(t)) for t in tails)
    usual = max(counts, key=lambda n: (counts[n], n))
    if usual > MAX_TAIL_FIELDS:
        return ""
    sample = next(t for t in tails if len(_TAIL_TOKEN.findall(t)) == usual)
    out: list[str] = []
    seconds_seen = 0
    for key, raw in _TAIL_TOKEN.findall(sample):
        quoted = raw.startswith('"')
        value = raw[1:-1] if quoted else raw
        var = _TAIL_KEYS.get(key.lower()) if key else None
        if var is None and not key:
            if _EPOCH_RE.match(value):
                var = "msec"
            elif _SECONDS_RE.match(value) and not (seconds_seen == 0 and value == "-"):
                # $request_time is always a number: a first "-" is something else (main's
                # "$http_x_forwarded_for" of a request that came direct).
                var = "request_time" if seconds_seen == 0 else "upstream_response_time"
                seconds_seen += 1
            elif _HEX_ID.match(value):
                var = "request_id"
        name = var or "unknown_field"
        token = f'"${name}"' if quoted else f"${name}"
        out.append(f"{key}={token}" if key else token)
    return " " + " ".join(out)


class NginxFormat:
    """nginx access log (``combined``, ``main`` and any ``log_format``)."""

    name = "nginx"
    table = "requests"
    description = "nginx access log: combined, main, timing variants, or any log_format"
    recognises = (
        "lines that match combined/main, plus trailing $request_time, $upstream_response_time "
        "or $request_id in any order; Kubernetes ingress-nginx's default upstreaminfo format; "
        "or the log_format given with --nginx-log-format"
    )
    field_hints: Mapping[str, str] = {
        "duration_ms": (
            "add $request_time (and $upstream_response_time) to the log_format, e.g. "
            'log_format timed \'$remote_addr - $remote_user [$time_local] "$request" $status '
            '$body_bytes_sent "$http_referer" "$http_user_agent" $request_time '
            "$upstream_response_time $request_id'; access_log /var/log/nginx/access.log timed; "
            "(plain combined is also Apache's format: if Apache httpd writes this log, add %D "
            "to its LogFormat instead)"
        ),
        "request_id": (
            "add $request_id to the log_format and pass it to the application with "
            "proxy_set_header X-Request-ID $request_id; so app and database logs can carry it"
        ),
    }

    def _template(self, lines: Sequence[str], options: FormatOptions) -> tuple[str, str]:
        """Return (variant name, nginx format string) that best fits ``lines``."""
        given = options.get("nginx_log_format")
        if given:
            return "custom", directive_to_template(given)
        best = ("combined", COMBINED)
        best_score = best_ratio = -1.0
        for variant, fmt in (("main", MAIN), ("combined", COMBINED)):
            prefix = compile_parts(parse_template(fmt), time_is_end=True)
            prefix_re = re.compile(prefix.regex.removesuffix(r"\s*$"))
            tails = [m.string[m.end() :] for ln in lines if (m := prefix_re.match(ln))]
            if not tails:
                continue
            tail = infer_tail([t for t in tails if t.strip()])
            full = fmt + tail
            ratio = compile_nginx(full).match_ratio(lines)
            # Known fields make a variant more specific; an unknown one does not (else any
            # "-" after combined would beat main, whose last field it is).
            score = ratio + len(re.sub(r'\s*"?\$unknown_field"?', "", tail)) / 1000
            if score > best_score:
                best, best_score, best_ratio = (
                    (variant + ("+timing" if tail else ""), full),
                    score,
                    ratio,
                )
        # ingress-nginx's bracketed upstream names and lists defeat the tail guess (it would
        # read them as unknown fields): its own format wins whenever it fits as many lines.
        ingress_ratio = compile_nginx(INGRESS_NGINX).match_ratio(lines)
        if ingress_ratio > 0 and ingress_ratio >= best_ratio:
            return "ingress-nginx", INGRESS_NGINX
        # Its older formats put a bracketed address before $remote_user: combined never fits.
        for fmt in (INGRESS_NGINX_LEGACY, INGRESS_NGINX_OLDEST):
            ratio = compile_nginx(fmt).match_ratio(lines)
            if ratio > 0 and ratio > best_ratio:
                best, best_ratio = ("ingress-nginx-legacy", fmt), ratio
        return best

    def sniff(self, lines: Sequence[str], options: FormatOptions) -> Detection:
        """Recognise combined-style lines; confidence is the share of sample lines matched."""
        variant, fmt = self._template(lines, options)
        ratio = compile_nginx(fmt).match_ratio(lines)
        # nginx and Apache share `combined`; a float $request_time tail is nginx's signature.
        bonus = 0.05 if "$request_time" in fmt else 0.0
        return Detection(confidence=min(1.0, ratio * 0.95 + bonus), variant=variant, detail=fmt)

    def template(self, sample: Sequence[str], options: FormatOptions) -> tuple[str, AccessTemplate]:
        """The variant name and compiled template of the detected (or given) log_format."""
        chosen, fmt = self._template(sample, options)
        return chosen, compile_nginx(fmt)

    def plan(self, sample: Sequence[str], options: FormatOptions, variant: str) -> ParsePlan:
        """Compile the detected (or given) log_format into the bulk parse."""
        chosen, template = self.template(sample, options)
        return template.plan(chosen)


FORMAT = NginxFormat()
