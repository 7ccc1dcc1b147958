"""Threads released together, with proof that they overlapped."""
from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable


def run_concurrently(count: int, work: Callable[[int], Any]) -> tuple[list[Any], int]:
    """Run ``work`` in ``count`` threads released together by a barrier.
    Returns the results and the most requests that were in flight at once,
    which proves the threads really overlapped."""
    barrier = threading.Barrier(count)
    lock = threading.Lock()
    in_flight, peak = 0, 0

    def one(n: int) -> Any:
        nonlocal in_flight, peak
        barrier.wait()
        with lock:
            in_flight += 1
            peak = max(peak, in_flight)
        try:
            return work(n)
        finally:
            with lock:
                in_flight -= 1

    with ThreadPoolExecutor(count) as pool:
        results = list(pool.map(one, range(count)))
    return results, peak
