"""Pure, shape-only formulas: ``ops`` (one per op), ``calls`` (registered per op name, the torch
``register_formula`` pattern), ``lecture`` (closed forms built from them). A leaf: imports nothing
else of effprof. Importing the package registers every op formula (``calls``), as timm's package
imports its model files."""

from effprof.formulas import calls  # noqa: F401  (registers the op formulas)
from effprof.formulas.registry import (
    OP_FORMULAS,
    Part,
    TensorShape,
    WeightShape,
    op_formula,
    register_formula,
)

__all__ = ["OP_FORMULAS", "Part", "TensorShape", "WeightShape", "op_formula", "register_formula"]
