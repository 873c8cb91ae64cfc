"""Fixtures for the latency tests: a tiny conv net and a private ONNX cache per test."""

from __future__ import annotations

import pytest
from latency_helpers import make_tiny
from torch import nn


@pytest.fixture
def tiny() -> nn.Module:
    return make_tiny()


@pytest.fixture(autouse=True)
def onnx_cache(tmp_path, monkeypatch):
    """Every test gets its own empty effprof cache, so exports never leak between tests."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("EFFPROF_CACHE_DIR", str(cache))
    return cache
