"""A request body read as it arrives: the byte cap applies while reading (a chunked body has no
Content-Length to check first), and the whole body must arrive within a deadline (a client that
sends a few bytes and waits holds a replica's slot only that long)."""

from __future__ import annotations

import asyncio

from .inputs import BadRequest


async def read_body(request, max_bytes: int, deadline_s: float) -> bytes:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > max_bytes):
        raise BadRequest(413, f"body over {max_bytes} bytes")  # refused before a byte is read

    async def chunks() -> bytes:
        from starlette.requests import ClientDisconnect

        parts, size = [], 0
        try:
            async for part in request.stream():
                size += len(part)
                if size > max_bytes:
                    raise BadRequest(413, f"body over {max_bytes} bytes")
                parts.append(part)
        except ClientDisconnect:
            raise BadRequest(400, "the client went away before its body arrived") from None
        return b"".join(parts)

    try:
        return await asyncio.wait_for(chunks(), deadline_s)
    except TimeoutError:
        raise BadRequest(408, f"the body did not arrive within {deadline_s:g} s") from None


class Admission:
    """At most `limit` predictions in progress (reading, queued for a batch, computing) per replica;
    more get 503 at once. The replica's slots above the limit stay free for /health and /info."""

    def __init__(self, limit: int):
        self.limit, self.busy = limit, 0

    def __enter__(self):
        if self.busy >= self.limit:
            raise BadRequest(503, f"busy: {self.limit} predictions in progress; retry shortly")
        self.busy += 1
        return self

    def __exit__(self, *exc):
        self.busy -= 1
