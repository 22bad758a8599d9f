"""S001 secret-in-logs: tokens, keys, passwords or card numbers written to logs (shown redacted)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.secret_shapes import candidate_sql, found_sql, mask_sql
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.i18n import N_, _
from logtriage.model.secret_shapes import SHAPES

# (table, field label, SQL of the text) — every place a log line's content lands.
_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("requests", "path", "path"),
    ("requests", "query", "query"),
    ("requests", "referrer", "referrer"),
    ("queries", "sql", "sql"),
    ("db_events", "statement", "statement"),
    ("db_events", "detail", "detail"),
    ("db_events", "message", "message"),
    ("app_events", "message", "message"),
    (
        "app_events",
        "attributes",
        "array_to_string(list_transform(map_entries(attributes), "
        "lambda e: e.key || '=' || coalesce(e.value, '')), ' ')",
    ),
    ("app_events", "stack", "stack"),
)

_WHERE = {
    ("requests", "path"): N_("URL paths"),
    ("requests", "query"): N_("query strings"),
    ("requests", "referrer"): N_("Referer headers"),
    ("queries", "sql"): N_("SQL statements"),
    ("db_events", "statement"): N_("statements of failed queries"),
    ("db_events", "detail"): N_("statement parameters (DETAIL lines)"),
    ("db_events", "message"): N_("database messages"),
    ("app_events", "message"): N_("application log messages"),
    ("app_events", "attributes"): N_("application log fields"),
    ("app_events", "stack"): N_("stack traces"),
}

_FIXES = {
    "requests": N_(
        "Stop logging the secret: nginx — log `$uri` (no query string) instead of `$request` / "
        "`$request_uri`, or rewrite the parameter away with `map $args $log_args` and log "
        "`$uri?$log_args`; Apache — `%U` instead of `%r`. Better, do not put secrets in URLs "
        "at all (they also leak through Referer headers, proxies and browser history): send "
        "them in a POST body or an Authorization header, and rotate the exposed ones."
    ),
    "referrer": N_(
        "Pages whose URLs carry a token (reset links, OAuth callbacks) leak it to the next "
        "site through the Referer header: send `Referrer-Policy: no-referrer` (or "
        "`strict-origin`) on them, stop logging `$http_referer` for them, and rotate the tokens."
    ),
    "queries": N_(
        "Stop putting secrets into SQL text: use bind parameters (then PostgreSQL logs values "
        "only in `DETAIL: parameters:` — set `log_parameter_max_length = 0` and "
        "`log_parameter_max_length_on_error = 0`), hash passwords in the application, and do "
        "not run `log_statement = 'all'` / MySQL's general log in production on tables with "
        "credentials. Rotate what was logged."
    ),
    "db_events": N_(
        "PostgreSQL prints bind parameters and failed statements: set "
        "`log_parameter_max_length = 0` and `log_parameter_max_length_on_error = 0`, and keep "
        "secrets out of SQL text (bind parameters, hashing in the application). Rotate what "
        "was logged."
    ),
    "app_events": N_(
        "Mask before writing: a logging filter — structlog: a processor that drops/masks the "
        "keys; stdlib logging: a `logging.Filter` on the handler; logback: "
        "logstash-logback-encoder's `MaskingJsonGeneratorDecorator` or a `%replace` in the "
        "pattern; pino: the `redact` option; Rails: `config.filter_parameters`. Log ids, never "
        "tokens or request bodies, and rotate what was logged."
    ),
}


@dataclass(frozen=True)
class SecretInLogsOptions:
    """Thresholds for S001."""

    # Findings need at least this many log records with a secret in one field.
    min_records: int = 1
    examples: int = 3
    # Example text is cut to this many characters (after masking).
    example_chars: int = 200


class SecretInLogs:
    """Secrets written to logs: tokens, API keys, passwords, JWTs, session ids, card numbers.

    What it finds:
        Log records whose URL path, query string, Referer, SQL text, database DETAIL/statement,
        application message or fields hold a secret: provider tokens by their documented shape
        (AWS, GitHub, GitLab, Slack, Stripe, OpenAI, Google, SendGrid, npm, Twilio, Azure),
        JWTs, Bearer/Basic credentials, passwords inside URLs, PEM private keys, card numbers
        that pass the Luhn check, and the value of any secret-named key (``password=``,
        ``token=``, ``api_key=``, ``session_id=``… but not placeholders such as ``?``,
        ``%s`` or ``***``). One finding per log field, with the count per shape and the
        files it came from; examples are always shown redacted.

    Why it matters:
        Logs are copied to log shippers, dashboards, tickets and laptops with far weaker
        access control than the secrets deserve; anyone who can read them can log in as the
        user or call the API. Card numbers in logs put the whole logging pipeline in PCI scope.

    Example:
        ``query strings: 312 requests carry secrets (key-value 300, jwt 12) in access.log``.

    How to fix:
        Stop the log from writing it, at the place the finding names: nginx ``$uri`` instead
        of ``$request_uri`` (or ``map`` the parameter away); PostgreSQL
        ``log_parameter_max_length = 0`` and bind parameters; an application logging filter
        (structlog processor, ``logging.Filter``, logback masking decorator, pino ``redact``).
        Then rotate every secret that was logged.

    Options:
        ``min_records`` (1), ``examples`` (3), ``example_chars`` (200).
    """

    code: ClassVar[str] = "S001"
    name: ClassVar[str] = "secret-in-logs"
    needs: ClassVar[tuple[str, ...]] = ()
    Options: ClassVar[type[SecretInLogsOptions]] = SecretInLogsOptions

    def run(self, ctx: AnalysisContext, options: SecretInLogsOptions) -> list[Finding]:
        """One finding per log field that carries secrets."""
        parts = [
            f"SELECT '{table}' AS tbl, '{field}' AS field, source, line, ({expr}) AS text "
            f"FROM {table} WHERE ({expr}) IS NOT NULL"
            for table, field, expr in _FIELDS
            if ctx.db.count(table)
        ]
        if not parts:
            return []
        names = ", ".join(f"CASE WHEN {found_sql(s, 'text')} THEN '{s.name}' END" for s in SHAPES)
        # One combined pass finds candidate rows; each shape is then tested on those only.
        hits_sql = f"""
            SELECT * FROM (
                SELECT tbl, field, source, line, text,
                       list_filter([{names}], lambda x: x IS NOT NULL) AS shapes
                FROM ({" UNION ALL ".join(parts)}) WHERE {candidate_sql("text")}
            ) WHERE len(shapes) > 0
        """
        rows = ctx.db.rows(
            f"""
            WITH hits AS ({hits_sql}),
            per_shape AS (
                SELECT tbl, field, shape, count(*) AS n
                FROM (SELECT tbl, field, unnest(shapes) AS shape FROM hits) GROUP BY ALL
            ),
            shape_maps AS (
                SELECT tbl, field, map_from_entries(list({{'key': shape, 'value': n}}))
                    AS shape_counts
                FROM per_shape GROUP BY ALL
            )
            SELECT tbl, field, any_value(shape_counts) AS shape_counts, count(*) AS records,
                   list(DISTINCT source ORDER BY source) AS sources,
                   list({{'source': source, 'line': line, 'shapes': shapes,
                          'text': left({mask_sql("text")}, ?)}} ORDER BY source, line)[1:?]
                       AS examples
            FROM hits JOIN shape_maps USING (tbl, field)
            GROUP BY tbl, field HAVING count(*) >= ?
            ORDER BY count(*) DESC, tbl, field
            """,
            [options.example_chars, options.examples, options.min_records],
        )
        return [self._finding(ctx, row) for row in rows]

    def _finding(self, ctx: AnalysisContext, row: dict[str, Any]) -> Finding:
        table, field = row["tbl"], row["field"]
        where = _(_WHERE[(table, field)])
        counts = {str(k): int(v) for k, v in sorted(row["shape_counts"].items(), key=_by_count)}
        sources = [str(s) for s in row["sources"]]
        total = ctx.db.count(table)
        shape_text = ", ".join(f"{k} {v}" for k, v in counts.items())
        fix_key = "referrer" if field == "referrer" else table
        fix = _(_FIXES[fix_key])
        title = (
            _("Secrets in {where}: {count} requests ({shapes}) in {sources}")
            if table == "requests"
            else _("Secrets in {where}: {count} statements ({shapes}) in {sources}")
            if table == "queries"
            else _("Secrets in {where}: {count} records ({shapes}) in {sources}")
        ).format(
            where=where,
            count=row["records"],
            shapes=shape_text,
            sources=", ".join(sources[:3]) + (" …" if len(sources) > 3 else ""),
        )
        # Secrets rank with the worst availability problems: each one is an open door.
        score = min(0.9, 0.35 + 0.1 * math.log10(1 + row["records"]))
        return Finding(
            code=self.code,
            name=self.name,
            severity=Severity.HIGH,
            score=score,
            title=title,
            evidence={
                "table": table,
                "field": field,
                "records": row["records"],
                "share_of_records": round(row["records"] / total, 4) if total else None,
                "shapes": counts,
                "sources": sources,
            },
            impact={"records_with_secrets": row["records"]},
            fix=fix,
            examples=tuple(
                {
                    "source": ex["source"],
                    "line": ex["line"],
                    "shapes": list(ex["shapes"]),
                    "text": ex["text"],
                }
                for ex in row["examples"]
            ),
        )


def _by_count(item: tuple[Any, Any]) -> tuple[int, str]:
    return (-int(item[1]), str(item[0]))
