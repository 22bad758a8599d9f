"""Request plans for the planted shop, and the client that sends them to a real server.

A plan is data: every request knows the route logtriage should give it and the status the
planted app (or the server, for static files) answers, so tests compare the report with what
was sent, not with numbers copied from a previous run.
"""

from __future__ import annotations

import http.client
import json
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .planted_app import outcome

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
)
APP_AGENT = "ShopApp/4.2.1 (Android 14; Pixel 8)"
SCANNER_AGENT = "Mozilla/5.0 zgrab/0.x"
# Static files the web server answers itself (never proxied): path -> route.
STATIC = {
    "/static/app.css": "GET /static/{file}.css",
    "/static/app.js": "GET /static/{file}.js",
    "/static/logo.png": "GET /static/{file}.png",
    "/favicon.ico": "GET /{file}.ico",
}
PROBES = (
    "/.env",
    "/wp-login.php",
    "/xmlrpc.php",
    "/.git/config",
    "/phpmyadmin/index.php",
    "/admin/config.php",
    "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
    "/cgi-bin/luci",
    "/actuator/env",
    "/.aws/credentials",
    "/server-status",
    "/boaform/admin/formLogin",
)
_ADJECTIVES = ("blue", "red", "green", "black", "white", "silver", "light", "trail")
_NOUNS = ("runner", "jacket", "backpack", "bottle", "tent", "lamp", "sock", "boot")
SLUGS = tuple(f"{a}-{n}" for a in _ADJECTIVES for n in _NOUNS)  # 64 distinct
WORDS = ("shoes", "tent", "rain jacket", "lamp", "socks", "gift", "sale", "boots")


@dataclass(frozen=True)
class PlannedRequest:
    """One request to send, and what the report should make of it."""

    method: str
    target: str
    route: str
    status: int
    client: str
    user_agent: str
    referrer: str | None = None


def planned(
    method: str, target: str, client: str, agent: str, referrer: str | None = None
) -> PlannedRequest:
    """A request with its expected route and status, from the static map or the app's rules."""
    path = target.split("?", 1)[0]
    if method == "GET" and path in STATIC:
        return PlannedRequest(method, target, STATIC[path], 200, client, agent, referrer)
    result = outcome(method, target)
    route = result.route or f"{method} {path}"
    return PlannedRequest(method, target, route, result.status, client, agent, referrer)


def e2e_plan(seed: int = 3) -> list[PlannedRequest]:
    """A small, exact plan: every planted route, a known number of times each."""
    rnd = random.Random(seed)
    agent = USER_AGENTS[0]
    reqs: list[PlannedRequest] = []

    def add(method: str, target: str, times: int = 1) -> None:
        for _ in range(times):
            client = f"203.0.113.{rnd.randrange(1, 40)}"
            reqs.append(planned(method, target, client, agent, "http://shop.test/"))

    add("GET", "/", 12)
    for i in range(24):
        add("GET", f"/search?q={WORDS[i % len(WORDS)].replace(' ', '+')}&page={i % 3 + 1}")
    for slug in SLUGS[:48]:  # more distinct values than the templating threshold (40)
        add("GET", f"/products/{slug}")
    add("GET", "/cart", 10)
    add("POST", "/login", 8)
    for i in range(30):
        add("GET", f"/api/orders/{10_000 + i * 37}")
    for order in range(1, 41):
        add("POST", f"/api/orders/{order}/pay")
    for _ in range(20):
        add("GET", f"/api/users/{uuid.UUID(int=rnd.getrandbits(128), version=4)}")
    for i in range(20):
        add("GET", f"/api/products/{100 + i}/reviews?page={i % 4 + 1}&sort=recent")
    for i in range(24):
        add("GET", f"/report/{500 + i}")
    for path, times in (("/static/app.css", 10), ("/static/app.js", 10)):
        add("GET", path, times)
    add("GET", "/static/logo.png", 6)
    add("GET", "/favicon.ico", 4)
    for probe in PROBES[:4]:
        add("GET", probe, 2)
    rnd.shuffle(reqs)
    return reqs


def example_plan(seed: int = 20261124, sessions: int = 360) -> list[PlannedRequest]:
    """A realistic mix: browsing sessions, a mobile app on the API, reports, and a scanner."""
    rnd = random.Random(seed)
    reqs: list[PlannedRequest] = []
    for s in range(sessions):
        client = f"198.51.100.{rnd.randrange(1, 255)}" if s % 3 else f"192.0.2.{s % 200 + 1}"
        if rnd.random() < 0.3:
            reqs.extend(_app_session(rnd, client))
        else:
            reqs.extend(_browser_session(rnd, client))
        if rnd.random() < 0.12:
            # An analyst opens a few reports (the planted slow route).
            for _ in range(rnd.randrange(1, 4)):
                target = f"/report/{rnd.randrange(1, 400)}"
                reqs.append(planned("GET", target, client, USER_AGENTS[0], "https://shop.test/"))
    for scanner in ("203.0.113.66", "203.0.113.201"):
        for probe in rnd.sample(PROBES, k=len(PROBES)):
            reqs.append(planned("GET", probe, scanner, SCANNER_AGENT))
    # Interleave sessions as concurrent traffic does, keeping each session's own order roughly.
    keyed = [(i + rnd.gauss(0, 40), r) for i, r in enumerate(reqs)]
    return [r for _, r in sorted(keyed, key=lambda kr: kr[0])]


def _browser_session(rnd: random.Random, client: str) -> list[PlannedRequest]:
    agent = rnd.choice(USER_AGENTS)
    site = "https://shop.test"
    out = [planned("GET", "/", client, agent, rnd.choice((None, "https://www.google.com/")))]
    out += [planned("GET", p, client, agent, f"{site}/") for p in STATIC if p != "/favicon.ico"]
    if rnd.random() < 0.5:
        out.append(planned("GET", "/favicon.ico", client, agent, f"{site}/"))
    page = f"{site}/"
    for _ in range(rnd.randrange(1, 6)):
        if rnd.random() < 0.4:
            q = rnd.choice(WORDS).replace(" ", "+")
            target = f"/search?q={q}" + (
                f"&page={rnd.randrange(2, 5)}" if rnd.random() < 0.3 else ""
            )
        else:
            target = f"/products/{rnd.choice(SLUGS)}"
        out.append(planned("GET", target, client, agent, page))
        page = site + target
    if rnd.random() < 0.4:
        out.append(planned("GET", "/cart", client, agent, page))
        out.append(planned("POST", "/login", client, agent, f"{site}/cart"))
        order = rnd.randrange(1, 5000)
        out.append(planned("POST", f"/api/orders/{order}/pay", client, agent, f"{site}/cart"))
    return out


def _app_session(rnd: random.Random, client: str) -> list[PlannedRequest]:
    user = uuid.UUID(int=rnd.getrandbits(128), version=4)
    out = [planned("GET", f"/api/users/{user}", client, APP_AGENT)]
    for _ in range(rnd.randrange(1, 5)):
        out.append(planned("GET", f"/api/orders/{rnd.randrange(1, 90_000)}", client, APP_AGENT))
    if rnd.random() < 0.6:
        product = rnd.randrange(1, 3000)
        target = f"/api/products/{product}/reviews?page={rnd.randrange(1, 6)}&sort=recent"
        out.append(planned("GET", target, client, APP_AGENT))
    if rnd.random() < 0.35:
        order = rnd.randrange(1, 5000)
        out.append(planned("POST", f"/api/orders/{order}/pay", client, APP_AGENT))
    return out


def send_one(port: int, req: PlannedRequest) -> int:
    """Send one request to 127.0.0.1:``port`` as the client it plans; return the status."""
    headers = {
        "Host": "shop.test",
        "User-Agent": req.user_agent,
        "X-Forwarded-For": req.client,
        "Connection": "close",
    }
    if req.referrer:
        headers["Referer"] = req.referrer
    body = None
    if req.method == "POST":
        body = json.dumps({"target": req.target}).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(req.method, req.target, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return int(response.status)
    finally:
        conn.close()


def send_plan(port: int, plan: Sequence[PlannedRequest], concurrency: int = 8) -> list[int]:
    """Send every planned request (``concurrency`` at a time); the statuses, in plan order."""
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(lambda r: send_one(port, r), plan))


def expected_routes(plan: Sequence[PlannedRequest]) -> Counter[str]:
    """Requests per route, as the report's route table should count them."""
    return Counter(r.route for r in plan)
