"""What the two HTTP load generators (``_http_load.py``, ``_open_loop.py``) share: one
request, timed by the caller, and their command line."""

from __future__ import annotations

import asyncio
import sys

import aiohttp


async def post(session: aiohttp.ClientSession, url: str, body: bytes, user: str | None) -> tuple[int, str | None]:
    """POST ``body``; ``(status, x-model-version)``, status 0 on a client error or timeout."""
    headers = {"content-type": "application/json"}
    if user is not None:
        headers["x-user-id"] = user
    try:
        async with session.post(url, data=body, headers=headers) as r:
            await r.read()
            return r.status, r.headers.get("x-model-version")
    except (aiohttp.ClientError, asyncio.TimeoutError):
        return 0, None


def cli(main) -> None:
    """``main(URL, N, WARMUP_S, SECONDS, BODY, OUT, HEADER_PREFIX)`` from ``sys.argv``."""
    a = sys.argv
    with open(a[5], "rb") as f:
        body = f.read()
    asyncio.run(main(a[1], float(a[2]), float(a[3]), float(a[4]), body, a[6], a[7] if len(a) > 7 else None))
