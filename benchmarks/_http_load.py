"""Closed-loop HTTP load (run in its own process): CONCURRENCY requests always in flight.

    python _http_load.py URL CONCURRENCY WARMUP_S SECONDS BODY.json OUT.json [HEADER_PREFIX]

Each of CONCURRENCY workers posts BODY to URL in a loop with aiohttp. Requests finished
during the warm-up are dropped; the rest are written as ``[[latency_ms, status,
x-model-version], ...]`` plus the measured wall time. With HEADER_PREFIX, worker i sends
``x-user-id: PREFIX<n>`` for n cycling over 1,000 users (sticky canary routing).
"""

import asyncio
import json
import sys
import time

import aiohttp


async def main(url: str, concurrency: int, warmup: float, seconds: float, body: bytes, out: str, prefix: str | None) -> None:
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_stop = t_measure + seconds
    results: list[tuple[float, int, str | None]] = []
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def worker(w: int) -> None:
            n = w
            while True:
                t0 = time.perf_counter()
                if t0 >= t_stop:
                    return
                headers = {"content-type": "application/json"}
                if prefix is not None:
                    headers["x-user-id"] = f"{prefix}{n % 1000}"
                try:
                    async with session.post(url, data=body, headers=headers) as r:
                        await r.read()
                        status, version = r.status, r.headers.get("x-model-version")
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    status, version = 0, None
                t1 = time.perf_counter()
                if t0 >= t_measure and t1 <= t_stop:
                    results.append(((t1 - t0) * 1000.0, status, version))
                n += concurrency

        await asyncio.gather(*(worker(w) for w in range(concurrency)))
    with open(out, "w") as f:
        json.dump({"seconds": seconds, "results": results}, f)


if __name__ == "__main__":
    a = sys.argv
    asyncio.run(main(a[1], int(a[2]), float(a[3]), float(a[4]), open(a[5], "rb").read(), a[6], a[7] if len(a) > 7 else None))
