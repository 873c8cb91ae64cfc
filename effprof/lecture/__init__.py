"""Lecture tools: sweeps with growth-exponent fits, the compound-scaling table, and derivations.

The closed-form formulas live in ``effprof.formulas.lecture`` and their checks against counts on
real modules in ``effprof.lecture.checks``; this package is what the ``sweep``, ``scale`` and
``explain`` commands call.
"""
