"""Settings: defaults < config file < flags; bad config is one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from logtriage.config import Settings, load_settings, settings_from_mapping
from logtriage.engine.pipeline import _analyzer_options
from logtriage.errors import ConfigError


def test_logtriage_toml_is_found_upwards(tmp_path: Path) -> None:
    (tmp_path / "logtriage.toml").write_text(
        'routes = ["GET /blog/{slug}"]\n[analyzers.P004]\nslow_p95_ms = 250\n'
    )
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    settings = load_settings(cwd=nested)
    assert settings.routes == ("GET /blog/{slug}",)
    assert _analyzer_options(settings)["P004"].slow_p95_ms == 250.0  # type: ignore[attr-defined]


def test_pyproject_tool_section(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname="x"\n[tool.logtriage]\nmemory_limit = "2GB"\n[tool.logtriage.formats]\n'
        "nginx_log_format = '$remote_addr $status'\n"
    )
    settings = load_settings(cwd=tmp_path)
    assert settings.memory_limit == "2GB"
    assert settings.format_options["nginx_log_format"] == "$remote_addr $status"


def test_flags_override_file() -> None:
    base = settings_from_mapping({"memory_limit": "2GB", "threads": 2})
    assert base.with_overrides(memory_limit="512MB", threads=None).memory_limit == "512MB"
    assert base.with_overrides(threads=None).threads == 2


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"nope": 1}, "unknown setting 'nope'"),
        ({"threads": "two"}, "threads must be a int"),
        ({"routes": "GET /x"}, "routes must be a list"),
        ({"accept": [{"route": "x"}]}, "needs a code"),
    ],
)
def test_bad_settings(mapping: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(mapping)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"Z999": {}}, "unknown finding code"),
        ({"P004": {"nope": 1}}, "has no option 'nope'"),
        ({"P004": {"min_requests": "many"}}, "must be a int"),
    ],
)
def test_bad_analyzer_options(options: dict[str, dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _analyzer_options(Settings(analyzer_options=options))


def test_invalid_toml(tmp_path: Path) -> None:
    path = tmp_path / "logtriage.toml"
    path.write_text("routes = [\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_settings(str(path))
