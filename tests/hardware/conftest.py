"""Fixtures for the hardware tests: a private effprof cache per test, and tiny measurement sizes."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def hw_cache(tmp_path, monkeypatch):
    """Every test gets its own empty cache, so cached limits never leak between tests or into ~/.cache."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("EFFPROF_CACHE_DIR", str(cache))
    return cache / "hw"


@pytest.fixture
def tiny_defaults(monkeypatch):
    """Shrink the default sizes the CLI measures with, so a command runs in well under a second."""
    from effprof.hardware import calibrate, limits

    monkeypatch.setattr(limits, "CPU_GEMM_N", 64)
    monkeypatch.setattr(limits, "DEFAULT_BUDGET_S", 0.02)
    monkeypatch.setattr(limits, "default_working_set_bytes", lambda device: 1 << 20)
    monkeypatch.setattr(calibrate, "DEFAULT_BLOCK_BUDGET_S", 0.01)
