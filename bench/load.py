"""A bounded closed-loop HTTP load: `python -m bench.load URL TOKEN SECONDS` prints JSON statistics."""

import http.client
import json
import statistics
import sys
import threading
import time
from urllib.parse import urlsplit

CONCURRENCY = 4


def main() -> None:
    url, token, seconds = sys.argv[1], sys.argv[2], min(float(sys.argv[3]), 30.0)
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def client() -> None:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        while time.monotonic() < deadline:
            start = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Authorization": f"Token {token}"})
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

    for _ in range(50):  # wait for gunicorn to listen
        try:
            http.client.HTTPConnection(parts.hostname, parts.port, timeout=1).connect()
            break
        except OSError:
            time.sleep(0.2)
    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
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
