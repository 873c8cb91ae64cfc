"""Map ONNX Runtime's (optimized) node names back to the torch module paths they came from.

Rule: the legacy exporter names a node ``/<scope>/<scope>/.../<Op>``, where each scope is the
module's path relative to its owner (``features.1`` then ``conv`` then ``conv.0``, for the
module ``features.1.conv.0``); the module path is rebuilt from that. ONNX Runtime renames
what it fuses or re-lays out after the tensor the new node produces (``<tensor>_nchwc``); such
names are traced to the original node producing that tensor and, when ORT's op type differs
(a Conv fused with its Clip is named after the Clip's output), up the data input to the node of
the matching type. Nodes with no scope (``ReorderOutput``, ``Identity_70``) belong to the root,
"" — the same convention as ``model.named_modules()``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# ORT's fused op names -> the original op whose node it replaces.
_FUSED_OP = {"FusedConv": "Conv", "FusedGemm": "Gemm", "FusedMatMul": "MatMul", "NhwcConv": "Conv"}
# Suffixes ORT's transformers append to the tensor name when naming a new node.
_ORT_SUFFIXES = ("_nchwc", "_nhwc")
# How far up the data input a fused node's original op may sit (Conv -> BN -> act -> Add).
_MAX_FUSION_DEPTH = 4


def module_path_from_scopes(scopes: Iterable[str]) -> str:
    """``["features", "features.1", "conv", "conv.0"]`` -> ``"features.1.conv.0"``.

    A scope that extends the previous one (``conv`` -> ``conv.0``) is relative to the same owner;
    any other scope is an attribute of the module the previous scope named.
    """
    full = ""
    owner = ""
    prev: str | None = None
    for scope in scopes:
        if prev is None or not scope.startswith(prev + "."):
            owner = full
        full = f"{owner}.{scope}" if owner else scope
        prev = scope
    return full


def module_path_of_node(node_name: str) -> str:
    """The module path an exported node's name encodes; "" (root) for unscoped names."""
    if not node_name.startswith("/"):
        return ""
    parts = node_name.split("/")[1:]
    return module_path_from_scopes(parts[:-1])


@dataclass
class _Node:
    name: str
    op_type: str
    inputs: list[str]


class NodeMapper:
    """Resolves ORT profile node names against the graph that was given to ORT.

    ``known_modules``: when the torch model is at hand, its module paths; a rebuilt path that is
    not among them is shortened to its nearest known ancestor.
    """

    def __init__(self, graph: Any, known_modules: Iterable[str] | None = None) -> None:
        self._nodes = {n.name: _Node(n.name, n.op_type, list(n.input)) for n in graph.node if n.name}
        self._producer = {out: self._nodes[n.name] for n in graph.node if n.name for out in n.output}
        self._known = set(known_modules) if known_modules is not None else None

    def original_node(self, ort_name: str, op_type: str | None = None) -> str | None:
        """The name of the exported node ``ort_name`` stands for, or None if it is ORT's own."""
        node = self._nodes.get(ort_name)
        if node is None:
            tensor = ort_name
            stripped = True
            while stripped:
                stripped = False
                for suffix in _ORT_SUFFIXES:
                    if tensor.endswith(suffix):
                        tensor, stripped = tensor[: -len(suffix)], True
            node = self._producer.get(tensor) or self._nodes.get(tensor)
        if node is None:
            return None
        wanted = _FUSED_OP.get(op_type or "", op_type)
        if wanted and node.op_type != wanted:
            cursor = node
            for _ in range(_MAX_FUSION_DEPTH):
                cursor = self._producer.get(cursor.inputs[0]) if cursor.inputs else None
                if cursor is None:
                    break
                if cursor.op_type == wanted:
                    node = cursor
                    break
        return node.name

    def module_path(self, ort_name: str, op_type: str | None = None) -> str:
        """The torch module path for an ORT profile node ("" when it cannot be placed)."""
        original = self.original_node(ort_name, op_type)
        if original is None:
            return ""
        path = module_path_of_node(original)
        if self._known is not None:
            while path and path not in self._known:
                path = path.rpartition(".")[0]
        return path
