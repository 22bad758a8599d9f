"""A001 names the exception the app logged for a route's failed requests, tied by request id."""

from __future__ import annotations

import json
from pathlib import Path

from logtriage import api


def test_a001_names_the_logged_exception(tmp_path: Path) -> None:
    access, app = [], []
    for i in range(60):
        rid = f"{i:032x}"
        failed = i % 3 == 0
        status = 500 if failed else 200
        access.append(
            f'10.0.0.1 - - [24/Nov/2026:10:00:{i % 60:02d} +0000] "POST /checkout HTTP/1.1" '
            f'{status} 12 "-" "ua" 0.050 0.049 {rid}'
        )
        if failed:
            app.append(
                json.dumps(
                    {
                        "timestamp": f"2026-11-24T10:00:{i % 60:02d}.000Z",
                        "level": "error",
                        "event": "payment failed",
                        "request_id": rid,
                        "exception": "Traceback (most recent call last):\n"
                        '  File "/app/shop/payments.py", line 42, in charge\n'
                        "    raise PaymentDeclined(order)\n"
                        "shop.payments.PaymentDeclined: order 17",
                    }
                )
            )
    (tmp_path / "access.log").write_text("\n".join(access) + "\n")
    (tmp_path / "app.log").write_text("\n".join(app) + "\n")
    report = api.analyze([str(tmp_path / "access.log"), str(tmp_path / "app.log")])
    a001 = [f for f in report.findings if f.code == "A001"]
    assert len(a001) == 1
    exceptions = a001[0].evidence["exceptions"]
    assert exceptions[0]["count"] == 20
    assert "PaymentDeclined" in exceptions[0]["error_type"]
    assert "PaymentDeclined" in a001[0].fix
