"""Where the Gradio page (mlws[demo]) joins the server's FastAPI app, without importing Gradio.

Ray Serve freezes the ingress app when the deployment class is defined, on the machine that
deploys; the page is built later, in each replica, around that replica's model. So the frozen app
carries this small ASGI middleware, and a replica hands it the page it builds (`building`, then
`install` or `failed`): requests under /demo go to the page, the rest to the app's own routes. The
replica builds the page in a thread, so /predict answers meanwhile; a request for the page waits
for it (BUILD_WAIT_S at most). The page's startup (Gradio's queue) runs on the first request it
gets, on the replica's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from .guard import DEMO, under_demo

BUILD_WAIT_S = 120.0
# this process's page: {"pending": True} while it is built, then {"app": ASGI app, "stack": its
# lifespan once started} or {"error": why}
_PAGE: dict = {}


def building() -> None:
    _PAGE.clear()
    _PAGE["pending"] = True


def install(app) -> None:
    """This replica's page (an ASGI app that answers paths under /demo)."""
    _PAGE.clear()
    _PAGE["app"] = app


def failed(reason: str) -> None:
    _PAGE.clear()
    _PAGE["error"] = reason


def installed() -> bool:
    return "app" in _PAGE


async def _ready() -> str | None:
    """None once the page is there; else why not (its build failed, or is taking too long)."""
    waited = 0.0
    while _PAGE.get("pending") and waited < BUILD_WAIT_S:
        await asyncio.sleep(0.05)
        waited += 0.05
    return None if installed() else _PAGE.get("error") or "the demo page is still being built"


class DemoDispatch:
    def __init__(self, app):
        self.app = app
        self._lock: asyncio.Lock | None = None

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket") or not under_demo(scope["path"]) or not _PAGE:
            return await self.app(scope, receive, send)
        if scope["type"] == "http" and (why := await _ready()):
            return await _unavailable(send, why)
        if scope["path"] == DEMO:  # Gradio's page wants its trailing slash (relative asset paths)
            return await _redirect(send, DEMO + "/")
        await self._start()
        return await _PAGE["app"](scope, receive, send)

    async def _start(self) -> None:
        if "stack" in _PAGE:
            return
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if "stack" in _PAGE:
                return
            page = _PAGE["app"]
            stack = contextlib.AsyncExitStack()
            await stack.enter_async_context(page.router.lifespan_context(page))
            _PAGE["stack"] = stack


async def _unavailable(send, why: str) -> None:
    body = json.dumps({"error": f"the demo page is not available: {why}"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _redirect(send, location: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 307,
            "headers": [(b"location", location.encode()), (b"content-length", b"0")],
        }
    )
    await send({"type": "http.response.body", "body": b""})
