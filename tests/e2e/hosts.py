"""What the end-to-end servers need from the machine: their binaries and a free local port."""

from __future__ import annotations

import os
import shutil
import socket

# Server binaries are not always on PATH (Debian keeps nginx, apache2, mariadbd in sbin).
SBIN = ("/usr/sbin", "/usr/local/sbin", "/sbin", "/usr/local/mysql/bin", "/usr/bin")


def find_binary(*names: str) -> str | None:
    """The first of ``names`` on PATH or in the sbin directories."""
    for name in names:
        found = shutil.which(name) or next(
            (f"{d}/{name}" for d in SBIN if os.access(f"{d}/{name}", os.X_OK)), None
        )
        if found:
            return found
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
