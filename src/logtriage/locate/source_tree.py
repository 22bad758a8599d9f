"""The code base of ``--source``: which files to read, within bounds, and where a logged path is."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

# Dependency, build and tool folders: never the application's own code.
VENDORED_DIRS = frozenset(
    {
        "node_modules", "bower_components", "vendor", ".venv", "venv", "env", ".tox", ".nox",
        "site-packages", "dist", "build", "target", "out", ".git", ".hg", ".svn", "__pycache__",
        ".mypy_cache", ".pytest_cache", ".ruff_cache", ".next", ".nuxt", "coverage", "tmp",
        "log", "logs", ".bundle", ".gradle", ".idea", ".vscode", "storage", "public",
    }
)  # fmt: skip
TEMPLATE_SUFFIXES = (".html", ".htm", ".jinja", ".jinja2", ".j2", ".erb")
# Texts kept in memory at once: the scan reads each file once, the loop search a few again.
_CACHED_TEXTS = 256
LANGUAGE_BY_SUFFIX = {
    ".py": "python",
    ".rb": "ruby",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".jsx": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".php": "php",
    ".prisma": "prisma",
}


@dataclass(frozen=True)
class ScanLimits:
    """Bounds of one scan: a huge tree or a generated file must not take minutes."""

    max_file_bytes: int = 512_000
    max_files: int = 200_000
    # Parsing stops after this long; the files left are parsed only when a finding needs them.
    max_seconds: float = 60.0


@dataclass
class SourceTree:
    """The readable source files under ``root``, with what was skipped and why."""

    root: Path
    limits: ScanLimits = field(default_factory=ScanLimits)
    files: list[str] = field(default_factory=list)
    # View templates (Jinja, Django, ERB): read only when a handler renders them.
    templates: list[str] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    uses_gitignore: bool = False
    _texts: OrderedDict[str, str | None] = field(default_factory=OrderedDict)
    _names: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def open(cls, root: str, limits: ScanLimits | None = None) -> SourceTree:
        """List the source files under ``root`` (``.gitignore`` respected inside a git repo)."""
        tree = cls(Path(root).resolve(), limits or ScanLimits())
        listed = tree._git_files()
        tree.uses_gitignore = listed is not None
        candidates = listed if listed is not None else tree._walk()
        for rel in sorted(candidates):
            parts = PurePosixPath(rel).parts
            if any(p in VENDORED_DIRS or p.endswith(".egg-info") for p in parts[:-1]):
                tree._skip("vendored")
                continue
            if PurePosixPath(rel).suffix not in LANGUAGE_BY_SUFFIX:
                if rel.endswith(TEMPLATE_SUFFIXES) and len(tree.templates) < tree.limits.max_files:
                    tree.templates.append(rel)
                continue
            if len(tree.files) >= tree.limits.max_files:
                tree._skip("over_file_limit")
                continue
            try:
                size = (tree.root / rel).stat().st_size
            except OSError:
                tree._skip("unreadable")
                continue
            if size > tree.limits.max_file_bytes:
                tree._skip("too_large")
                continue
            tree.files.append(rel)
        return tree

    def _skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1

    def _git_files(self) -> list[str] | None:
        """Tracked and untracked-but-not-ignored files, as git sees them; None outside a repo."""
        git = shutil.which("git")
        if git is None:
            return None
        try:
            done = subprocess.run(
                [git, "-C", str(self.root), "ls-files", "-z", "--cached", "--others",
                 "--exclude-standard"],
                capture_output=True,
                timeout=60,
                check=False,
            )  # fmt: skip
        except (OSError, subprocess.SubprocessError):
            return None
        if done.returncode != 0:
            return None
        return [p for p in done.stdout.decode("utf-8", "replace").split("\0") if p]

    def _walk(self) -> list[str]:
        out: list[str] = []
        for directory, dirs, names in os.walk(self.root):
            kept = [d for d in dirs if d not in VENDORED_DIRS and not d.endswith(".egg-info")]
            for _ in range(len(dirs) - len(kept)):
                self._skip("vendored")
            dirs[:] = sorted(kept)
            rel_dir = Path(directory).relative_to(self.root)
            out.extend((rel_dir / n).as_posix() for n in names)
        return out

    def language(self, rel: str) -> str:
        """The parser language of a listed file."""
        return LANGUAGE_BY_SUFFIX[PurePosixPath(rel).suffix]

    def text(self, rel: str) -> str | None:
        """The file's text (the last few kept); None when unreadable or not UTF-8."""
        if rel in self._texts:
            self._texts.move_to_end(rel)
            return self._texts[rel]
        try:
            text: str | None = (self.root / rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            self._skip("unreadable")
            text = None
        self._texts[rel] = text
        if len(self._texts) > _CACHED_TEXTS:
            self._texts.popitem(last=False)
        return text

    def resolve(self, logged: str) -> str | None:
        """The file under ``root`` a logged path names, by the longest suffix that exists.

        Deployments run the code from elsewhere (``/app/``, ``/srv/x/releases/123/``), so the
        path in a log is matched by its tail: ``/srv/x/releases/123/app/models/post.rb`` is
        ``app/models/post.rb`` when that file is under ``root``.
        """
        parts = [p for p in PurePosixPath(logged.replace("\\", "/")).parts if p not in ("/", ".")]
        if not parts or ".." in parts:
            return None
        for start in range(len(parts)):
            rel = "/".join(parts[start:])
            if (self.root / rel).is_file():
                return rel
        # A JVM frame names ``com/x/Shop.java``: the file sits deeper (src/main/java/com/x/…).
        tail = "/" + "/".join(parts)
        deeper = [f for f in self._by_name().get(parts[-1], []) if ("/" + f).endswith(tail)]
        return min(deeper, key=len) if deeper else None

    def _by_name(self) -> dict[str, list[str]]:
        if not self._names:
            for rel in self.files:
                self._names.setdefault(PurePosixPath(rel).name, []).append(rel)
        return self._names

    def stats(self) -> dict[str, object]:
        """What the scan read and skipped, for the report."""
        return {
            "root": str(self.root),
            "files": len(self.files),
            "templates": len(self.templates),
            "skipped": dict(sorted(self.skipped.items())),
            "gitignore": self.uses_gitignore,
        }
