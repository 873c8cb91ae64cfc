"""Compatibility names: the row and column code now lives in effprof.results (below api.py and reports/).

Kept so code written against ``effprof.reports.frame`` (effprof.hardware.roofline's caller, notebooks)
keeps working; new code imports from effprof.results.
"""

from __future__ import annotations

from effprof.results import (  # noqa: F401
    INTEGER_COLUMNS,
    LAYER_COLUMNS,
    MODEL_COLUMNS,
    layer_latency_ms,
    layer_rows,
    model_row,
    model_rows,
    shape_str,
    to_frame,
)
