"""Running independent LLM work side by side: a pool that keeps results in order and stops cleanly,
and a concurrency limit that backs off when the provider says it is overloaded.

Threads, not processes: the work is waiting on HTTP. The pool's threads are daemons so an interrupted
run exits at once instead of waiting for replies it no longer wants.
"""

from __future__ import annotations

import queue
import threading
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class AdaptiveLimit:
    """At most `limit` requests in flight. A 429 halves the limit (never below 1); `limit` successes in
    a row raise it by one again, up to the configured maximum."""

    def __init__(self, maximum: int):
        self.maximum = max(1, int(maximum))
        self.limit = self.maximum
        self.in_flight = 0
        self.peak = 0  # the most requests ever in flight at once (reported, and checked by tests)
        self.throttled = 0  # 429 answers seen
        self._streak = 0
        self._cond = threading.Condition()

    def acquire(self) -> None:
        with self._cond:
            while self.in_flight >= self.limit:
                self._cond.wait()
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)

    def release(self, throttled: bool = False) -> None:
        with self._cond:
            self.in_flight -= 1
            if throttled:
                self.throttled += 1
                self.limit = max(1, self.limit // 2)
                self._streak = 0
            else:
                self._streak += 1
                if self._streak >= self.limit and self.limit < self.maximum:
                    self.limit += 1
                    self._streak = 0
            self._cond.notify_all()


def run_all(items: Iterable[T], work: Callable[[T], R], workers: int,
            on_done: Callable[[T, R], None] | None = None) -> list[R]:
    """`work(item)` for every item, up to `workers` at once; results in the items' order.

    `on_done` runs in the calling thread as each result arrives (so progress and saving need no locks).
    The first exception stops new work from starting; work already started finishes (its results are
    handed to `on_done`, so nothing paid for is lost), then the exception is raised.
    """
    items = list(items)
    results: dict[int, R] = {}
    if workers <= 1 or len(items) <= 1:
        for item in items:
            result = work(item)
            results[len(results)] = result
            if on_done:
                on_done(item, result)
        return [results[i] for i in range(len(items))]
    done: queue.Queue = queue.Queue()

    def one(i: int) -> None:
        try:
            done.put((i, work(items[i]), None))
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread, which raises it
            done.put((i, None, e))

    failure: BaseException | None = None
    started = running = 0
    while True:
        while failure is None and started < len(items) and running < workers:
            threading.Thread(target=one, args=(started,), daemon=True, name=f"llm-{started}").start()
            started += 1
            running += 1
        if not running:
            break
        i, result, error = done.get()
        running -= 1
        if error is not None:
            failure = failure or error
            continue
        results[i] = result
        if on_done:
            on_done(items[i], result)
    if failure is not None:
        raise failure
    return [results[i] for i in range(len(items))]
