"""Choose a model for this device: published accuracy vs measured latency.

Public API::

    pareto(models=None, *, all_models=False, family=None, backend="eager", target_ms=None, w=-0.07, ...)
        -> ParetoResult            # every candidate measured; front, MnasNet reward, device vs phone
    search(family, *, target_ms, backend="eager", quick=False, shortlist=5, margin=0.5, ...)
        -> SearchResult            # grid screened by the calibrated predictor, shortlist measured
    lookup(spec, resolution_px) -> Lookup      # published accuracy (and Pixel 1 latency) with its source
    catalogue() -> list[Candidate]             # every configuration with a published accuracy

Modules, lower first: published (typed tables), accuracy (lookup), pareto (pure front/reward/rank
statistics), render and plot (output), result (rows, to_pandas), run (pareto), grid_search (search).
"""

from effprof.choose.accuracy import Accuracy, Candidate, Lookup, catalogue, lookup
from effprof.choose.grid_search import GRIDS, search
from effprof.choose.result import ParetoResult, SearchResult
from effprof.choose.run import pareto

__all__ = [
    "GRIDS",
    "Accuracy",
    "Candidate",
    "Lookup",
    "ParetoResult",
    "SearchResult",
    "catalogue",
    "lookup",
    "pareto",
    "search",
]
