"""``effprof list``: the registry as rows (name, family, source, resolution, params, the paper's figures).

Rule: a model's params come from the registry's metadata when it has them (no model is built); else
the model is built on the meta device and its parameters counted. The command line only prints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from effprof.errors import EffprofError
from effprof.models import build_model, list_models
from effprof.reports.meta import run_meta
from effprof.results import ModelListResult


def registered_params(cfg: Any) -> int:
    """A registered model's parameter count: its metadata's, or counted on a meta-device build."""
    known = getattr(cfg, "params", None)
    if isinstance(known, int):
        return known
    return sum(p.numel() for p in build_model(cfg.name, device="meta").module.parameters())


def model_list(pattern: str | None = None, on_model: Callable[[str], None] | None = None) -> ModelListResult:
    """Every registered model matching ``pattern`` (shell wildcards), with its params and the paper's figures."""
    cfgs = list_models(pattern)
    if not cfgs:
        raise EffprofError(f"no registered model matches {pattern!r}; run `effprof list` to see them all")
    rows = []
    for cfg in cfgs:
        paper = cfg.paper
        rows.append({
            "model": cfg.name, "family": cfg.family, "source": cfg.source, "resolution": cfg.resolution,
            "params": registered_params(cfg), "paper_params": paper.params if paper else None,
            "paper_macs": paper.macs if paper else None, "paper_resolution": paper.resolution if paper else None,
            "reference": paper.citation if paper else None, "note": paper.note if paper else None,
        })  # fmt: skip
        if on_model is not None:
            on_model(cfg.name)
    return ModelListResult(rows, run_meta(command="list"))
