"""Hold the process to the engine's limit plus a fixed allowance, whatever the input's size.

DuckDB keeps its table data and operator state within ``memory_limit``, but not the
bookkeeping it allocates with plain ``malloc`` beside it (a record per block, per column
segment, per spilled buffer): that grows with the data held, about 12 MB per GB of spilled
tables. On 10 GB of mixed logs it reached 220 MB and took the peak past 1 GiB with the engine
at its limit. So the engine's limit gives back what the C heap has grown since the run began,
measured with glibc's ``mallinfo2`` (Python's small objects live in their own arenas, outside
it). Without glibc the limit stays as configured.
"""

from __future__ import annotations

import ctypes
import time
from collections.abc import Callable

# The limit moves in steps of this many bytes (each move is a SET, and evicts when it shrinks).
STEP = 16 << 20
# mallinfo2 walks the heap's free lists: asked at most this often, not per statement.
EVERY_SECONDS = 0.5


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def _glibc_mallinfo2() -> Callable[[], _MallInfo2] | None:
    try:
        function = ctypes.CDLL(None).mallinfo2
    except (AttributeError, OSError):
        return None  # not glibc (musl, macOS) or glibc before 2.33
    function.restype = _MallInfo2
    function.argtypes = []
    return function


_MALLINFO2 = _glibc_mallinfo2()


def heap_in_use() -> int | None:
    """Bytes the C heap holds for the process (malloc'ed and in use), or None if unknown."""
    if _MALLINFO2 is None:
        return None
    info = _MALLINFO2()
    # uordblks: in use in the heap's arenas; hblkhd: large blocks malloc mapped on its own.
    return int(info.uordblks + info.hblkhd)


class MemoryBudget:
    """The engine limit that keeps engine + C heap growth at the configured ``limit``."""

    def __init__(self, apply: Callable[[int], bool], limit: int) -> None:
        """``apply(bytes)`` sets the engine's limit, False when the engine refused it."""
        self._apply = apply
        self._limit = limit
        self.current = limit
        self._baseline = heap_in_use()
        self._asked = time.monotonic()

    def fit(self) -> None:
        """Give the engine's limit back what the heap has grown by (at most half of it)."""
        if self._baseline is None or time.monotonic() - self._asked < EVERY_SECONDS:
            return
        self._asked = time.monotonic()
        heap = heap_in_use()
        if heap is None:
            return
        grown = max(0, heap - self._baseline)
        # In whole steps: a heap that breathes by a few MB does not move the limit.
        target = max(self._limit // 2, self._limit - -(-grown // STEP) * STEP)
        # Down at once; up only by two steps or more, so a heap that hovers at a step's edge
        # does not move the limit to and fro.
        moves = target < self.current or target >= self.current + 2 * STEP
        if moves and self._apply(target):
            self.current = target
