"""S002 attack-probes: scanners and injection attempts, by client, and whether any was answered."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from logtriage.analyzers.secret_shapes import mask_sql
from logtriage.model.context import AnalysisContext
from logtriage.model.finding import Finding, Severity
from logtriage.model.formatting import PROBE_KIND_NAMES
from logtriage.model.i18n import _

# Patterns run on the lower-cased, twice URL-decoded "path?query" (``+`` read as a space),
# so %27%20or%201%3D1 and %252e%252e%252f are seen as what the server decodes them to.
SCANNER_UA = (
    r"(sqlmap|nikto|nmap|masscan|zgrab|nuclei|wpscan|gobuster|dirbuster|dirb/|ffuf|"
    r"feroxbuster|wfuzz|acunetix|netsparker|nessus|openvas|qualys|burpsuite|zmeu|jorgee|"
    r"arachni|w3af|whatweb|skipfish|havij|fimap|commix|xsstrike|hydra|l9explore|l9tcpid|"
    r"censysinspect|expanse|zmap|internet-measurement|nimbostratus)"
)
# Files and tools no site serves on purpose: any hit is a probe.
PROBE_PATH = (
    r"(/\.(env|git|svn|hg|bzr|aws|ssh|docker|npmrc|htpasswd|htaccess|ds_store|vscode|idea)"
    r"([/.]|$)|/\.env\.|/wp-config\.php|/web\.config|/vendor/phpunit|/etc/passwd|/boaform|"
    r"/hnap1|/owa/auth|/remote/fgt_lang|/(shell|cmd|c99|r57|webshell|phpinfo|info)\.php|"
    r"/(backup|db|dump|database|site)\.(sql|zip|tar\.gz|tgz|bak)|/config\.(json|ya?ml|php)\.bak)"
)
# Paths of software a site may really run (WordPress, phpMyAdmin, Spring Boot, Tomcat…): a
# probe only where this site does not answer them for ordinary clients.
APP_PROBE_PATH = (
    r"(/wp-(login|admin|content|includes)|/xmlrpc\.php|/phpmyadmin|/pma/|/myadmin|"
    r"/mysqladmin|/adminer|/cgi-bin/|/actuator|/server-status|/server-info|/manager/html|"
    r"/solr/|/jenkins|/jmx-console|/invoker/|/telescope|/_profiler|/debug/(vars|pprof))"
)
SQLI = (
    r"(['\"]\s*(or|and)\s+['\"]?\w+['\"]?\s*(=|like|<|>)|\b(or|and)\s+\d+\s*=\s*\d+|"
    r"\bunion(\s|/\*.*\*/)+(all\s+)?select\b|\b(sleep|pg_sleep|benchmark)\s*\(\s*\d|"
    r"waitfor\s+delay\s+'|\binformation_schema\b|@@version\b|\bxp_cmdshell\b|"
    r";\s*(drop|truncate|shutdown)\s+\w|\b(extractvalue|updatexml|load_file)\s*\(|'\s*(--|#))"
)
TRAVERSAL = (
    r"(\.\./|\.\.\\|/etc/(passwd|shadow|hosts)\b|/proc/self/|\bwin\.ini\b|\bboot\.ini\b|"
    r"c:\\windows)"
)
XSS = (
    r"(<script\b|javascript:|\bon(error|load|mouseover|focus)\s*=|<svg[\s/]|<iframe\b|"
    r"<img[^>]+\bsrc|document\.(cookie|domain)|\balert\s*\()"
)
# Remote code execution: shell metacharacters with commands, Log4Shell, Spring4Shell, PHP.
RCE = (
    r"(\$\{jndi:|\$\{\$\{|;\s*(cat|wget|curl|id|uname|whoami|nc|bash|sh)\b|\|\s*(sh|bash)\b|"
    r"\$\((wget|curl|id|cat|echo)|/bin/(sh|bash)\b|cmd\.exe|powershell|"
    r"class\.module\.classloader|php://(input|filter)|allow_url_include|auto_prepend_file|"
    r"<\?php)"
)


def _lit(text: str) -> str:
    return text.replace("'", "''")


@dataclass(frozen=True)
class AttackProbesOptions:
    """Thresholds for S002."""

    # A client is flagged for probe paths when it asked for this many distinct ones.
    min_probe_paths: int = 2
    # A 404 storm: this many distinct paths answered 404, at least this share of its requests.
    storm_min_404_paths: int = 20
    storm_min_404_share: float = 0.5
    # An application path (e.g. /wp-login.php) answered 2xx to this many ordinary clients is
    # part of the site, not a probe.
    site_path_min_clients: int = 5
    max_findings: int = 10
    examples: int = 3


class AttackProbes:
    """Scanners and injection attempts, by client, and whether any probe got an answer.

    What it finds:
        Clients that sent known scanner user agents (sqlmap, nikto, nmap, masscan, zgrab,
        nuclei, wpscan, gobuster, dirbuster, ffuf…), asked for files no site serves on
        purpose (``/.env``, ``/.git/config``, ``/vendor/phpunit``…) or for admin tools this
        site does not run (``/wp-login.php``, ``/phpmyadmin``, ``/actuator``,
        ``/server-status``, ``/cgi-bin/``…), sent SQL injection (``' or 1=1``, ``union
        select``, ``sleep(``), path traversal (``../``, ``%2e%2e%2f``), XSS or command
        injection / Log4Shell (``${jndi:``) payloads, or caused a 404 storm (many distinct
        paths answered 404). Per client: counts per kind, first and last seen, and how many
        probes were answered with a 2xx. Patterns are matched on the decoded URL, so a user
        searching ``/search?q=select`` is not an injection.

    Why it matters:
        Probes that get a 404 are noise; a probe that gets a 2xx means something answered:
        an exposed ``.env`` or ``.git``, an admin console reachable from the internet, or an
        injection payload that reached the application.

    Example:
        ``203.0.113.9 sent 412 probes (sqlmap; SQL injection 120, probe paths 200), 3
        answered 2xx``.

    How to fix:
        For answered probes, check what was served and close it: keep dotfiles and backups
        out of the web root (an nginx ``location`` that denies dotfiles), restrict
        admin and actuator endpoints to internal networks, use parameterized queries on the
        routes that answered injections. For the rest, cut the noise at the edge (a WAF rule,
        rate limits, fail2ban on 404 storms).

    Options:
        ``min_probe_paths`` (2), ``storm_min_404_paths`` (20), ``storm_min_404_share`` (0.5),
        ``site_path_min_clients`` (5), ``max_findings`` (10), ``examples`` (3).
    """

    code: ClassVar[str] = "S002"
    name: ClassVar[str] = "attack-probes"
    needs: ClassVar[tuple[str, ...]] = ("requests",)
    Options: ClassVar[type[AttackProbesOptions]] = AttackProbesOptions

    def run(self, ctx: AnalysisContext, options: AttackProbesOptions) -> list[Finding]:
        """One finding per probing client, answered probes first."""
        if not ctx.db.count("requests"):
            return []
        clients = ctx.db.rows(
            f"""
            WITH tmp_s002 AS MATERIALIZED (
                -- Only the suspects: the few requests a pattern or a scanner name matched.
                SELECT * FROM ({_classified_sql("TRUE")}) WHERE suspect OR scanner IS NOT NULL
            ),
            site_paths AS (
                -- Application paths this site answers for ordinary clients.
                SELECT path FROM tmp_s002
                WHERE is_app_path AND status BETWEEN 200 AND 299 AND scanner IS NULL
                GROUP BY path HAVING count(DISTINCT client) >= ?
            ), k AS (
                SELECT *,
                    (is_probe_path OR (is_app_path AND path NOT IN (SELECT path FROM site_paths)))
                        AS probe_path
                FROM tmp_s002
            ), p AS (
                SELECT client,
                    list(DISTINCT scanner) FILTER (WHERE scanner IS NOT NULL) AS scanners,
                    count(DISTINCT path) FILTER (WHERE probe_path) AS probe_paths,
                    count(*) FILTER (WHERE probe_path) AS probe_path,
                    count(*) FILTER (WHERE sqli) AS sqli,
                    count(*) FILTER (WHERE traversal) AS traversal,
                    count(*) FILTER (WHERE xss) AS xss,
                    count(*) FILTER (WHERE rce) AS rce,
                    count(*) FILTER (WHERE (probe_path OR sqli OR traversal OR xss OR rce_in_url)
                                     AND status BETWEEN 200 AND 299) AS answered,
                    count(*) FILTER (WHERE scanner IS NOT NULL OR probe_path OR sqli
                                     OR traversal OR xss OR rce) AS probes
                FROM k GROUP BY client
            ), per_client AS (
                SELECT client, count(*) AS requests, min(ts) AS first_seen, max(ts) AS last_seen,
                    count(*) FILTER (WHERE status = 404) AS n_404
                FROM requests WHERE client IS NOT NULL GROUP BY client
            ), t AS (
                -- The distinct count over the 404s alone: several times cheaper than a
                -- filtered DISTINCT aggregate over every request.
                SELECT per_client.*, coalesce(d.paths_404, 0) AS paths_404
                FROM per_client LEFT JOIN (
                    SELECT client, count(DISTINCT path) AS paths_404 FROM requests
                    WHERE client IS NOT NULL AND status = 404 GROUP BY client
                ) d USING (client)
            ), c AS (
                SELECT t.*, coalesce(p.scanners, []) AS scanners,
                    coalesce(p.probe_paths, 0) AS probe_paths,
                    coalesce(p.probe_path, 0) AS probe_path, coalesce(p.sqli, 0) AS sqli,
                    coalesce(p.traversal, 0) AS traversal, coalesce(p.xss, 0) AS xss,
                    coalesce(p.rce, 0) AS rce, coalesce(p.answered, 0) AS answered,
                    coalesce(p.probes, 0) AS probes
                FROM t LEFT JOIN p USING (client)
            )
            SELECT *, paths_404 >= ? AND n_404 >= ? * requests AS storm
            FROM c
            WHERE len(scanners) > 0 OR probe_paths >= ? OR sqli + traversal + xss + rce > 0
               OR (paths_404 >= ? AND n_404 >= ? * requests)
            ORDER BY answered DESC, sqli + traversal + xss + rce DESC, probes + n_404 DESC,
                     client
            """,
            [
                options.site_path_min_clients,
                options.storm_min_404_paths,
                options.storm_min_404_share,
                options.min_probe_paths,
                options.storm_min_404_paths,
                options.storm_min_404_share,
            ],
        )
        shown = clients[: options.max_findings]
        examples = _examples(ctx, [row["client"] for row in shown], options.examples)
        return [self._finding(row, examples.get(row["client"], []), len(clients)) for row in shown]

    def _finding(
        self, row: dict[str, Any], examples: list[dict[str, Any]], flagged: int
    ) -> Finding:
        client = row["client"]
        kinds = {k: int(row[k]) for k in ("probe_path", "sqli", "traversal", "xss", "rce")}
        kinds = {k: v for k, v in kinds.items() if v}
        if row["storm"]:
            kinds["storm_404"] = int(row["n_404"])
        scanners = sorted(str(s) for s in row["scanners"] or [])
        answered = int(row["answered"])
        injections = sum(kinds.get(k, 0) for k in ("sqli", "traversal", "xss", "rce"))
        if answered:
            severity = Severity.HIGH
            score = min(0.8, 0.45 + 0.3 * answered / max(1, int(row["probes"])))
        elif injections:
            severity, score = Severity.MEDIUM, 0.08
        else:
            severity, score = Severity.LOW, 0.02
        what = ", ".join(f"{_(PROBE_KIND_NAMES[k])} {v}" for k, v in kinds.items())
        described = "; ".join(part for part in (", ".join(scanners), what) if part)
        title = (
            _("{client} sent {count} attack probes ({described}), {answered} answered with 2xx")
            if answered
            else _("{client} sent {count} attack probes ({described}), none answered")
        ).format(
            client=client,
            count=row["probes"] or row["n_404"],
            described=described,
            answered=answered,
        )
        return Finding(
            code=self.code,
            name=self.name,
            severity=severity,
            score=score,
            title=title,
            evidence={
                "client": client,
                "requests": row["requests"],
                "probes": row["probes"],
                "kinds": kinds,
                "scanners": scanners,
                "answered_2xx": answered,
                "distinct_404_paths": row["paths_404"],
                "first_seen": _iso(row["first_seen"]),
                "last_seen": _iso(row["last_seen"]),
                "clients_flagged": flagged,
            },
            impact={"probes": row["probes"], "answered_2xx": answered},
            fix=_fix(answered, kinds),
            examples=tuple(examples),
        )


def _decoded(text: str) -> str:
    """SQL: lower-cased ``text`` URL-decoded twice (skipped when it has no ``%``)."""
    return (
        f"CASE WHEN contains({text}, '%') THEN lower(url_decode(url_decode({text}))) "
        f"ELSE lower({text}) END"
    )


# Two cheap passes find the suspects; each pattern then runs on those only.
_PATH_PATTERNS = f"{PROBE_PATH}|{APP_PROBE_PATH}"
_PAYLOAD_PATTERNS = f"{SQLI}|{TRAVERSAL}|{XSS}|{RCE}"


# How many times ``_classified_sql`` reads the requests (and so repeats its ``where``).
_BASE_READS = 3


def _classified_sql(where: str) -> str:
    """SQL: each request with a client, its scanner name and which probe patterns it matches.

    The patterns run once per distinct URL and per distinct user agent + referrer, not once
    per request: a million requests hold a few hundred thousand URLs and a few dozen agents.
    A URL no combined pattern matches matches none of its parts either, so only the suspect
    URLs are kept and every other request reads as no match; likewise only the suspect agents.
    The requests are read in place three times rather than copied once: copying a million
    rows with their user agents cost more than the three scans.
    """
    url = (
        "replace(coalesce(path, '') || CASE WHEN query IS NOT NULL AND query <> '' "
        "THEN '?' || query ELSE '' END, '+', ' ')"
    )
    headers = "lower(coalesce(user_agent, '') || ' ' || coalesce(referrer, ''))"
    base = (
        "(SELECT source, line, ts, client, path, query, status, bytes_sent, user_agent, "
        f"referrer FROM requests WHERE client IS NOT NULL AND {where})"
    )

    def check(pattern: str, text: str) -> str:
        return f"coalesce(u.url_suspect AND regexp_matches(u.{text}, '{_lit(pattern)}'), FALSE)"

    return f"""
        WITH urls AS (
            SELECT * FROM (
                SELECT *, regexp_matches(p, '{_lit(_PATH_PATTERNS)}')
                    OR regexp_matches(t, '{_lit(_PAYLOAD_PATTERNS)}') AS url_suspect
                FROM (
                    SELECT path, query, {_decoded(url)} AS t, {_decoded("coalesce(path, '')")} AS p
                    FROM (SELECT DISTINCT path, query FROM {base})
                )
            ) WHERE url_suspect
        ), heads AS MATERIALIZED (
            -- Materialized: else the scanner filter below is pushed under the DISTINCT and
            -- the regexes run on every request instead of on each distinct agent.
            SELECT user_agent, referrer,
                NULLIF(regexp_extract(lower(coalesce(user_agent, '')), '{SCANNER_UA}', 1), '')
                    AS scanner,
                -- Payloads in headers are Log4Shell (${{jndi:…}}) and Shellshock (() {{):
                -- a substring test keeps the long user agents out of the regexes.
                contains(h, '${{') OR contains(h, '() {{') AS h_suspect,
                (contains(h, '${{') OR contains(h, '() {{'))
                    AND regexp_matches(h, '{_lit(RCE)}') AS h_rce
            FROM (
                SELECT *, {headers} AS h
                FROM (SELECT DISTINCT user_agent, referrer FROM {base})
            )
        ), suspect_heads AS (
            -- Only the agents a scanner name or a header payload marks: a tiny join table.
            SELECT * FROM heads WHERE scanner IS NOT NULL OR h_suspect
        )
        SELECT b.source, b.line, b.ts, b.client, b.path, b.query, b.status, b.bytes_sent,
            h.scanner,
            {check(PROBE_PATH, "p")} AS is_probe_path,
            {check(APP_PROBE_PATH, "p")} AS is_app_path,
            {check(SQLI, "t")} AS sqli,
            {check(TRAVERSAL, "t")} AS traversal,
            {check(XSS, "t")} AS xss,
            {check(RCE, "t")} OR coalesce(h.h_rce, FALSE) AS rce,
            -- A payload in a header (Log4Shell in the user agent) gets the page's usual 2xx:
            -- only payloads in the URL count as answered.
            {check(RCE, "t")} AS rce_in_url,
            coalesce(u.url_suspect, FALSE) OR coalesce(h.h_suspect, FALSE) AS suspect
        FROM {base} b
        LEFT JOIN suspect_heads h ON b.user_agent IS NOT DISTINCT FROM h.user_agent
            AND b.referrer IS NOT DISTINCT FROM h.referrer
        LEFT JOIN urls u ON b.path IS NOT DISTINCT FROM u.path
            AND b.query IS NOT DISTINCT FROM u.query
    """


def _examples(
    ctx: AnalysisContext, clients: list[str], limit: int
) -> dict[str, list[dict[str, Any]]]:
    """Per client, its first probes (answered ones first), in one pass over their requests."""
    if not clients:
        return {}
    rows = ctx.db.rows(
        f"""
        SELECT client, source, line, {mask_sql("path")} AS path, status,
            CASE WHEN query IS NOT NULL THEN left({mask_sql("query")}, 160) END AS query
        FROM (
            SELECT client, source, line, path, query, status
            FROM ({_classified_sql("list_contains(?, client)")})
            WHERE scanner IS NOT NULL OR is_probe_path OR is_app_path OR sqli OR traversal
                  OR xss OR rce OR status = 404
            QUALIFY row_number() OVER (
                PARTITION BY client
                ORDER BY (status BETWEEN 200 AND 299 AND (is_probe_path OR is_app_path OR sqli
                          OR traversal OR xss OR rce_in_url)) DESC, ts, source, line) <= ?
        )
        ORDER BY client, source, line
        """,
        # ``where`` is in the statement once per read of the requests.
        [*[clients] * _BASE_READS, limit],
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        out.setdefault(row.pop("client"), []).append(
            {k: v for k, v in row.items() if v is not None}
        )
    return out


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _fix(answered: int, kinds: dict[str, int]) -> str:
    if not answered:
        return _(
            "Nothing answered: no change needed in the application. To cut the noise, block "
            "the client or its user agent at the edge (a WAF rule, rate limiting, fail2ban on "
            "404 storms) and keep the proxy answering these paths with 404/444."
        )
    steps = [_("Check what each answered probe (examples) returned")]
    if "probe_path" in kinds:
        steps.append(
            _(
                "keep dotfiles, backups and VCS folders out of the web root (nginx "
                "`location ~ /\\.(?!well-known) { deny all; }`) and restrict admin, actuator "
                "and status endpoints to internal networks"
            )
        )
    if kinds.keys() & {"sqli", "xss", "rce", "traversal"}:
        steps.append(
            _(
                "on the routes that answered injection payloads, confirm parameterized queries, "
                "output encoding and path canonicalization, and look for the payload in the "
                "app and database logs at that time"
            )
        )
    steps.append(_("then block the client at the edge and rotate anything that was exposed"))
    return _("{steps}.").format(steps="; ".join(steps))
