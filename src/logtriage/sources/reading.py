"""Turn what the user named (files, directories, globs, rotated sets, ``-``) into input files."""

from __future__ import annotations

import glob
import os
import re
import shutil
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from logtriage.errors import InputError
from logtriage.model.i18n import _
from logtriage.sources.cursor import utf16_codec

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_ROTATION = re.compile(r"^(?P<stem>.*?)(?:[.-](?P<n>\d{1,4}))?(?P<ext>\.(?:gz|zst))?$")
# Never logs: runtime files, and the notes and scripts that sit beside logs (a README.md).
_SKIP_SUFFIXES = (
    ".json.schema", ".pid", ".sock", ".lock", ".swp", ".tmp", ".md", ".rst", ".py", ".pyc",
)  # fmt: skip
# Directories of build output beside an app's logs or source (``--source`` next to its logs).
_SKIP_DIRS = ("__pycache__", "node_modules")
# Files a directory holds beside its logs that no reader can open (xz/bzip2/lz4/zip/7z
# archives, images, PDFs, programs, SQLite): skipped by their first bytes, whatever their name.
# NUL bytes alone do not count: copytruncate leaves a live log starting with them.
_BINARY_MAGIC = (
    b"\xfd7zXZ\x00", b"BZh", b"\x04\x22\x4d\x18", b"PK\x03\x04", b"7z\xbc\xaf\x27\x1c",
    b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"%PDF-", b"\x7fELF", b"SQLite format 3\x00",
)  # fmt: skip
_TAR_MAGIC = (257, b"ustar")


@dataclass(frozen=True)
class InputFile:
    """One file to read: ``path`` as shown to the user, ``read_path`` what the engine opens."""

    path: str
    read_path: str
    compression: str  # "none", "gzip" or "zstd", from the file's first bytes
    # Lines of ``path`` before the first line of ``read_path`` (a resumed read, --state).
    line_offset: int = 0
    # "utf-16" when the file starts with its byte-order mark (PowerShell's `>` writes that).
    encoding: str = "utf-8"


def _compression_of(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except PermissionError as exc:
        raise InputError(_("permission denied: {path}").format(path=path)) from exc
    except IsADirectoryError as exc:  # pragma: no cover - callers pass files only
        raise InputError(_("is a directory: {path}").format(path=path)) from exc
    except OSError as exc:
        raise InputError(
            _("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)
        ) from exc
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def rotation_key(path: str) -> tuple[str, int]:
    """Order a rotated set oldest first: ``x.log.3.gz``, ``x.log.2.gz``, ``x.log.1``, ``x.log``."""
    name = os.path.basename(path)
    match = _ROTATION.match(name)
    stem = match.group("stem") if match else name
    number = int(match.group("n")) if match and match.group("n") else 0
    return (os.path.join(os.path.dirname(path), stem), -number)


def _files_under(directory: str) -> list[str]:
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in files:
            if name.startswith(".") or name.endswith(_SKIP_SUFFIXES):
                continue
            full = os.path.join(root, name)
            if os.path.isfile(full) and not _is_binary(full):
                found.append(full)
    return sorted(found, key=rotation_key)


def _encoding_of(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
    except OSError:
        return "utf-8"
    return "utf-16" if utf16_codec(head) else "utf-8"


def _is_binary(path: str) -> bool:
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError:
        return False  # reading it later says why, in one line
    offset, tar = _TAR_MAGIC
    return head.startswith(_BINARY_MAGIC) or head[offset : offset + len(tar)] == tar


def spool_stdin(stream: BinaryIO, directory: str, name: str = "stdin.log") -> str:
    """Copy standard input to a file in ``directory`` (bounded memory) and return its path."""
    target = os.path.join(directory, name)
    with open(target, "wb") as out:
        shutil.copyfileobj(stream, out, length=1 << 20)
    return target


def expand_inputs(
    names: Sequence[str], spool_dir: str, stdin: BinaryIO | None = None
) -> list[InputFile]:
    """Resolve each name to files; a name that yields nothing is a one-line error."""
    if not names:
        raise InputError(_("no input given: name log files, directories, globs, or - for stdin"))
    files: list[tuple[str, str]] = []
    for name in names:
        if name == "-":
            stream = stdin if stdin is not None else sys.stdin.buffer
            files.append(("<stdin>", spool_stdin(stream, spool_dir)))
        elif os.path.isdir(name):
            if not os.access(name, os.R_OK | os.X_OK):
                raise InputError(_("permission denied: {path}").format(path=name))
            under = _files_under(name)
            if not under:
                raise InputError(_("no log files in directory: {path}").format(path=name))
            files.extend((f, f) for f in under)
        elif os.path.exists(name) and not os.path.isfile(name):
            # A pipe (<(zcat …), a FIFO) can be read once: its first bytes would go to the
            # compression check and the engine would see the rest, so it is spooled like stdin.
            try:
                with open(name, "rb") as stream:
                    files.append((name, spool_stdin(stream, spool_dir, f"pipe-{len(files)}.log")))
            except OSError as exc:
                raise InputError(
                    _("cannot read {path}: {reason}").format(path=name, reason=exc.strerror or exc)
                ) from exc
        elif os.path.exists(name):
            files.append((name, name))
        elif glob.has_magic(name):
            matched = sorted(
                (p for p in glob.glob(name, recursive=True) if os.path.isfile(p)), key=rotation_key
            )
            if not matched:
                raise InputError(_("no files match: {pattern}").format(pattern=name))
            files.extend((p, p) for p in matched)
        else:
            raise InputError(_("no such file or directory: {path}").format(path=name))
    seen: set[str] = set()
    out: list[InputFile] = []
    for shown, real in files:
        key = str(Path(real).resolve())
        if key in seen:
            continue
        seen.add(key)
        compression = _compression_of(real)
        encoding = _encoding_of(real) if compression == "none" else "utf-8"
        out.append(InputFile(shown, real, compression, encoding=encoding))
    return out
