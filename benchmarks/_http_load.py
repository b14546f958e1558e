"""Closed-loop HTTP load (run in its own process): CONCURRENCY requests always in flight.

    python _http_load.py URL CONCURRENCY WARMUP_S SECONDS BODY.json OUT.json [HEADER_PREFIX]

Each of CONCURRENCY workers posts BODY to URL in a loop with aiohttp. Requests finished
during the warm-up are dropped; the rest are written as ``[[latency_ms, status,
x-model-version], ...]`` plus the measured wall time. With HEADER_PREFIX, worker i sends
``x-user-id: PREFIX<n>`` for n cycling over 1,000 users (sticky canary routing).
"""

import asyncio
import json
import time

import aiohttp
from _http import cli, post


async def main(url: str, concurrency: float, warmup: float, seconds: float, body: bytes, out: str, prefix: str | None) -> None:
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_stop = t_measure + seconds
    results: list[tuple[float, int, str | None]] = []
    concurrency = int(concurrency)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def worker(w: int) -> None:
            n = w
            while True:
                t0 = time.perf_counter()
                if t0 >= t_stop:
                    return
                status, version = await post(session, url, body, None if prefix is None else f"{prefix}{n % 1000}")
                t1 = time.perf_counter()
                if t0 >= t_measure and t1 <= t_stop:
                    results.append(((t1 - t0) * 1000.0, status, version))
                n += concurrency

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "results": results}, f)


if __name__ == "__main__":
    cli(main)
