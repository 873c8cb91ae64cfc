"""``effprof list``: the registry as rows (name, family, source, resolution, params, the paper's figures).

Rule: a model's params come from the shipped table of effprof.models.metadata (no model is built, no
torch imported); a model missing there is built on the meta device and counted. The CLI only prints.
"""

from __future__ import annotations

from collections.abc import Callable

from effprof.errors import EffprofError
from effprof.models.metadata import model_rows
from effprof.reports.meta import run_meta
from effprof.results import ModelListResult

#: the columns of ``effprof list`` (the registry's description stays in the metadata)
LIST_COLUMNS = ("model", "family", "source", "resolution", "params", "paper_params", "paper_macs",
                "paper_resolution", "reference", "note")  # fmt: skip


def model_list(pattern: str | None = None, on_model: Callable[[str], None] | None = None) -> ModelListResult:
    """Every registered model matching ``pattern`` (shell wildcards), with its params and the paper's figures."""
    rows = [{k: row[k] for k in LIST_COLUMNS} for row in model_rows(pattern)]
    if not rows:
        raise EffprofError(f"no registered model matches {pattern!r}; run `effprof list` to see them all")
    if on_model is not None:
        for row in rows:
            on_model(row["model"])
    return ModelListResult(rows, run_meta(command="list"))
