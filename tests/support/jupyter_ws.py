"""Run code in a kernel of a real Jupyter server, over its REST API and kernel websocket (the
messaging protocol JupyterLab itself speaks), and collect what the code printed."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import websocket


def request(url: str, token: str | None, path: str, method: str = "GET", body: dict | None = None):
    """(status, parsed body) of a REST call; 4xx/5xx are returned, not raised; (None, None): no server."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    req = urllib.request.Request(url + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except urllib.error.URLError:
        return None, None  # nothing listens (the server stopped)


def start_kernel(url: str, token: str) -> str:
    status, kernel = request(url, token, "/api/kernels", "POST", {"name": "python3"})
    assert status == 201, status
    return kernel["id"]


def execute(url: str, token: str, kernel_id: str, code: str, timeout: float = 120, displays: bool = False) -> str:
    """Execute `code`, return its stdout (and with `displays`, the plain text of what it displayed,
    also displays updated in place); raise with the traceback if it failed."""
    ws_url = url.replace("http://", "ws://") + f"/api/kernels/{kernel_id}/channels?token={token}"
    conn = websocket.create_connection(ws_url, timeout=timeout)
    msg_id, session = uuid.uuid4().hex, uuid.uuid4().hex
    conn.send(
        json.dumps(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "session": session,
                    "username": "test",
                    "version": "5.3",
                    "date": "",
                },
                "parent_header": {},
                "metadata": {},
                "channel": "shell",
                "buffers": [],
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
            }
        )
    )
    out, error, deadline = [], None, time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            msg = json.loads(conn.recv())
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = msg["header"]["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif displays and kind in ("display_data", "update_display_data"):
                out.append(content["data"].get("text/plain", ""))
            elif kind == "error":
                error = "\n".join(content.get("traceback", [])) or content.get("evalue")
            elif kind == "status" and content.get("execution_state") == "idle":
                break
        else:
            raise AssertionError(f"code did not finish within {timeout} s")
    finally:
        conn.close()
    if error:
        raise AssertionError(f"the kernel raised:\n{error}")
    return "".join(out)
