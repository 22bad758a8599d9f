"""Deterministic benchmark logs: nginx access, MySQL 8.0 slow log, PostgreSQL stderr log.

Each writer streams batches to disk (memory stays flat at any size) and draws everything from
one seeded ``random.Random``, so the same arguments always give the same bytes.

Formats follow what the servers really write:
- nginx ``combined`` + `` $request_time $upstream_response_time``
  (https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format); the upstream time is
  ``-`` when nginx served the file itself and a ``, `` list when it retried another upstream.
- MySQL 8.0 slow log with ``log_timestamps=UTC``: ``# Time:``, ``# User@Host: … Id: %5u``,
  ``# Query_time: %.6f  Lock_time: %.6f Rows_sent: %lu  Rows_examined: %lu``, ``use db;`` when
  a thread's database changes, ``SET timestamp=…;``, then the statement (percona-toolkit
  ``t/lib/samples/slowlogs/mysql5.7.log`` shows the same layout).
- PostgreSQL stderr with ``log_line_prefix = '%m [%p] %q%u@%d '`` (Debian's default) and
  ``log_min_duration_statement = 0``: statement newlines are written as newline + tab,
  background processes print only ``%m [%p] `` (the ``%q``), errors add ``DETAIL:`` and
  ``STATEMENT:`` lines (pgbadger ``t/fixtures/*.log`` have the same shapes).

Usage: ``python benchmarks/generate.py access OUT --lines N`` (or ``mysql``/``postgres`` with
``--size-mb``). Planted problems, so the analyses have something to find: the access log has a
slow route (``GET /api/v1/reports/{id}/export``) and a failing one
(``POST /api/v1/payments/{uuid}/capture``); the database logs have a heavy scan on
``orders.customer_email``, an N+1 on ``authors`` and some failed statements.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote

# Bump when the output of any writer changes: cached files with another version are rewritten.
GENERATOR_VERSION = 3
START = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC).timestamp()
BATCH = 1000  # entries per write: bounded memory, few syscalls, sizes close to target
MB = 1024 * 1024


@dataclass(frozen=True)
class Written:
    """What a writer produced: physical lines, logical entries (one statement, one request)."""

    kind: str
    seed: int
    lines: int
    entries: int
    bytes: int
    version: int = GENERATOR_VERSION


class Batcher:
    """Collects entries and writes them in batches, counting lines and bytes."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.parts: list[str] = []
        self.lines = 0
        self.entries = 0
        self.bytes = 0

    def add(self, text: str) -> None:
        """Queue one entry (one or more lines, each ending in a newline)."""
        self.parts.append(text)
        self.entries += 1
        if len(self.parts) >= BATCH:
            self.flush()

    def flush(self) -> None:
        """Write the queued entries."""
        if not self.parts:
            return
        text = "".join(self.parts)
        data = text.encode("utf-8")
        self.out.write(data)
        self.lines += text.count("\n")
        self.bytes += len(data)
        self.parts.clear()


def _hex(rng: random.Random, digits: int) -> str:
    return f"{rng.getrandbits(digits * 4):0{digits}x}"


def _uuid(rng: random.Random) -> str:
    h = _hex(rng, 32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _weighted(items: list[tuple[float, object]]) -> tuple[list[object], list[float]]:
    total = 0.0
    cum: list[float] = []
    values: list[object] = []
    for weight, value in items:
        total += weight
        cum.append(total)
        values.append(value)
    return values, [c / total for c in cum]


def _pick(rng: random.Random, table: tuple[list[object], list[float]]) -> object:
    values, cum = table
    x = rng.random()
    lo, hi = 0, len(cum) - 1
    while lo < hi:  # binary search in the cumulative weights
        mid = (lo + hi) // 2
        if cum[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return values[lo]


# --------------------------------------------------------------------------- nginx access log

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.6778.81 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "ShopApp/4.12.0 (iPhone; iOS 18.1; Scale/3.00)",
    "ShopApp/4.11.2 (Android 14; Pixel 7)",
    "okhttp/4.12.0",
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Go-http-client/2.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Prometheus/2.53.0",
    "kube-probe/1.30",
]
UA_WEIGHTS = [22, 12, 6, 14, 10, 4, 9, 6, 3, 2, 1, 2, 2, 1, 1, 1]
SCANNER_AGENT = "Mozilla/5.0 zgrab/0.x"
REFERRERS = [
    "https://shop.example.com/",
    "https://shop.example.com/products",
    "https://shop.example.com/cart",
    "https://www.google.com/",
    "https://shop.example.com/account/orders",
]
SEARCH_TERMS = ["shoes", "red+dress", "laptop", "usb-c+cable", "coffee", "desk+lamp", "caf%C3%A9"]

# method, path template, weight, median ms, sigma, 5xx rate, kind
# kind: api (upstream), static (served by nginx), probe (scanner, 404 from nginx)
Route = tuple[str, str, float, float, float, float, str]
ROUTES: list[Route] = [
    ("GET", "/", 30, 25, 0.5, 0.001, "api"),
    ("GET", "/api/v1/products", 60, 45, 0.6, 0.002, "api"),
    ("GET", "/api/v1/products/{id}", 90, 18, 0.5, 0.001, "api"),
    ("GET", "/api/v1/products/{id}/reviews", 25, 35, 0.6, 0.002, "api"),
    ("GET", "/api/v1/products/{id}/related", 15, 60, 0.5, 0.002, "api"),
    ("GET", "/api/v1/products/{slug}", 12, 20, 0.5, 0.001, "api"),
    ("GET", "/api/v1/categories", 20, 12, 0.4, 0.0005, "api"),
    ("GET", "/api/v1/categories/{id}/products", 25, 55, 0.6, 0.002, "api"),
    ("GET", "/api/v1/search", 40, 120, 0.8, 0.004, "api"),
    ("GET", "/api/v1/cart", 35, 22, 0.5, 0.001, "api"),
    ("POST", "/api/v1/cart/items", 18, 40, 0.5, 0.003, "api"),
    ("DELETE", "/api/v1/cart/items/{id}", 5, 30, 0.5, 0.002, "api"),
    ("PATCH", "/api/v1/cart/items/{id}", 4, 32, 0.5, 0.002, "api"),
    ("POST", "/api/v1/checkout", 6, 250, 0.6, 0.01, "api"),
    ("POST", "/api/v1/payments/{uuid}/capture", 4, 420, 0.7, 0.12, "api"),
    ("GET", "/api/v1/payments/{uuid}", 3, 35, 0.5, 0.002, "api"),
    ("GET", "/api/v1/orders", 12, 80, 0.7, 0.002, "api"),
    ("GET", "/api/v1/orders/{uuid}", 14, 30, 0.5, 0.001, "api"),
    ("GET", "/api/v1/orders/{uuid}/invoice.pdf", 2, 300, 0.6, 0.005, "api"),
    ("POST", "/api/v1/orders/{uuid}/cancel", 1, 90, 0.5, 0.004, "api"),
    ("GET", "/api/v1/users/me", 30, 10, 0.4, 0.0005, "api"),
    ("PUT", "/api/v1/users/me", 2, 45, 0.5, 0.002, "api"),
    ("GET", "/api/v1/users/{id}", 8, 15, 0.5, 0.001, "api"),
    ("GET", "/api/v1/users/{id}/addresses", 4, 20, 0.5, 0.001, "api"),
    ("POST", "/api/v1/users/{id}/addresses", 1, 50, 0.5, 0.003, "api"),
    ("GET", "/api/v1/users/{id}/wishlist", 5, 28, 0.5, 0.001, "api"),
    ("POST", "/api/v1/auth/login", 8, 180, 0.4, 0.002, "api"),
    ("POST", "/api/v1/auth/logout", 3, 8, 0.4, 0.0005, "api"),
    ("POST", "/api/v1/auth/refresh", 10, 15, 0.4, 0.001, "api"),
    ("POST", "/api/v1/auth/password-reset", 1, 220, 0.5, 0.004, "api"),
    ("GET", "/api/v1/reports/{id}/export", 1.5, 2600, 0.5, 0.01, "api"),
    ("GET", "/api/v1/reports", 2, 70, 0.5, 0.002, "api"),
    ("GET", "/api/v1/inventory/{id}", 6, 14, 0.4, 0.001, "api"),
    ("PUT", "/api/v1/inventory/{id}", 1, 60, 0.5, 0.003, "api"),
    ("GET", "/api/v1/recommendations", 10, 140, 0.7, 0.006, "api"),
    ("GET", "/api/v1/stores/{id}/hours", 2, 9, 0.4, 0.0005, "api"),
    ("GET", "/api/v1/shipping/rates", 5, 190, 0.6, 0.008, "api"),
    ("POST", "/api/v1/coupons/validate", 3, 25, 0.5, 0.002, "api"),
    ("GET", "/api/v2/feed", 8, 95, 0.6, 0.003, "api"),
    ("POST", "/api/v2/events", 25, 6, 0.5, 0.001, "api"),
    ("POST", "/graphql", 15, 75, 0.9, 0.004, "api"),
    ("GET", "/account/orders", 6, 60, 0.5, 0.002, "api"),
    ("GET", "/products/{slug}", 20, 35, 0.5, 0.001, "api"),
    ("GET", "/category/{slug}", 8, 50, 0.5, 0.001, "api"),
    ("GET", "/healthz", 20, 1, 0.3, 0.0, "api"),
    ("GET", "/metrics", 4, 4, 0.3, 0.0, "api"),
    ("GET", "/sitemap.xml", 1, 150, 0.4, 0.001, "api"),
    ("GET", "/robots.txt", 1, 0, 0, 0.0, "static"),
    ("GET", "/favicon.ico", 8, 0, 0, 0.0, "static"),
    ("GET", "/static/js/app.{hex}.js", 25, 0, 0, 0.0, "static"),
    ("GET", "/static/js/vendor.{hex}.js", 20, 0, 0, 0.0, "static"),
    ("GET", "/static/css/main.{hex}.css", 22, 0, 0, 0.0, "static"),
    ("GET", "/static/fonts/inter-var.woff2", 10, 0, 0, 0.0, "static"),
    ("GET", "/images/products/{id}.jpg", 45, 0, 0, 0.0, "static"),
    ("GET", "/images/products/{id}/thumb.webp", 30, 0, 0, 0.0, "static"),
    ("GET", "/wp-login.php", 0.4, 0, 0, 0.0, "probe"),
    ("GET", "/.env", 0.3, 0, 0, 0.0, "probe"),
    ("POST", "/xmlrpc.php", 0.2, 0, 0, 0.0, "probe"),
    ("GET", "/phpmyadmin/index.php", 0.2, 0, 0, 0.0, "probe"),
    ("GET", "/.git/config", 0.2, 0, 0, 0.0, "probe"),
]
SLUGS = [
    "trail-running-shoes", "linen-shirt", "espresso-machine-pro", "usb-c-hub-7-in-1",
    "wool-socks", "standing-desk", "noise-cancelling-headphones", "cast-iron-pan",
    "yoga-mat", "led-desk-lamp", "mechanical-keyboard", "rain-jacket",
]  # fmt: skip
STATIC_HASHES = ["3f9a1c2e", "8b7d6e10", "c0ffee42"]


def _access_query(rng: random.Random, path: str) -> str:
    if path == "/api/v1/search":
        q = f"q={rng.choice(SEARCH_TERMS)}"
        if rng.random() < 0.4:
            q += f"&page={rng.randint(1, 20)}"
        return "?" + q
    if path in ("/api/v1/products", "/api/v1/orders") or path.endswith("/products"):
        r = rng.random()
        if r < 0.5:
            return f"?page={rng.randint(1, 50)}&per_page={rng.choice((20, 50, 100))}"
        if r < 0.7:
            return f"?sort={rng.choice(('price', '-price', 'newest', 'rating'))}&page=1"
        return ""
    if path == "/api/v1/shipping/rates":
        return (
            f"?country={rng.choice(('DE', 'FR', 'JP', 'US', 'BR'))}&zip={rng.randint(1000, 99999)}"
        )
    if path.startswith("/static/") and rng.random() < 0.1:
        return f"?v={rng.randint(1, 9)}"
    if rng.random() < 0.02:
        return f"?utm_source={rng.choice(('newsletter', 'google', 'twitter'))}&utm_medium=cpc"
    return ""


def _fill(rng: random.Random, template: str) -> str:
    out = template
    while "{" in out:
        start = out.index("{")
        end = out.index("}", start)
        name = out[start + 1 : end]
        if name == "id":
            value = str(int(rng.paretovariate(0.8)) + rng.randint(0, 90000))
        elif name == "uuid":
            value = _uuid(rng)
        elif name == "slug":
            value = rng.choice(SLUGS)
        else:
            value = rng.choice(STATIC_HASHES)
        out = out[:start] + value + out[end + 1 :]
    return out


def _client_pool(rng: random.Random, size: int) -> list[str]:
    pool = []
    for i in range(size):
        if i % 50 == 49:
            pool.append(f"2001:db8:{rng.randint(0, 0xFFFF):x}::{rng.randint(1, 0xFFFF):x}")
        else:
            pool.append(
                f"{rng.choice((10, 81, 93, 172, 185, 203))}.{rng.randint(0, 255)}."
                f"{rng.randint(0, 255)}.{rng.randint(1, 254)}"
            )
    return pool


def _clf_time(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def access_entries(count: int, seed: int) -> Iterator[str]:
    """``count`` nginx access lines (``combined`` + request and upstream time), in time order."""
    rng = random.Random(seed)
    routes = _weighted([(r[2], r) for r in ROUTES])
    agents = _weighted(list(zip(UA_WEIGHTS, USER_AGENTS, strict=True)))
    clients = _client_pool(rng, 6000)
    # A few busy clients (offices, carrier NATs) send a fifth of the traffic, the rest spread
    # out; the scanners are other hosts that send nothing but probes.
    busy = clients[:50]
    scanners = _client_pool(rng, 3)
    # Spread the lines over one day whatever their number: the time range stays realistic.
    mean_gap = 86400.0 / max(count, 1)
    now = START
    cached_second = -1
    clf = ""
    for _ in range(count):
        now += rng.expovariate(1.0 / mean_gap)
        second = int(now)
        if second != cached_second:
            cached_second = second
            clf = _clf_time(second)
        method, template, _, median_ms, sigma, error_rate, kind = _pick(rng, routes)  # type: ignore[misc]
        path = _fill(rng, template)
        uri = path + _access_query(rng, path)
        proto = "HTTP/2.0" if rng.random() < 0.55 else "HTTP/1.1"
        if kind == "probe":
            client, agent = rng.choice(scanners), SCANNER_AGENT
        else:
            client = rng.choice(busy) if rng.random() < 0.2 else rng.choice(clients)
            agent = str(_pick(rng, agents))
        user = "-" if rng.random() < 0.97 else rng.choice(("alice", "bob", "svc-backup"))
        referrer = "-" if kind != "static" and rng.random() < 0.6 else rng.choice(REFERRERS)
        if kind == "static":
            status = 304 if rng.random() < 0.3 else 200
            size = 0 if status == 304 else rng.randint(800, 350000)
            rt = f"{rng.random() * 0.002:.3f}"
            upstream = "-"
        elif kind == "probe":
            status = 404
            size = 153
            rt = "0.000"
            upstream = "-"
        else:
            ms = median_ms * math.exp(rng.gauss(0.0, sigma)) if sigma else median_ms
            r = rng.random()
            if r < error_rate:
                status = rng.choice((500, 502, 502, 503, 504))
                if status == 504:
                    ms = 60000.0
            elif r < error_rate + 0.002:
                status = 499  # the client gave up; nginx logs what it waited
            elif r < error_rate + 0.03:
                status = rng.choice((400, 401, 403, 404, 404, 404, 409, 422, 429))
            elif method == "POST" and template.startswith("/api/v1/auth/login"):
                status = 200 if rng.random() < 0.9 else 401
            elif method == "POST":
                status = 201 if rng.random() < 0.5 else 200
            elif method == "DELETE":
                status = 204
            elif rng.random() < 0.01:
                status = rng.choice((301, 302))
            else:
                status = 200
            seconds = ms / 1000.0
            size = 0 if status in (204, 301, 302) else rng.randint(60, 24000)
            rt = f"{seconds + 0.0005:.3f}"
            if status == 502 and rng.random() < 0.5:
                # nginx retried the next upstream: one time per upstream tried.
                upstream = f"{seconds * 0.6:.3f}, {seconds * 0.4:.3f}"
            elif status == 499 and rng.random() < 0.5:
                upstream = "-"
            else:
                upstream = f"{seconds:.3f}"
        yield (
            f'{client} - {user} [{clf}] "{method} {uri} {proto}" {status} {size} '
            f'"{referrer}" "{agent}" {rt} {upstream}\n'
        )


# --------------------------------------------------------------------------- SQL shapes

NAMES = ["Smith", "Müller", "O'Brien", "García", "Nguyen", "Tanaka", "Kowalski", "Dubois"]
FRAMEWORKS = ["django%3A4.2.7", "rails%3A7.1.2", "express%3A4.19.2", "spring%3A6.1.3"]
CONTROLLERS = [
    ("products", "show", "/api/v1/products/<int:id>"),
    ("products", "index", "/api/v1/products"),
    ("orders", "show", "/api/v1/orders/<uuid:id>"),
    ("cart", "add", "/api/v1/cart/items"),
    ("checkout", "create", "/api/v1/checkout"),
    ("reports", "export", "/api/v1/reports/<int:id>/export"),
    ("users", "me", "/api/v1/users/me"),
]
REPORT_SQL = (
    "SELECT date(o.created_at) AS day,\n"
    "       c.name AS category,\n"
    "       count(*) AS orders,\n"
    "       sum(ol.price_cents * ol.quantity) AS revenue_cents\n"
    "  FROM orders o\n"
    "  JOIN order_lines ol ON ol.order_id = o.id\n"
    "  JOIN products p ON p.id = ol.product_id\n"
    "  JOIN categories c ON c.id = p.category_id\n"
    " WHERE o.created_at >= '2026-11-{day}' AND o.status IN ('paid', 'shipped')\n"
    " GROUP BY 1, 2\n"
    " ORDER BY 1, 4 DESC"
)
Rows = Callable[[dict[str, object]], int]


@dataclass(frozen=True)
class Shape:
    """A statement shape: how often it runs, its SQL template and its usual cost."""

    weight: float
    sql: str  # {names} are drawn by Values when the template uses them
    median_ms: float
    rows_sent: Rows
    rows_examined: Rows
    lock_ms: float = 0.01


def _n(v: dict[str, object]) -> int:
    return int(str(v["n"]))


SHAPES: dict[str, Shape] = {
    "user_by_id": Shape(
        120, "SELECT id, email, name, created_at FROM users WHERE id = {uid}",
        0.15, lambda v: 1, lambda v: 1,
    ),
    "product_by_id": Shape(
        90, "SELECT p.id, p.name, p.price_cents, p.stock FROM products p "
        "WHERE p.id = {pid} AND p.deleted_at IS NULL",
        0.2, lambda v: 1, lambda v: 1,
    ),
    "products_page": Shape(
        45, "SELECT id, name, price_cents FROM products WHERE category_id = {category} "
        "ORDER BY created_at DESC LIMIT {per} OFFSET {offset}",
        2.5, lambda v: int(str(v["per"])), lambda v: int(str(v["per"])) + int(str(v["offset"])),
    ),
    "products_in": Shape(
        40, "SELECT id, name, price_cents FROM products WHERE id IN ({in_list})",
        0.8, _n, _n,
    ),
    "cart_items": Shape(
        35, "SELECT ci.product_id, ci.quantity FROM cart_items ci WHERE ci.cart_id = {uid}",
        0.3, _n, _n,
    ),
    "insert_cart_item": Shape(
        25, "INSERT INTO cart_items (cart_id, product_id, quantity, added_at) "
        "VALUES ({uid}, {pid}, {qty}, {now})",
        0.6, lambda v: 0, lambda v: 0, 0.02,
    ),
    "update_cart_item": Shape(
        18, "UPDATE cart_items SET quantity = {qty} WHERE cart_id = {uid} AND product_id = {pid}",
        0.5, lambda v: 0, lambda v: 1, 0.03,
    ),
    "delete_cart_item": Shape(
        10, "DELETE FROM cart_items WHERE cart_id = {uid} AND product_id = {pid}",
        0.45, lambda v: 0, lambda v: 1, 0.03,
    ),
    "order_by_id": Shape(
        25, "SELECT * FROM orders WHERE id = '{uuid}'", 0.25, lambda v: 1, lambda v: 1,
    ),
    "orders_of_user": Shape(
        15, "SELECT id, status, total_cents, created_at FROM orders WHERE user_id = {uid} "
        "ORDER BY created_at DESC LIMIT 20",
        1.2, lambda v: min(_n(v), 20), _n,
    ),
    "order_lines": Shape(
        12, "SELECT ol.product_id, ol.quantity, ol.price_cents FROM order_lines ol "
        "WHERE ol.order_id = '{uuid}'",
        0.5, _n, _n,
    ),
    "insert_order": Shape(
        8, "INSERT INTO orders (id, user_id, status, total_cents, created_at) "
        "VALUES ('{uuid}', {uid}, 'pending', {cents}, {now})",
        1.1, lambda v: 0, lambda v: 0, 0.05,
    ),
    "insert_order_lines": Shape(
        8, "INSERT INTO order_lines (order_id, product_id, quantity, price_cents) VALUES {tuples}",
        1.2, lambda v: 0, lambda v: 0, 0.05,
    ),
    "update_order_status": Shape(
        6, "UPDATE orders SET status = '{status}', updated_at = {now} WHERE id = '{uuid}'",
        0.9, lambda v: 0, lambda v: 1, 0.08,
    ),
    "session_touch": Shape(
        30, "UPDATE sessions SET last_seen = {now} WHERE session_key = '{hex40}'",
        0.35, lambda v: 0, lambda v: 1, 0.02,
    ),
    "session_get": Shape(
        28, "SELECT session_data, expire_date FROM sessions WHERE session_key = '{hex40}' "
        "AND expire_date > '2026-11-24 10:00:00'",
        0.2, lambda v: 1, lambda v: 1,
    ),
    "inventory_get": Shape(
        20, "SELECT stock, reserved FROM inventory WHERE product_id = {pid} "
        "AND warehouse_id = {warehouse}",
        0.18, lambda v: 1, lambda v: 1,
    ),
    "inventory_decrement": Shape(
        6, "UPDATE inventory SET stock = stock - {qty} WHERE product_id = {pid} AND stock >= 1",
        0.7, lambda v: 0, lambda v: 1, 0.5,
    ),
    "search_products": Shape(
        12, "SELECT id, name FROM products WHERE name {like} '%{term}%' "
        "OR description {like} '%{term}%' LIMIT 50",
        35.0, lambda v: 50, lambda v: 90000,
    ),
    "category_products": Shape(
        10, "SELECT p.id, p.name FROM products p JOIN product_categories pc "
        "ON pc.product_id = p.id WHERE pc.category_id = {category} ORDER BY p.rank LIMIT 24",
        3.0, lambda v: 24, lambda v: 600, 0.02,
    ),
    "reviews_of_product": Shape(
        8, "SELECT r.rating, r.body, r.created_at FROM reviews r WHERE r.product_id = {pid} "
        "ORDER BY r.created_at DESC LIMIT 30",
        1.5, lambda v: min(_n(v), 30), _n,
    ),
    "wishlist": Shape(
        6, "SELECT product_id FROM wishlist_items WHERE user_id = {uid}", 0.3, _n, lambda v: 15,
    ),
    "addresses": Shape(
        5, "SELECT * FROM addresses WHERE user_id = {uid} AND is_default = true",
        0.2, lambda v: 1, lambda v: 2,
    ),
    "coupon": Shape(
        4, "SELECT id, percent_off, valid_until FROM coupons "
        "WHERE code = '{coupon}' AND active = 1",
        0.2, lambda v: 1, lambda v: 1,
    ),
    "shipping_zone": Shape(
        3, "SELECT rate_cents FROM shipping_rates WHERE country = '{country}' "
        "AND weight_g <= {weight}",
        0.3, lambda v: 1, lambda v: 12,
    ),
    "begin": Shape(30, "{begin}", 0.01, lambda v: 0, lambda v: 0, 0.0),
    "commit": Shape(30, "COMMIT", 0.4, lambda v: 0, lambda v: 0, 0.0),
    "rollback": Shape(1, "ROLLBACK", 0.1, lambda v: 0, lambda v: 0, 0.0),
    "report_sales": Shape(4, REPORT_SQL, 900.0, lambda v: 340, lambda v: 2400000, 0.2),
    # The planted heavy query: no index on customer_email, a full scan for a handful of rows.
    "heavy_email_scan": Shape(
        2, "SELECT * FROM orders WHERE customer_email = '{email}' ORDER BY created_at DESC",
        1400.0, lambda v: _n(v) % 6, lambda v: 1850000,
    ),
    "user_login": Shape(
        3, "SELECT id, password_hash, locked_until FROM users "
        "WHERE lower(email) = lower('{email}')",
        6.0, lambda v: 1, lambda v: 200000,
    ),
    "audit_insert": Shape(
        2, "INSERT INTO audit_log (actor_id, action, payload, created_at) VALUES ({uid}, "
        "'order.update', '{{\"order\": \"{uuid}\", \"field\": \"status\"}}', {now})",
        0.9, lambda v: 0, lambda v: 0, 0.03,
    ),
    "feature_flags": Shape(
        2, "SELECT name, enabled, rollout_pct FROM {q}feature_flags{q} "
        "WHERE {q}environment{q} = 'production'",
        0.25, lambda v: 18, lambda v: 40,
    ),
    "stats_count": Shape(
        1.5, "SELECT count(*) FROM orders WHERE status = 'pending'",
        180.0, lambda v: 1, lambda v: 2400000,
    ),
    "name_with_quote": Shape(
        1, "SELECT id FROM customers WHERE last_name = '{last_name}' AND country = 'IE'",
        4.0, _n, lambda v: 5000,
    ),
    "settings_get": Shape(
        1, "SELECT key, value FROM site_settings", 0.2, lambda v: 35, lambda v: 35,
    ),
    "tag_cloud": Shape(
        1, "SELECT t.name, count(*) AS n FROM tags t JOIN product_tags pt ON pt.tag_id = t.id "
        "GROUP BY t.name ORDER BY n DESC LIMIT 100",
        45.0, lambda v: 100, lambda v: 350000,
    ),
    "bulk_price_update": Shape(
        0.5, "UPDATE products\n   SET price_cents = round(price_cents * 0.9)\n"
        " WHERE category_id = {category}\n   AND on_sale = true",
        120.0, lambda v: 0, lambda v: 4000, 8.0,
    ),
}  # fmt: skip
# The planted N+1: one request looks up authors one by one, as a lazy ORM relation does.
N_PLUS_ONE_WEIGHT = 0.6
N_PLUS_ONE_SQL = "SELECT id, name, bio FROM authors WHERE id = {author}"


class Values(dict[str, object]):
    """Template values drawn on first use, so a shape pays only for the values it shows."""

    def __init__(self, rng: random.Random, dialect: str) -> None:
        super().__init__()
        self.rng = rng
        self.dialect = dialect

    def __missing__(self, name: str) -> object:
        rng = self.rng
        mysql = self.dialect == "mysql"
        value: object
        if name == "uid":
            value = _id(rng)
        elif name in ("pid", "author"):
            value = _id(rng, 90000 if name == "pid" else 5000)
        elif name == "uuid":
            value = _uuid(rng)
        elif name == "hex40":
            value = _hex(rng, 40)
        elif name == "n":
            value = rng.randint(1, 40)
        elif name == "in_list":
            value = ", ".join(str(_id(rng)) for _ in range(_n(self)))
        elif name == "tuples":
            value = ", ".join(
                f"('{self['uuid']}', {_id(rng, 90000)}, {rng.randint(1, 3)}, "
                f"{rng.randint(200, 20000)})"
                for _ in range(rng.randint(1, 6))
            )
        elif name == "per":
            value = rng.choice((20, 50, 100))
        elif name == "offset":
            value = rng.randint(0, 49) * int(str(self["per"]))
        elif name == "category":
            value = rng.randint(1, 40)
        elif name == "qty":
            value = rng.randint(1, 4)
        elif name == "warehouse":
            value = rng.randint(1, 6)
        elif name == "cents":
            value = rng.randint(500, 90000)
        elif name == "status":
            value = rng.choice(("paid", "shipped", "cancelled"))
        elif name == "term":
            value = rng.choice(("shoe", "dress", "lamp", "cable", "coffee"))
        elif name == "email":
            value = f"user{rng.randint(1, 500000)}@example.com"
        elif name == "coupon":
            value = rng.choice(("WELCOME10", "BLACKFRIDAY", "FREESHIP", "VIP2026"))
        elif name == "country":
            value = rng.choice(("DE", "FR", "JP", "US"))
        elif name == "weight":
            value = rng.randint(100, 9000)
        elif name == "day":
            value = f"{rng.randint(1, 28):02d}"
        elif name == "last_name":
            # MySQL clients escape a quote with a backslash, PostgreSQL ones double it.
            value = rng.choice(NAMES).replace("'", "\\'" if mysql else "''")
        elif name == "now":
            value = "NOW()" if mysql else "now()"
        elif name == "like":
            value = "LIKE" if mysql else "ILIKE"
        elif name == "q":
            value = "`" if mysql else '"'
        elif name == "begin":
            value = "START TRANSACTION" if mysql else "BEGIN"
        else:
            raise KeyError(name)
        self[name] = value
        return value


@dataclass
class Statement:
    """One statement with the metrics a slow log reports."""

    sql: str
    duration_ms: float
    rows_sent: int
    rows_examined: int
    lock_ms: float


def _id(rng: random.Random, top: int = 200000) -> int:
    # A hot set (popular products, active users) and a long tail.
    return rng.randint(1, 200) if rng.random() < 0.3 else rng.randint(1, top)


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _render(rng: random.Random, shape: Shape, dialect: str) -> Statement:
    values = Values(rng, dialect)
    sql = shape.sql.format_map(values)
    duration = _lognormal(rng, shape.median_ms, 0.6)
    lock = _lognormal(rng, shape.lock_ms, 0.3) if shape.lock_ms else 0.0
    if rng.random() < 0.0005:  # a lock wait or a cold cache now and then
        duration *= rng.uniform(50, 400)
        lock += duration * 0.8
    return Statement(sql, duration, shape.rows_sent(values), shape.rows_examined(values), lock)


def _sqlcommenter(rng: random.Random) -> str:
    controller, action, route = rng.choice(CONTROLLERS)
    trace = f"00-{_hex(rng, 32)}-{_hex(rng, 16)}-01"
    return (
        f"/*action='{action}',controller='{controller}',framework='{rng.choice(FRAMEWORKS)}',"
        f"route='{quote(route, safe='')}',traceparent='{trace}'*/"
    )


def _maybe_comment(rng: random.Random, sql: str) -> str:
    r = rng.random()
    if sql in ("BEGIN", "COMMIT", "ROLLBACK", "START TRANSACTION"):
        return sql
    if r < 0.25:
        return f"{sql} {_sqlcommenter(rng)}"
    if r < 0.30:
        controller, action, _ = rng.choice(CONTROLLERS)
        return f"{sql} /*application:Shop,controller:{controller},action:{action}*/"
    return sql


def _statements(rng: random.Random, dialect: str) -> Iterator[Statement]:
    """An endless stream of statements, with N+1 bursts expanded in place."""
    names = _weighted([(s.weight, name) for name, s in SHAPES.items()] + [(N_PLUS_ONE_WEIGHT, "")])
    while True:
        name = str(_pick(rng, names))
        if not name:
            comment = " " + _sqlcommenter(rng) if rng.random() < 0.5 else ""
            for _ in range(rng.randint(15, 45)):
                sql = N_PLUS_ONE_SQL.format(author=_id(rng, 5000)) + comment
                yield Statement(sql, _lognormal(rng, 0.4, 0.3), 1, 1, 0.01)
            continue
        statement = _render(rng, SHAPES[name], dialect)
        statement.sql = _maybe_comment(rng, statement.sql)
        yield statement


# --------------------------------------------------------------------------- MySQL slow log

MYSQL_HEADER = (
    "/usr/sbin/mysqld, Version: 8.0.36 (MySQL Community Server - GPL). started with:\n"
    "Tcp port: 3306  Unix socket: /var/run/mysqld/mysqld.sock\n"
    "Time                 Id Command    Argument\n"
)


def mysql_entries(seed: int) -> Iterator[str]:
    """An endless MySQL 8.0 slow log (``long_query_time = 0``), one entry per statement."""
    rng = random.Random(seed)
    threads = list(range(1000, 1200))
    # Every 7th connection comes over the local socket: MySQL prints "localhost []" for it
    # and " [ip]" (no host name) for a TCP client when name resolution is off.
    hosts = {t: "localhost []" if t % 7 == 0 else f" [{_private_ip(rng)}]" for t in threads}
    users = {t: ("app" if t % 11 else "reporting") for t in threads}
    current_db: dict[int, str] = {}
    now = START
    yield MYSQL_HEADER
    thread = threads[0]
    for statement in _statements(rng, "mysql"):
        # Statements of one request run on one connection: stay on the thread most of the time.
        if rng.random() < 0.3:
            thread = rng.choice(threads)
        # Entries are written when statements end: ``now`` is that time, in file order.
        now += rng.expovariate(1.0 / 0.04)
        db = "shop" if users[thread] == "app" else rng.choice(("shop", "analytics"))
        user = users[thread]
        lines = [
            f"# Time: {datetime.fromtimestamp(now, UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}\n",
            f"# User@Host: {user}[{user}] @ {hosts[thread]}  Id: {thread:5d}\n",
            f"# Query_time: {statement.duration_ms / 1000:.6f}  "
            f"Lock_time: {statement.lock_ms / 1000:.6f} Rows_sent: {statement.rows_sent}  "
            f"Rows_examined: {statement.rows_examined}\n",
        ]
        if current_db.get(thread) != db:  # MySQL writes `use` only when the db changed
            current_db[thread] = db
            lines.append(f"use {db};\n")
        # SET timestamp is the statement's start (the session's query start time).
        lines.append(f"SET timestamp={int(now - statement.duration_ms / 1000)};\n")
        if rng.random() < 0.0005:  # log_slow_admin_statements: a client quitting
            lines.append("# administrator command: Quit;\n")
        else:
            lines.append(statement.sql + ";\n")
        yield "".join(lines)


def _private_ip(rng: random.Random) -> str:
    return f"10.0.{rng.randint(1, 8)}.{rng.randint(2, 250)}"


# --------------------------------------------------------------------------- PostgreSQL log


def _pg_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3] + " UTC"


def _pg_tabbed(text: str) -> str:
    # PostgreSQL writes a message's newlines as newline + tab on stderr.
    return text.replace("\n", "\n\t")


def _pg_params(sql: str) -> tuple[str, list[str]]:
    """Replace the literals of ``sql`` by $1, $2 … (as an ORM with bind parameters would).

    A trailing ``/* … */`` tag comment is kept as it is: drivers send it inside the SQL text.
    """
    comment = ""
    if sql.endswith("*/") and " /*" in sql:
        sql, comment = sql[: sql.rindex(" /*")], sql[sql.rindex(" /*") :]
    out: list[str] = []
    params: list[str] = []
    i = 0
    while i < len(sql):
        ch = sql[i]
        if ch == "'":
            j = i + 1
            while j < len(sql):
                if sql[j] == "'" and j + 1 < len(sql) and sql[j + 1] == "'":
                    j += 2
                    continue
                if sql[j] == "'":
                    break
                j += 1
            params.append(sql[i : j + 1])
            out.append(f"${len(params)}")
            i = j + 1
        elif ch.isdigit() and (i == 0 or not (sql[i - 1].isalnum() or sql[i - 1] in "_$")):
            j = i
            while j < len(sql) and sql[j].isdigit():
                j += 1
            params.append(f"'{sql[i:j]}'")
            out.append(f"${len(params)}")
            i = j
        else:
            out.append(ch)
            i += 1
    return "".join(out) + comment, params


# message, DETAIL (or None), the failed statement; {names} filled per error.
PG_ERRORS = [
    (
        'ERROR:  duplicate key value violates unique constraint "users_email_key"',
        "DETAIL:  Key (email)=(user{n}@example.com) already exists.",
        "INSERT INTO users (email, name, created_at) "
        "VALUES ('user{n}@example.com', 'New user', now())",
    ),
    (
        "ERROR:  canceling statement due to statement timeout",
        None,
        "SELECT * FROM orders WHERE customer_email = 'user{n}@example.com' "
        "ORDER BY created_at DESC",
    ),
    (
        "ERROR:  deadlock detected",
        "DETAIL:  Process {p1} waits for ShareLock on transaction {x1}; blocked by process {p2}.\n"
        "Process {p2} waits for ShareLock on transaction {x2}; blocked by process {p1}.\n"
        "Process {p1}: UPDATE inventory SET stock = stock - 1 WHERE product_id = {n}\n"
        "Process {p2}: UPDATE inventory SET stock = stock - 1 WHERE product_id = {m}",
        "UPDATE inventory SET stock = stock - 1 WHERE product_id = {n}",
    ),
    (
        'ERROR:  syntax error at or near "FROM" at character 18',
        None,
        "SELECT id, name, FROM products WHERE id = {n}",
    ),
    (
        'ERROR:  relation "product_tag" does not exist at character 15',
        None,
        "SELECT * FROM product_tag WHERE product_id = {n}",
    ),
]
CHECKPOINTER_PID = 27


class PgSessions:
    """The backends of a PostgreSQL server: which pid runs as which user@database."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.who: dict[int, str] = {}
        self.pids: list[int] = []

    def connect(self, now: float) -> str:
        """Start a backend; return its connection log lines."""
        rng = self.rng
        pid = rng.randint(2000, 4_000_000)
        while pid in self.who:
            pid += 1
        user = "app" if rng.random() < 0.9 else "reporting"
        self.who[pid] = f"{user}@shop"
        self.pids.append(pid)
        t = _pg_time(now)
        return (
            f"{t} [{pid}] [unknown]@[unknown] LOG:  connection received: "
            f"host={_private_ip(rng)} port={rng.randint(30000, 60000)}\n"
            f"{t} [{pid}] {user}@shop LOG:  connection authorized: user={user} database=shop "
            "SSL enabled (protocol=TLSv1.3, cipher=TLS_AES_256_GCM_SHA384, bits=256)\n"
        )

    def disconnect(self, pid: int, now: float) -> str:
        """End a backend; return its disconnection log line."""
        rng = self.rng
        user = self.who[pid].split("@")[0]
        self.pids.remove(pid)
        del self.who[pid]
        session = f"0:{rng.randint(10, 59)}:{rng.randint(10, 59)}.{rng.randint(100, 999)}"
        return (
            f"{_pg_time(now)} [{pid}] {user}@shop LOG:  disconnection: session time: {session} "
            f"user={user} database=shop host={_private_ip(rng)} port={rng.randint(30000, 60000)}\n"
        )


def _pg_checkpoint(rng: random.Random, now: float) -> str:
    buffers = rng.randint(200, 9000)
    write = rng.uniform(1, 269)
    return (
        f"{_pg_time(now)} [{CHECKPOINTER_PID}] LOG:  checkpoint starting: time\n"
        f"{_pg_time(now + write)} [{CHECKPOINTER_PID}] LOG:  checkpoint complete: "
        f"wrote {buffers} buffers ({buffers / 16384 * 100:.1f}%); 0 WAL file(s) added, "
        f"0 removed, {rng.randint(0, 3)} recycled; write={write:.3f} s, sync=0.012 s, "
        f"total={write + 0.02:.3f} s; sync files={rng.randint(5, 80)}, longest=0.004 s, "
        f"average=0.001 s; distance={rng.randint(1000, 90000)} kB, "
        f"estimate={rng.randint(1000, 90000)} kB; lsn=0/{rng.getrandbits(28):X}, "
        f"redo lsn=0/{rng.getrandbits(28):X}\n"
    )


def _pg_autovacuum(rng: random.Random, now: float) -> str:
    return (
        f"{_pg_time(now)} [{rng.randint(100, 1900)}] LOG:  automatic vacuum of table "
        '"shop.public.sessions": index scans: 1\n'
        "\tpages: 0 removed, 4312 remain, 1200 scanned (27.83% of total)\n"
        f"\ttuples: {rng.randint(100, 9000)} removed, 81234 remain, "
        "0 are dead but not yet removable\n"
        "\tavg read rate: 12.345 MB/s, avg write rate: 3.210 MB/s\n"
        "\tsystem usage: CPU: user: 0.05 s, system: 0.01 s, elapsed: 0.42 s\n"
    )


def _pg_error(rng: random.Random, prefix: str, pid: int, other: int) -> str:
    message, detail, sql = rng.choice(PG_ERRORS)
    values = {
        "n": rng.randint(1, 90000),
        "m": rng.randint(1, 90000),
        "p1": pid,
        "p2": other,
        "x1": rng.randint(10**6, 10**7),
        "x2": rng.randint(10**6, 10**7),
    }
    out = [prefix + message + "\n"]
    if detail:
        out.append(prefix + _pg_tabbed(detail.format(**values)) + "\n")
    if "deadlock" in message:
        out.append(prefix + "HINT:  See server log for query details.\n")
        out.append(prefix + 'CONTEXT:  while updating tuple (1234,5) in relation "inventory"\n')
    out.append(prefix + "STATEMENT:  " + _pg_tabbed(sql.format(**values)) + "\n")
    return "".join(out)


def _pg_statement(rng: random.Random, prefix: str, statement: Statement) -> str:
    duration = statement.duration_ms
    if rng.random() >= 0.15 or statement.sql in ("BEGIN", "COMMIT", "ROLLBACK"):
        return (
            f"{prefix}LOG:  duration: {duration:.3f} ms  statement: {_pg_tabbed(statement.sql)}\n"
        )
    # Extended query protocol (JDBC, psycopg 3, node-postgres with parameters): each phase
    # is logged with its own duration, bind and execute with their parameters.
    sql, params = _pg_params(statement.sql)
    text = _pg_tabbed(sql)
    detail = f"{prefix}DETAIL:  parameters: " + ", ".join(
        f"${i} = {v}" for i, v in enumerate(params, 1)
    )
    parts = [
        f"{prefix}LOG:  duration: {duration * 0.05:.3f} ms  parse <unnamed>: {text}\n",
        f"{prefix}LOG:  duration: {duration * 0.03:.3f} ms  bind <unnamed>: {text}\n",
    ]
    if params:
        parts.append(detail + "\n")
    parts.append(f"{prefix}LOG:  duration: {duration:.3f} ms  execute <unnamed>: {text}\n")
    if params:
        parts.append(detail + "\n")
    return "".join(parts)


def postgres_entries(seed: int) -> Iterator[str]:
    """An endless PostgreSQL 16 stderr log with ``%m [%p] %q%u@%d `` and all durations logged."""
    rng = random.Random(seed)
    sessions = PgSessions(rng)
    now = START
    next_checkpoint = START + 300
    for _ in range(40):
        yield sessions.connect(now)
    pid = sessions.pids[0]
    for statement in _statements(rng, "postgres"):
        now += rng.expovariate(1.0 / 0.04)
        if now >= next_checkpoint:
            next_checkpoint += 300
            yield _pg_checkpoint(rng, now)
        if rng.random() < 0.0004:
            yield _pg_autovacuum(rng, now)
        if rng.random() < 0.25:
            pid = rng.choice(sessions.pids)
        if rng.random() < 0.0005:  # the connection pool recycles a connection
            yield sessions.disconnect(pid, now)
            yield sessions.connect(now)
            pid = sessions.pids[-1]
        prefix = f"{_pg_time(now)} [{pid}] {sessions.who[pid]} "
        if rng.random() < 0.004:
            yield _pg_error(rng, prefix, pid, rng.choice(sessions.pids))
        else:
            yield _pg_statement(rng, prefix, statement)


# --------------------------------------------------------------------------- writers


def write_access(path: Path, lines: int, seed: int = 1) -> Written:
    """Write ``lines`` nginx access lines to ``path``."""
    return _write(path, "access", seed, access_entries(lines, seed), lambda b: False)


def write_mysql(path: Path, size_mb: float, seed: int = 2) -> Written:
    """Write a MySQL slow log of about ``size_mb`` MiB (whole entries) to ``path``."""
    limit = int(size_mb * MB)
    return _write(path, "mysql", seed, mysql_entries(seed), lambda b: b.bytes >= limit)


def write_postgres(path: Path, size_mb: float, seed: int = 3) -> Written:
    """Write a PostgreSQL stderr log of about ``size_mb`` MiB (whole entries) to ``path``."""
    limit = int(size_mb * MB)
    return _write(path, "postgres", seed, postgres_entries(seed), lambda b: b.bytes >= limit)


def _write(
    path: Path, kind: str, seed: int, entries: Iterator[str], is_full: Callable[[Batcher], bool]
) -> Written:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with tmp.open("wb", buffering=MB) as out:
        batch = Batcher(out)
        for entry in entries:
            batch.add(entry)
            # Size checks happen per batch: the target is approximate, the output exact.
            if not batch.parts and is_full(batch):
                break
        batch.flush()
    tmp.replace(path)
    return Written(kind, seed, batch.lines, batch.entries, batch.bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=("access", "mysql", "postgres"))
    parser.add_argument("out", type=Path)
    parser.add_argument("--lines", type=int, default=1_000_000, help="access log lines")
    parser.add_argument("--size-mb", type=float, default=300.0, help="database log size (MiB)")
    parser.add_argument("--seed", type=int, help="random seed (default: 1, 2, 3 per kind)")
    args = parser.parse_args(argv)
    if args.kind == "access":
        written = write_access(args.out, args.lines, args.seed if args.seed is not None else 1)
    elif args.kind == "mysql":
        written = write_mysql(args.out, args.size_mb, args.seed if args.seed is not None else 2)
    else:
        written = write_postgres(args.out, args.size_mb, args.seed if args.seed is not None else 3)
    print(json.dumps(asdict(written)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
