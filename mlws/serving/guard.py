"""What every request passes before a route runs: one Host header, naming this server (DNS
rebinding); when the server has a token, the request carries it (every path but /health); a POST
says it is JSON (a form or text/plain POST from another site's page needs no CORS preflight).

A plain ASGI middleware, so FastAPI's own routes (/docs, /openapi.json) are covered as well as ours.

The Gradio page under /demo/ loads its scripts, uploads and event stream without a header the page
could add, so there the token may come as a cookie instead: the token page POSTs the token once to
`session` and gets an HttpOnly, SameSite=Strict cookie holding an HMAC of it (never the token itself,
never in a URL), valid under /demo only. A POST under /demo must come from this server's own page
(its Origin names this Host): Gradio uploads are multipart, which another site could otherwise send.
Any request under /demo naming another Origin is refused too, GETs included: Gradio's own CORS
middleware would answer a page on another port of this host (same-site, so the cookie goes along)
with Access-Control-Allow-Origin and credentials, letting it read the page's config and examples.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from urllib.parse import urlsplit

from .inputs import authorized

OPEN_PATHS = ("/health",)  # a load balancer's probe; it tells nothing but the run id
DEMO = "/demo"  # the Gradio page's mount (mlws[demo])
SESSION_PATHS = ("/session", DEMO + "/session")  # POST with the bearer token: the demo page's cookie
COOKIE = "mlws-demo"
PAGES = ("/", DEMO, DEMO + "/")  # a browser opening these without the token gets the token page
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
# a POST under /demo: one 5 MB file (the page's max_file_size) and its form; Gradio itself takes up to
# 1000 files of 5 MB in one upload, all written to disk, and a queued event's JSON of any size
DEMO_MAX_BODY = 6_000_000

# What a browser gets at / without the token: a field for it, kept in sessionStorage (never the
# URL), then the demo page fetched with the token and written in place. No run data in it.
TOKEN_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>mlws · token</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem"><h1>This server needs its token</h1>
<form id="login"><input id="token" type="password" autocomplete="off" size="50" placeholder="bearer token">
<button id="enter" type="submit">Open</button></form><p id="error" style="color:#b00020"></p>
<script>(() => {
  async function open(token) {
    const headers = {authorization: 'Bearer ' + token};
    const s = await fetch(new URL('session', location.href), {method: 'POST', body: '{}',
      headers: {...headers, 'content-type': 'application/json'}});  // the cookie of the /demo/ page
    if (s.ok && location.pathname.startsWith('/demo')) { location.reload(); return; }
    const r = s.ok ? await fetch(location.pathname, {headers}) : s;
    if (!r.ok) { sessionStorage.removeItem('mlws-token'); document.getElementById('error').textContent = 'wrong token'; return; }
    const html = await r.text();
    document.open(); document.write(html); document.close();
  }
  document.getElementById('login').onsubmit = e => {
    e.preventDefault();
    const token = document.getElementById('token').value.trim();
    sessionStorage.setItem('mlws-token', token);
    open(token);
  };
  if (sessionStorage.getItem('mlws-token')) open(sessionStorage.getItem('mlws-token'));
})();</script></body></html>"""


def session_value(token: str) -> str:
    """The demo page's cookie: an HMAC of the token (a stolen cookie does not give the bearer token)."""
    return hmac.new(token.encode(), b"mlws demo page session", hashlib.sha256).hexdigest()


def cookie_of(header: str | None) -> str | None:
    for part in (header or "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE:
            return value
    return None


def same_origin(origin: str | None, host: str) -> bool:
    """The Origin header names the Host this request was sent to (a page of this server)."""
    if not origin:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


def under_demo(path: str) -> bool:
    return path == DEMO or path.startswith(DEMO + "/")


def allowed_hosts(host: str, port: int) -> set[str] | None:
    """Host header values this server answers; None: any (a wildcard bind, reached by any name)."""
    if host in ("0.0.0.0", "::", ""):
        return None
    bound = f"[{host}]" if ":" in host else host
    names = {bound, *LOOPBACK_NAMES}
    return {n.lower() for n in names} | {f"{n}:{port}".lower() for n in names}


def is_loopback(host: str) -> bool:
    """A loopback address or `localhost`; a name is not resolved (what it points to can change)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class Guard:
    def __init__(self, app, *, host: str, port: int, token: str | None):
        self.app, self.token, self.hosts = app, token, allowed_hosts(host, port)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            return await self._websocket(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers") or []]
        headers = dict(pairs)
        names = [k for k, _ in pairs]
        if names.count("host") > 1 or names.count("authorization") > 1:  # which one counts is ambiguous
            return await _answer(send, 400, {"error": "more than one Host or Authorization header"})
        host = headers.get("host", "")
        if self.hosts is not None and host.lower() not in self.hosts:
            return await _answer(send, 421, {"error": f"this server does not answer for host {host[:100]!r}"})
        path, method = scope["path"], scope["method"]
        bearer = authorized(headers.get("authorization"), self.token)
        if path in SESSION_PATHS and method == "POST" and bearer:
            return await _session(send, self.token)
        demo = under_demo(path)
        if path not in OPEN_PATHS and not bearer and not (demo and self._cookie_ok(headers.get("cookie"))):
            if path in PAGES and method == "GET":
                return await _answer(send, 401, TOKEN_PAGE, html=True)
            return await _answer(send, 401, {"error": "missing or wrong bearer token"})
        origin = headers.get("origin")
        cross = origin is not None and not same_origin(origin, host)
        if demo and (cross or (method not in ("GET", "HEAD", "OPTIONS") and not same_origin(origin, host))):
            # any request naming another origin (a page on another port of this host is same-site: the
            # cookie goes with it, and Gradio's CORS answers it with Allow-Origin and credentials);
            # a browser sends no Origin on the page's own GETs
            return await _answer(send, 403, {"error": "the demo page takes requests from its own pages only"})
        length = headers.get("content-length")
        if (
            demo
            and method not in ("GET", "HEAD", "OPTIONS")
            and (length is None or not length.isdigit() or int(length) > DEMO_MAX_BODY)
        ):
            # a browser's upload or event says its length; a chunked body could not be capped here
            return await _answer(
                send, 413, {"error": f"a demo page request has a Content-Length of at most {DEMO_MAX_BODY}"}
            )
        if method == "POST" and not demo and not headers.get("content-type", "").lower().startswith("application/json"):
            # a page elsewhere can POST text/plain without asking first (no CORS preflight); JSON cannot
            return await _answer(send, 415, {"error": "send the body as application/json"})
        return await self.app(scope, receive, send)

    async def _websocket(self, scope, receive, send):
        """A websocket (none of our routes, nor Gradio's, takes one today) passes the same checks, and
        its Origin must be this server's (a browser opens one to any site, cookie included)."""
        pairs = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope.get("headers") or []]
        headers, names = dict(pairs), [k for k, _ in pairs]
        host = headers.get("host", "")
        ok = (
            names.count("host") <= 1
            and names.count("authorization") <= 1
            and (self.hosts is None or host.lower() in self.hosts)
            and (
                authorized(headers.get("authorization"), self.token)
                or (under_demo(scope["path"]) and self._cookie_ok(headers.get("cookie")))
            )
            and (headers.get("origin") is None or same_origin(headers.get("origin"), host))
        )
        if not ok:
            return await send({"type": "websocket.close", "code": 1008})
        return await self.app(scope, receive, send)

    def _cookie_ok(self, header: str | None) -> bool:
        if not self.token:
            return True
        given = cookie_of(header)
        return given is not None and hmac.compare_digest(given.encode(), session_value(self.token).encode())


async def _session(send, token: str | None) -> None:
    """204, with the demo page's cookie when the server has a token (HttpOnly: no script reads it)."""
    headers = [(b"content-length", b"0")]
    if token:
        cookie = f"{COOKIE}={session_value(token)}; Path={DEMO}; HttpOnly; SameSite=Strict"
        headers.append((b"set-cookie", cookie.encode()))
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


async def _answer(send, status: int, body, html: bool = False) -> None:
    data = (body if html else json.dumps(body)).encode()
    kind = b"text/html; charset=utf-8" if html else b"application/json"
    headers = [(b"content-type", kind), (b"content-length", str(len(data)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b"Bearer"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
