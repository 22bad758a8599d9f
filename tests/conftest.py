"""Shared fixtures: paths to case files and a CLI runner with captured streams."""

from __future__ import annotations

from pathlib import Path

import pytest

TESTS = Path(__file__).parent
CASES = TESTS / "cases"


@pytest.fixture
def cases_dir() -> Path:
    return CASES
