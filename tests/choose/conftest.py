"""Shared fixtures of the pareto/search tests."""

import pytest

from effprof.choose import run


@pytest.fixture
def ctrl_c_at_second_timing(monkeypatch):
    """The second model timed by pareto raises KeyboardInterrupt, as Ctrl-C would; the first is timed for real."""
    calls = {"n": 0}
    real = run.time_profile

    def flaky(profile, timing):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(profile, timing)

    monkeypatch.setattr(run, "time_profile", flaky)
