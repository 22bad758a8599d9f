"""Scanners never raise on arbitrary text, whatever the language (a source tree is input too)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from logtriage.locate.code_facts import FunctionDecl, LoopTargets
from logtriage.locate.source_scan import _scanners
from logtriage.locate.stack_traces import own_frame, parse_frames

SCANNERS, _ = _scanners()
# Fragments of real syntax, so that the generated text reaches deep into the parsers.
FRAGMENTS = st.sampled_from(
    ["def f(x):\n", "    for a in xs:\n", "        a.author.name\n", "class A(db.Model):\n",
     "@app.get('/x')\n", "app.get('/x', (req, res) => {\n", "});\n", "foreach ($a as $b) {\n",
     "}\n", "resources :posts do\n", "end\n", "@GetMapping(\"/x\")\n", "public void f() {\n",
     "Route::get('/x', [A::class, 'b']);\n", "'SELECT * FROM t'\n", "(((", "\"", "'", "\x00",
     "model A {\n", "@@map(\"t\")\n", "urlpatterns = [path('x/', v)]\n"]
)  # fmt: skip
TEXT = st.lists(st.one_of(FRAGMENTS, st.text(max_size=20)), max_size=30).map("".join)
TARGETS = LoopTargets(
    relations=frozenset({"author"}), models=frozenset({"A"}), tables=frozenset({"t"}),
    helpers=frozenset({"f"}),
)  # fmt: skip
FILES = {"python": "x.py", "ruby": "config/routes.rb", "javascript": "routes/x.js",
         "typescript": "x.ts", "tsx": "x.tsx", "java": "X.java", "php": "routes/x.php",
         "prisma": "schema.prisma"}  # fmt: skip


@pytest.mark.parametrize("language", sorted(SCANNERS))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXT)
def test_scanners_never_raise(language: str, text: str) -> None:
    scanner = SCANNERS[language]
    rel = FILES[language]
    facts = scanner.scan(rel, text)
    for func in facts.functions[:5]:
        scanner.loops(rel, text, func, TARGETS)
        scanner.calls(rel, text, func)
        scanner.queries(rel, text, func, TARGETS)
    scanner.loops(rel, text, FunctionDecl("f", None, rel, 1, 3), TARGETS)


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(st.text(), TEXT))
def test_stack_parsing_never_raises(text: str) -> None:
    for frame in parse_frames(text):
        assert frame.path
    own_frame(parse_frames(text), lambda p: None)
