"""A bounded closed-loop HTTP load: `python -m bench.load URL TOKEN SECONDS` prints JSON statistics."""

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

CONCURRENCY = 4
WARM_UP_REQUESTS = 3


def _wait_until_answering(host: str, port: int, path: str, headers: dict, timeout: float = 60.0) -> None:
    """Until the server answers the URL with 200 (gunicorn listens before its workers have loaded the app)."""
    give_up = time.monotonic() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection(host, port, timeout=10)
            conn.request("GET", path, headers=headers)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        if time.monotonic() > give_up:
            raise SystemExit(f"the server did not answer {path} with 200 within {timeout:.0f} s")
        time.sleep(0.2)


def main() -> None:
    url, token, seconds = sys.argv[1], sys.argv[2], min(float(sys.argv[3]), 30.0)
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    headers = {"Authorization": f"Token {token}"}
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    clock: dict[str, float] = {}

    def start_clock() -> None:  # run once all clients have warmed up, before any is let go
        clock["started"] = time.monotonic()
        clock["deadline"] = clock["started"] + seconds

    ready = threading.Barrier(CONCURRENCY + 1, action=start_clock)

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        for _ in range(WARM_UP_REQUESTS):  # not measured: connections, the workers' first requests
            conn.request("GET", path, headers=headers)
            conn.getresponse().read()
        ready.wait()
        while time.monotonic() < clock["deadline"]:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors[0] += 1

    _wait_until_answering(parts.hostname, parts.port, path, headers)
    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    ready.wait()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - clock["started"]
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "concurrency": CONCURRENCY,
                "requests": len(latencies),
                "errors": errors[0],
                "rps": len(latencies) / elapsed if elapsed else 0.0,
                "p50_ms": quantiles[49] * 1000,
                "p95_ms": quantiles[94] * 1000,
            }
        )
    )


if __name__ == "__main__":
    main()
