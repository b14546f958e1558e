"""Open-loop HTTP load (run in its own process): requests sent on a clock at a fixed rate.

    python _open_loop.py URL RATE WARMUP_S SECONDS BODY.json OUT.json [HEADER_PREFIX]

Request i is scheduled at ``start + i / RATE`` and sent then whether or not earlier ones
have answered (each in its own task, over a connection pool with no practical limit), for
WARMUP_S + SECONDS. A closed loop (N clients each waiting for its answer) slows its own
sending when the server slows, so it never sees the queue a stall builds up: coordinated
omission. Here a request's latency runs from its *scheduled* send time to its answer, so
time spent queued (in the server, in the client's pool, or behind a late generator) is
counted. After the last send the generator waits for every answer (at most 60 s each).

Written to OUT.json:

* ``results``: ``[latency_ms, status, x-model-version]`` of every request scheduled in the
  measured window (after WARMUP_S), answered or not (status 0 on a client-side error or
  timeout, with the time it took);
* ``completed_in_window``: 200 answers that *arrived* in the measured window, so
  ``completed_in_window / seconds`` is the throughput (at saturation, the capacity);
* ``offered``: requests scheduled in the window; ``lag_ms``: how late the generator
  itself sent them (p50, p99, max), to tell a late generator from a slow server.

With HEADER_PREFIX, request i sends ``x-user-id: PREFIX<i mod 1000>`` (sticky routing).
"""

import asyncio
import json
import time

import aiohttp
from _http import cli, post


async def main(url: str, rate: float, warmup: float, seconds: float, body: bytes, out: str, prefix: str | None) -> None:
    n_total = int(round(rate * (warmup + seconds)))
    results: list[tuple[float, int, str | None]] = []
    lags: list[float] = []
    completed_in_window = 0
    offered = 0
    connector = aiohttp.TCPConnector(limit=4096)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        start = time.perf_counter() + 0.2  # the first send, on the clock
        t_measure, t_stop = start + warmup, start + warmup + seconds

        async def one(i: int, scheduled: float) -> None:
            nonlocal completed_in_window
            status, version = await post(session, url, body, None if prefix is None else f"{prefix}{i % 1000}")
            done = time.perf_counter()
            if scheduled >= t_measure:
                results.append(((done - scheduled) * 1000.0, status, version))
            if status == 200 and t_measure <= done < t_stop:
                completed_in_window += 1

        tasks = []
        for i in range(n_total):
            scheduled = start + i / rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            if scheduled >= t_measure:
                offered += 1
                lags.append(max(0.0, time.perf_counter() - scheduled) * 1000.0)
            tasks.append(asyncio.create_task(one(i, scheduled)))
        await asyncio.gather(*tasks)
    lags.sort()
    lag = {
        "p50": lags[len(lags) // 2] if lags else None,
        "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))] if lags else None,
        "max": lags[-1] if lags else None,
    }
    with open(out, "w") as f:
        json.dump(
            {"rate": rate, "seconds": seconds, "offered": offered, "completed_in_window": completed_in_window, "lag_ms": lag, "results": results},
            f,
        )


if __name__ == "__main__":
    cli(main)
