"""auto_explain plans in PostgreSQL logs, as SQL: the statement a plan is for and its row counts.

``auto_explain`` logs ``duration: N ms  plan:`` followed by the plan in one of four formats
(``auto_explain.log_format``: text, json, yaml, xml), each starting with the statement's text
(``Query Text``). A plan is a timed statement of its own when nothing else logged the statement
(``log_min_duration_statement`` off or above ``auto_explain.log_min_duration``); otherwise it
tells the statement logged beside it how many rows it returned and read, which PostgreSQL logs
nowhere else. With ``auto_explain.log_analyze`` the plan holds actual row counts per node:

- rows sent: the top node's actual rows (times its loops);
- rows examined: over the nodes that read a table (sequential, index, bitmap heap, TID and
  sample scans), actual rows plus ``Rows Removed by Filter`` and ``by Index Recheck``, times
  loops (PostgreSQL prints both per loop). Like MySQL's ``Rows_examined``, rows a scan read and
  threw away; unlike it, index entries visited are not counted. Without ``log_analyze`` a plan
  has no actual rows and both stay NULL.

Regexes only, no JSON or XML parser per node: the formats share the names of the fields, and a
node's own fields come before its children's in all four, so splitting the text where a node
starts leaves each piece with one node's numbers.
"""

from __future__ import annotations

# A node starts a piece: ``->  `` (text), ``"Node Type": `` (json), ``Node Type: `` (yaml),
# ``<Node-Type>`` (xml). In text the top node has no arrow: it is in the first piece.
_NODE_START = r'->  |"Node Type": |Node Type: |<Node-Type>'
# Nodes that read a table's rows. ``"?`` for json and yaml, ``\n`` for the top node of text.
_SCAN = (
    r'(?:^"?|\n)(?:Parallel )?(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan|'
    r"Tid Scan|Tid Range Scan|Sample Scan)\b"
)
_ROWS = r'(?:\(actual (?:time=[0-9.]+\.\.[0-9.]+ )?rows=|Actual Rows"?: |<Actual-Rows>)([0-9.]+)'
_LOOPS = r'(?:\(actual [^)]*loops=|Actual Loops"?: |<Actual-Loops>)([0-9]+)'
_REMOVED = (
    r'(?:Rows Removed by Filter"?: |<Rows-Removed-by-Filter>)([0-9.]+)',
    r'(?:Rows Removed by Index Recheck"?: |<Rows-Removed-by-Index-Recheck>)([0-9.]+)',
)
# Text: the statement runs until the first plan node, the first line with its numbers in
# brackets (``  (cost=``, ``(actual ``, ``(never executed)``); ``Query Parameters`` (16+) and
# ``Query Identifier`` lines may come between.
_TEXT_QUERY = (
    r"^Query Text: ((?s:.*?))(?:\nQuery (?:Parameters|Identifier): [^\n]*)*"
    r"\n[^\n]* \((?:cost=[0-9]|actual (?:time|rows)=|never executed\))"
)
# Yaml writes the text as a json string; its plan follows on a ``Plan:`` line.
_YAML_QUERY = r'^Query Text: ("(?:[^"\\]|\\(?s:.))*")\nPlan:'
_XML_QUERY = r"<Query-Text>((?s:.*?))</Query-Text>"
_XML_ENTITIES = (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&"))


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _number(piece: str, pattern: str) -> str:
    return f"try_cast(NULLIF(regexp_extract({piece}, {_lit(pattern)}, 1), '') AS DOUBLE)"


def _removed(piece: str) -> str:
    """SQL: the rows a node's filter and recheck threw away, per loop (0 when none)."""
    return " + ".join(f"coalesce({_number(piece, p)}, 0)" for p in _REMOVED)


def query_text_sql(body: str) -> str:
    """SQL: the statement a plan ``body`` (the message after ``plan:``) is for; NULL if none."""
    xml = f"regexp_extract({body}, {_lit(_XML_QUERY)}, 1)"
    for entity, char in _XML_ENTITIES:
        xml = f"replace({xml}, {_lit(entity)}, {_lit(char)})"
    yaml = f"regexp_extract({body}, {_lit(_YAML_QUERY)}, 1)"
    return f"""NULLIF(CASE
        WHEN starts_with({body}, '{{') THEN try(json_extract_string({body}, '$."Query Text"'))
        WHEN starts_with({body}, '<') THEN {xml}
        WHEN {yaml} <> '' THEN try(json_extract_string({yaml}, '$'))
        ELSE coalesce(NULLIF(regexp_extract({body}, {_lit(_TEXT_QUERY)}, 1), ''),
                      regexp_extract({body}, '^Query Text: ([^\\n]*)', 1))
    END, '')"""


def nodes_sql(body: str) -> str:
    """SQL: the plan split into pieces of one node each (the first holds the text before)."""
    return f"string_split_regex({body}, {_lit(_NODE_START)})"


def rows_sent_sql(nodes: str) -> str:
    """SQL: the top node's actual rows times its loops; NULL for a plan without actual rows."""
    rows, loops = _number("n", _ROWS), _number("n", _LOOPS)
    first = f"list_filter({nodes}, lambda n: regexp_matches(n, {_lit(_ROWS)}))[1]"
    return f"round(list_transform([{first}], lambda n: {rows} * coalesce({loops}, 1))[1])"


def rows_examined_sql(nodes: str) -> str:
    """SQL: rows the plan's scans read (kept or filtered out); NULL without actual rows."""
    rows, loops = _number("n", _ROWS), _number("n", _LOOPS)
    per_scan = f"""CASE WHEN regexp_matches(n, {_lit(_SCAN)})
        THEN (coalesce({rows}, 0) + {_removed("n")}) * coalesce({loops}, 1) ELSE 0 END"""
    return f"""CASE WHEN list_bool_or(list_transform({nodes},
                lambda n: regexp_matches(n, {_lit(_ROWS)})))
        THEN round(list_sum(list_transform({nodes}, lambda n: {per_scan}))) END"""


# The heaviest scan's label and filter, so a finding can quote the plan (P006); queries.tags.
PLAN_TAGS = ("plan_scan", "plan_filter", "plan_rows_removed")
_SCAN_LABEL = (
    r'(?:^"?|\n)((?:Parallel )?(?:Seq Scan|Index Scan|Index Only Scan|Bitmap Heap Scan|'
    r'Tid Scan|Tid Range Scan|Sample Scan)[^(\n"]*)'
)
_RELATION = r'"?Relation Name"?: "([^"]+)"'
_FILTER = r'(?:^|\n)\s*"?Filter"?: ([^\n]+)'


def worst_scan_sql(nodes: str) -> dict[str, str]:
    """SQL per tag: label (``Seq Scan on orders``), filter and rows removed of the top scan.

    The scan that read the most rows; NULL without actual rows or when it removed none.
    """
    rows, loops = _number("n", _ROWS), _number("n", _LOOPS)
    costs = f"""list_transform({nodes}, lambda n: CASE WHEN regexp_matches(n, {_lit(_SCAN)})
        THEN (coalesce({rows}, 0) + {_removed("n")}) * coalesce({loops}, 1) ELSE -1 END)"""
    node = f"{nodes}[list_position({costs}, list_max({costs}))]"
    node_removed = f"(({_removed(node)}) * coalesce({_number(node, _LOOPS)}, 1))"
    label = f"trim(regexp_extract({node}, {_lit(_SCAN_LABEL)}, 1))"
    relation = f"regexp_extract({node}, {_lit(_RELATION)}, 1)"
    with_relation = f"""CASE WHEN {relation} <> '' AND NOT contains({label}, ' on ')
        THEN {label} || ' on ' || {relation} ELSE {label} END"""
    # json and yaml quote the filter (and json ends the line with a comma).
    filter_text = f"regexp_extract({node}, {_lit(_FILTER)}, 1)"
    unquoted = f"""regexp_replace(regexp_replace({filter_text}, ',$', ''), '^"(.*)"$', '\\1')"""
    found = f"list_max({costs}) > 0 AND {node_removed} > 0"
    return {
        "plan_scan": f"CASE WHEN {found} THEN NULLIF({with_relation}, '') END",
        "plan_filter": f"CASE WHEN {found} THEN NULLIF(replace({unquoted}, '\\\"', '\"'), '') END",
        "plan_rows_removed": f"CASE WHEN {found} THEN CAST(round({node_removed}) AS BIGINT) END",
    }
