"""Capture the bundled main-job example: nginx + the Flask shop + PostgreSQL, real logs.

The shop (``tests/e2e/shop``: Flask + SQLAlchemy under gunicorn, a planted N+1 on
``GET /articles`` and a planted slow pattern on ``GET /feed?include=comments``) runs behind a
real nginx on a real PostgreSQL, without SQL comment tags (as most applications run), over the
seeded request plan of the correlation end-to-end test, spread over about a minute. Needs nginx
and PostgreSQL (``make system``); writes ``examples/shop/access.log`` and
``examples/shop/postgresql.log``.

    .venv/bin/python scripts/capture_shop_example.py [--out examples/shop]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.test_correlation_e2e import _capture  # noqa: E402 - after the path is set


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "examples" / "shop")
    args = parser.parse_args()
    keep = Path(tempfile.mkdtemp(prefix="logtriage-shop-example-"))
    try:
        # A second between each client's requests: about a minute of traffic, as a service sees.
        capture = _capture("postgresql", False, keep, pause_s=1.0)
        args.out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(capture.access_log, args.out / "access.log")
        shutil.copyfile(capture.db_log, args.out / "postgresql.log")
        print(f"{sum(capture.sent.values())} requests: {capture.sent}")
    finally:
        shutil.rmtree(keep, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
