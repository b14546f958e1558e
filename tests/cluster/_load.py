"""Load generator run in another process: steady requests, every status code recorded.

    python _load.py URL MODEL SECONDS RATE OUT.json [STOP_FILE]

It stops after SECONDS, or earlier once STOP_FILE exists (the test says when it has seen
what it waited for; a loaded machine may take longer than a fixed duration).
"""

import json
import os
import sys
import threading
import time

import requests


def main(url: str, model: str, seconds: float, rate: float, out: str, stop_file: str | None = None) -> None:
    results: list[tuple[float, int, str | None]] = []
    lock = threading.Lock()
    stop = time.time() + seconds

    def worker(offset: float) -> None:
        s = requests.Session()
        period = 2.0 / rate
        nxt = time.time() + offset
        while time.time() < stop and not (stop_file and os.path.exists(stop_file)):
            try:
                r = s.post(f"{url}/v1/models/{model}:predict", json={"instances": [{"a": 0.3, "b": -0.1}]}, timeout=10)
                rec = (time.time(), r.status_code, r.headers.get("x-model-version"))
            except requests.RequestException:
                rec = (time.time(), 0, None)
            with lock:
                results.append(rec)
            nxt += period
            time.sleep(max(0.0, nxt - time.time()))

    threads = [threading.Thread(target=worker, args=(i / rate,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with open(out, "w") as f:
        json.dump(results, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], *sys.argv[6:7])
