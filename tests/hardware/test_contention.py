"""Contention checks: our own work is not counted as others', retries keep the least contended attempt."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from effprof.hardware import contention
from effprof.hardware.contention import Watch, least_contended, watch


def test_our_own_busy_loop_is_not_someone_elses():
    with watch() as w:
        total = 0
        for i in range(3_000_000):
            total += i
    assert w.wall_s > 0
    if w.others_cores is not None:  # Linux: /proc/stat is there
        assert w.others_cores >= 0.0


def test_a_short_interval_is_not_judged():
    with watch() as w:
        pass
    assert w.others_cores is None and not w.contended and w.warning() is None


@pytest.fixture
def scripted(monkeypatch):
    """watch() reports the given cores-used-by-others, one per attempt; no real waiting."""

    def script(*others):
        values = iter(others)

        @contextmanager
        def fake_watch():
            w = Watch()
            yield w
            w.others_cores, w.wall_s = next(values), 1.0

        monkeypatch.setattr(contention, "watch", fake_watch)
        monkeypatch.setattr(contention, "wait_for_quiet", lambda *a, **k: True)

    return script


def test_retries_until_quiet(scripted):
    scripted(1.0, 0.9, 0.0)
    calls = []
    value, w = least_contended(lambda: calls.append(1) or len(calls))
    assert value == 3 and not w.contended


def test_keeps_the_least_contended_attempt_when_none_is_quiet(scripted):
    scripted(1.0, 0.5, 0.8)
    calls = []
    value, w = least_contended(lambda: calls.append(1) or len(calls), attempts=3)
    assert value == 2 and w.others_cores == 0.5 and w.contended
    assert "0.5 cores" in w.warning()


def test_a_quiet_first_attempt_is_kept(scripted):
    scripted(0.1)
    assert least_contended(lambda: "ok")[0] == "ok"
