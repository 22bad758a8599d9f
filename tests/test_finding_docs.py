"""docs/findings is generated from the analyzers' docstrings and must not go stale."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from logtriage import api

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "generate_docs.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("generate_docs", module)
    spec.loader.exec_module(module)
    return module


def test_committed_docs_match_the_docstrings() -> None:
    stale = generator().stale_files()
    assert not stale, f"docs/findings is stale ({stale}): run python scripts/generate_docs.py"


def test_every_code_has_a_page_with_its_sections() -> None:
    files = generator().expected_files()
    for rule in api.rule_docs():
        page = files[f"{rule.code}.md"]
        assert page.splitlines()[2] == f"# {rule.code} {rule.name}"
        for title in ("What it finds", "Why it matters", "How to fix"):
            assert f"## {title}\n" in page
        # reStructuredText literals become Markdown code; wrapped lines lose the docstring's
        # indent (else Markdown would show them as a code block).
        assert "``" not in page
        what = page.split("## What it finds\n\n", 1)[1].split("\n\n", 1)[0]
        assert not any(line.startswith(" ") for line in what.splitlines())
        assert f"[{rule.code}]({rule.code}.md)" in files["README.md"]


def test_check_finds_an_edited_page(tmp_path: Path) -> None:
    module = generator()
    for name, content in module.expected_files().items():
        (tmp_path / name).write_text(content, encoding="utf-8")
    assert module.stale_files(tmp_path) == []
    first = sorted(p.name for p in tmp_path.glob("P*.md"))[0]
    (tmp_path / first).write_text("edited by hand\n", encoding="utf-8")
    (tmp_path / "Z999.md").write_text("left over\n", encoding="utf-8")
    assert module.stale_files(tmp_path) == sorted([first, "Z999.md"])
