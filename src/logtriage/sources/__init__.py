"""Input formats: each module reads one family of logs into a canonical table."""

from __future__ import annotations

from logtriage.errors import FormatError
from logtriage.model.i18n import _
from logtriage.sources.apache import FORMAT as APACHE
from logtriage.sources.apache_error import FORMAT as APACHE_ERROR
from logtriage.sources.app_json import FORMAT as APP_JSON
from logtriage.sources.app_text import FORMAT as APP_TEXT
from logtriage.sources.aws_alb import FORMAT as AWS_ALB
from logtriage.sources.base import LogFormat
from logtriage.sources.haproxy import FORMAT as HAPROXY
from logtriage.sources.json_access import FORMAT as JSON_ACCESS
from logtriage.sources.logfmt import FORMAT as LOGFMT
from logtriage.sources.logfmt_access import FORMAT as LOGFMT_ACCESS
from logtriage.sources.mysql_error import FORMAT as MYSQL_ERROR
from logtriage.sources.mysql_general import FORMAT as MYSQL_GENERAL
from logtriage.sources.mysql_slow import FORMAT as MYSQL_SLOW
from logtriage.sources.nginx import FORMAT as NGINX
from logtriage.sources.nginx_error import FORMAT as NGINX_ERROR
from logtriage.sources.otlp_json import FORMAT as OTLP_JSON
from logtriage.sources.postgresql import FORMAT as POSTGRESQL
from logtriage.sources.postgresql_csv import FORMAT as POSTGRESQL_CSV
from logtriage.sources.postgresql_json import FORMAT as POSTGRESQL_JSON
from logtriage.sources.w3c import FORMAT as W3C

# Built-in formats, in the order ties are broken when two recognise a file equally well.
BUILTIN_FORMATS: tuple[LogFormat, ...] = (
    # Before nginx: Apache claims combined lines only for Apache-only traits, then wins the tie.
    APACHE,
    NGINX,
    JSON_ACCESS,
    HAPROXY,
    AWS_ALB,
    W3C,
    POSTGRESQL,
    POSTGRESQL_CSV,
    POSTGRESQL_JSON,
    MYSQL_SLOW,
    MYSQL_GENERAL,
    MYSQL_ERROR,
    APP_JSON,
    APP_TEXT,
    OTLP_JSON,
    LOGFMT,
    LOGFMT_ACCESS,
    NGINX_ERROR,
    APACHE_ERROR,
)


def format_by_name(name: str) -> LogFormat:
    """Return the registered format called ``name`` or raise a one-line error."""
    for fmt in BUILTIN_FORMATS:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in BUILTIN_FORMATS)
    raise FormatError(
        _("unknown format {name}; known formats: {known}").format(name=repr(name), known=known)
    )
