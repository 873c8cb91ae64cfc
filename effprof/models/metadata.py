"""What ``effprof list`` shows, without torch: every registered model's metadata, and its params.

Counting rule for ``params``: every parameter of the model built as registered (no weights, default
keywords), each shared parameter once. They come from ``registry_params.PARAMS``, written by
``python -m effprof.models.metadata --write`` from models built on the meta device; a model missing
there (or ``compute_params=True``) is built on the meta device when asked, which imports torch.
The rest is the registry's own data: name, family, source, default resolution, the paper's figures.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from effprof.models.registry import ModelCfg, list_models
from effprof.models.registry_params import PARAMS


def compute_params(name: str) -> int:
    """Parameters of registry model ``name`` built on the meta device (imports torch)."""
    from effprof.models.build import build_model

    return sum(p.numel() for p in build_model(name, device="meta").module.parameters())


def model_params(name: str, *, compute: bool = False) -> int:
    """Parameters of a registry model: from the shipped table, or computed on meta when asked or missing."""
    if not compute and name in PARAMS:
        return PARAMS[name]
    return compute_params(name)


def model_row(cfg: ModelCfg, *, params: bool = True, compute_params: bool = False) -> dict[str, Any]:
    """One model's metadata row (the columns of ``effprof list -o``); ``params`` False leaves them out."""
    paper = cfg.paper
    row: dict[str, Any] = {"model": cfg.name, "family": cfg.family, "source": cfg.source, "resolution": cfg.resolution}
    if params:
        row["params"] = model_params(cfg.name, compute=compute_params)
    row.update({
        "paper_params": paper.params if paper else None, "paper_macs": paper.macs if paper else None,
        "paper_resolution": paper.resolution if paper else None, "reference": paper.citation if paper else None,
        "note": paper.note if paper else None, "description": cfg.description,
    })  # fmt: skip
    return row


def model_rows(pattern: str | None = None, *, params: bool = True, compute_params: bool = False) -> list[dict[str, Any]]:
    """Metadata rows of every registered model matching ``pattern`` (shell wildcard), registry order."""
    return [model_row(cfg, params=params, compute_params=compute_params) for cfg in list_models(pattern)]


def write_params_table(path: Path | None = None) -> Path:
    """Recompute every registry model's params on the meta device and write ``registry_params.py``."""
    path = path or Path(__file__).with_name("registry_params.py")
    lines = [f"    {cfg.name!r}: {compute_params(cfg.name)}," for cfg in list_models()]
    path.write_text(
        '"""Params of every registry model built as registered (no weights), computed on the meta device.\n\n'
        'Written by ``python -m effprof.models.metadata --write``; tests/models/test_metadata.py checks it.\n"""\n\n'
        "PARAMS: dict[str, int] = {\n" + "\n".join(lines) + "\n}\n"
    )
    return path


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        print(f"wrote {write_params_table()}")
    else:
        print("usage: python -m effprof.models.metadata --write")
