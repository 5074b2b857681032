"""ace.utils.once: computed on the first call only, thread-safe, resettable."""

import threading

from ace.utils.once import once


def test_once_returns_the_first_result():
    calls = []

    @once
    def get_counter():
        calls.append(1)
        return len(calls)

    assert [get_counter(), get_counter(), get_counter()] == [1, 1, 1]
    assert len(calls) == 1
    get_counter.reset()
    assert get_counter() == 2


def test_once_caches_none_and_keeps_the_name():
    calls = []

    @once
    def nothing():
        """Docstring kept."""
        calls.append(1)

    assert nothing() is None and nothing() is None
    assert calls == [1]
    assert (nothing.__name__, nothing.__doc__) == ("nothing", "Docstring kept.")


def test_concurrent_first_calls_compute_once():
    calls = []
    gate = threading.Barrier(8)

    @once
    def slow():
        calls.append(1)
        return object()

    results = []

    def worker():
        gate.wait()
        results.append(slow())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(calls) == 1
    assert len({id(result) for result in results}) == 1


def test_an_exception_is_not_cached():
    attempts = []

    @once
    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first call fails")
        return "ok"

    try:
        flaky()
    except RuntimeError:
        pass
    assert flaky() == "ok"
