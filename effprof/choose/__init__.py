"""Choose a model for this device: published accuracy vs measured latency.

Public API::

    pareto(models=None, *, all_models=False, family=None, backend="eager", target_ms=None, w=-0.07, ...)
        -> ParetoResult            # every candidate measured; front, MnasNet reward, device vs phone
    search(family, *, target_ms, backend="eager", quick=False, shortlist=5, margin=0.5, ...)
        -> SearchResult            # grid screened by the calibrated predictor, shortlist measured
    lookup(spec, resolution_px) -> Lookup      # published accuracy (and Pixel 1 latency) with its source
    catalogue() -> list[Candidate]             # every configuration with a published accuracy

Modules, lower first: published (typed tables), accuracy (lookup), ranking (pure front/reward/rank
statistics), result (the Result types: rows, to_pandas, figures), render (their rich tables, registered
with effprof.results.renders), run (pareto), grid_search (search). Their figures are drawn by
effprof.reports.plots.choose.

The names above are loaded on first use (PEP 562): ``effprof.choose.result`` (what the command line
asks for its ``-o`` suffixes) must not pay for the API, torch or pandas. No module here is named like
an export: importing a submodule sets the package attribute of its name (a ``pareto.py`` would hide
the ``pareto`` function once anything imported it).
"""

from typing import Any

#: public name -> the module that defines it, imported on first use
_EXPORTS = {
    "GRIDS": "grid_search", "search": "grid_search", "pareto": "run",
    "Accuracy": "accuracy", "Candidate": "accuracy", "Lookup": "accuracy", "catalogue": "accuracy", "lookup": "accuracy",
    "ParetoResult": "result", "SearchResult": "result",
}  # fmt: skip

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        import importlib

        return getattr(importlib.import_module(f"effprof.choose.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'effprof.choose' has no attribute {name!r}")
