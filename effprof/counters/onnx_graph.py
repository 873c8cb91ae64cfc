"""Count an ONNX file: the same formulas as the analytic counter, applied to graph nodes.

Counting rule: fix the graph input to ``input_shape``, run ONNX shape inference, then give each node
the formula of its op type (Conv -> conv_macs, Gemm/MatMul -> matmul_macs, norms/activations/
elementwise/pooling -> other_ops). Params are the elements of the initializers (weights stored in
the file). A node whose op type has no formula is reported as unsupported, never a silent zero.
Layers are named by the torch module path recovered from the exporter's node names
(``/features/features.1/conv/conv.0/Conv`` -> ``features.1.conv.0``); unscoped nodes belong to the root "".
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from effprof.counters.result import CountResult, CountTable
from effprof.counters.vocabulary import IGNORED
from effprof.errors import EffprofError
from effprof.formulas import ops as f
from effprof.latency.onnx_scope import module_path_of_node

_ACTIVATIONS = {
    "Relu", "Clip", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh", "Gelu", "Elu", "Selu", "LeakyRelu",
    "PRelu", "Softplus", "Softsign", "Mish", "Softmax", "LogSoftmax", "Erf", "ThresholdedRelu", "Celu",
}  # fmt: skip
_ELEMENTWISE = {
    "Add", "Sub", "Mul", "Div", "Pow", "Sqrt", "Reciprocal", "Exp", "Log", "Neg", "Abs", "Where",
    "Max", "Min", "Equal", "Less", "Greater", "Not", "And", "Or", "Floor", "Ceil", "Round", "Sign",
}  # fmt: skip
_NORMS = {"BatchNormalization", "LayerNormalization", "GroupNormalization", "InstanceNormalization"}
_REDUCTIONS = {"GlobalAveragePool", "GlobalMaxPool", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin"}
_WINDOW_POOLS = {"MaxPool", "AveragePool", "LpPool"}
_DATA_MOVEMENT = {
    "Reshape", "Transpose", "Flatten", "Squeeze", "Unsqueeze", "Concat", "Split", "Slice", "Gather",
    "Shape", "Constant", "ConstantOfShape", "Identity", "Cast", "Expand", "Pad", "Tile", "Dropout",
    "Range", "ScatterND", "GatherElements", "Resize", "DepthToSpace", "SpaceToDepth",
}  # fmt: skip


def _shapes(model: Any) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for value in [*model.graph.value_info, *model.graph.input, *model.graph.output]:
        dims = value.type.tensor_type.shape.dim
        if all(d.HasField("dim_value") for d in dims):
            shapes[value.name] = tuple(int(d.dim_value) for d in dims)
    for init in model.graph.initializer:
        shapes[init.name] = tuple(int(d) for d in init.dims)
    return shapes


def _attr(node: Any, name: str, default: Any = None) -> Any:
    import onnx

    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _count_node(
    node: Any, shapes: dict[str, tuple[int, ...]], initializers: set[str]
) -> tuple[str, int, int, int] | None:
    """(op_class, macs, other_ops, activations) of one node, or None when no formula applies."""
    out = shapes.get(node.output[0]) if node.output else None
    ins = [shapes.get(name) for name in node.input]
    op = node.op_type
    if out is None:
        return None
    if op in ("Conv", "ConvTranspose", "Gemm", "MatMul", "Einsum", *_REDUCTIONS) and any(s is None for s in ins[:2]):
        return None  # these formulas read input shapes; elementwise ones need only the output
    if op == "Conv":
        x, w = ins[0], ins[1]
        groups = int(_attr(node, "group", 1))
        macs = f.conv_macs(out, x[1], w[2:], groups)
        return f.conv_op_class(x[1], w[0], w[2:], groups), macs, 0, f.numel(out)
    if op == "ConvTranspose":
        x, w = ins[0], ins[1]
        groups = int(_attr(node, "group", 1))
        macs = f.conv_transpose_macs(x, w[1] * groups, w[2:], groups)
        return ("conv_grouped" if groups > 1 else "conv_dense"), macs, 0, f.numel(out)
    if op == "Gemm":
        macs = f.gemm_macs(ins[0], ins[1], bool(_attr(node, "transA", 0)), bool(_attr(node, "transB", 0)))
        return "linear", macs, 0, f.numel(out)
    if op in ("MatMul", "Einsum"):
        a, b = ins[0], ins[1]
        is_weight = node.input[1] in initializers  # a stored weight: a linear layer, as in handles.py
        macs = f.matmul_macs(a, b) if op == "MatMul" else f.einsum_macs(_attr(node, "equation").decode(), ins)
        return ("linear" if is_weight else "attention"), macs, 0, f.numel(out)
    if op in _NORMS:
        return "norm", 0, f.norm_other_ops(out), 0
    if op in _ACTIVATIONS:
        return "activation", 0, f.elementwise_other_ops(out), 0
    if op in _ELEMENTWISE:
        return "elementwise", 0, f.elementwise_other_ops(out), 0
    if op in _REDUCTIONS:
        return "pool", 0, f.reduction_other_ops(ins[0]), 0
    if op in _WINDOW_POOLS:
        return "pool", 0, f.pool_other_ops(out, _attr(node, "kernel_shape", [1])), 0
    return None


def count_onnx(
    path: str | Path,
    input_shape: tuple[int, ...] | None = None,
    *,
    batch: int | None = None,
    resolution: int | tuple[int, int] | None = None,
) -> CountResult:
    """Count params and MACs of an ONNX file.

    The input shape is ``input_shape`` if given, else the file's own with ``batch`` replacing its
    first dim and ``resolution`` (one side, or (H, W)) its last two. Exporters fold BatchNorm into the preceding conv, so
    an exported CNN has fewer params than its torch module (the BN affine and statistics are gone).
    """
    import onnx

    path = Path(path)
    if not path.is_file():
        raise EffprofError(f"no ONNX file at {str(path)!r}")
    try:
        model = onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - corrupt or not ONNX
        raise EffprofError(f"cannot read {str(path)!r} as ONNX: {str(exc).splitlines()[0]}") from None
    initializers = {i.name for i in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in initializers]
    if len(inputs) != 1:
        raise EffprofError(f"{path.name}: effprof counts single-input models, this one has {len(inputs)} inputs")
    dims = inputs[0].type.tensor_type.shape.dim
    if input_shape is None:
        declared: list[int | None] = [int(d.dim_value) if d.HasField("dim_value") else None for d in dims]
        if batch is not None and declared:
            declared[0] = batch
        if resolution is not None and len(declared) >= 3:
            declared[-2:] = [resolution, resolution] if isinstance(resolution, int) else list(resolution)  # (H, W)
        if any(d is None for d in declared):
            raise EffprofError(f"{path.name} has a dynamic input shape {declared}: give -r/--resolution and -b/--batch")
        input_shape = tuple(int(d) for d in declared)  # type: ignore[arg-type]
    if len(dims) != len(input_shape):
        raise EffprofError(f"{path.name} takes a {len(dims)}-d input, got shape {tuple(input_shape)}")
    for d, size in zip(dims, input_shape, strict=True):
        d.ClearField("dim_param")
        d.dim_value = int(size)
    for value in model.graph.output:  # let inference recompute outputs for the new input shape
        value.type.tensor_type.ClearField("shape")
    try:
        model = onnx.shape_inference.infer_shapes(model, strict_mode=True, data_prop=True)
    except Exception as exc:  # noqa: BLE001 - the graph rejects this shape
        raise EffprofError(f"{path.name} rejects input shape {tuple(input_shape)}: {str(exc).splitlines()[0]}") from None
    shapes = _shapes(model)

    table = CountTable()
    unsupported: Counter[tuple[str, str]] = Counter()
    ignored: Counter[str] = Counter()
    own_params: dict[str, int] = defaultdict(int)
    seen_rows: set[tuple[str, str]] = set()
    for node in model.graph.node:
        layer = module_path_of_node(node.name)
        counted = _count_node(node, shapes, initializers)
        if counted is None:
            if node.op_type in _DATA_MOVEMENT:
                ignored[node.op_type] += 1
            else:
                unsupported[(layer, node.op_type)] += 1
            continue
        op_class, macs, other, acts = counted
        moved = f.tensor_bytes([shapes[n] for n in [*node.input, *node.output] if n in shapes])
        table.add(layer, node.op_type, op_class, macs=macs, other_ops=other, activations=acts, bytes=moved,
                  calls=1, output_shape=shapes.get(node.output[0], ()))  # fmt: skip
        if (layer, op_class) not in seen_rows:  # a layer row's params: its first node's initializers
            seen_rows.add((layer, op_class))
            own_params[layer] += sum(f.numel(shapes[n]) for n in node.input if n in initializers)
    params = sum(f.numel(i.dims) for i in model.graph.initializer)
    return CountResult(
        counter="onnx",
        input_shape=tuple(input_shape),
        table=table.rows(),
        params=params,
        trainable_params=params,
        weight_bytes=params * 4,
        module_params=dict(own_params),
        uncounted=dict(unsupported),
        ignored={op: (n, IGNORED.get(op.lower(), "data movement or shape op: no arithmetic")) for op, n in ignored.items()},
    )
