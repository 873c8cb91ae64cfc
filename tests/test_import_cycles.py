"""effprof's modules import each other without a cycle (DESIGN.md: lower layers never import higher ones).

Walks every module's *module-level* imports with ``ast`` (imports inside functions run later and
cannot deadlock an import; ``if TYPE_CHECKING:`` blocks never run) and fails on any cycle, naming it.
"""

import ast
from pathlib import Path

import effprof

ROOT = Path(effprof.__file__).parent


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def _top_level(tree: ast.Module):
    """Statements that run on import: the module body and its if/try blocks, but not TYPE_CHECKING ones."""
    stack = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.If, ast.Try)):
            stack.extend([*node.body, *node.orelse, *getattr(node, "finalbody", []),
                          *(h for handler in getattr(node, "handlers", []) for h in handler.body)])  # fmt: skip
            continue
        yield node


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    found = set()
    for node in _top_level(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
            # ``from pkg import sub`` imports the submodule (its package is already being imported);
            # ``from mod import name`` imports mod
            subs = {f"{base}.{a.name}" for a in node.names} & known
            found |= subs if len(subs) == len(node.names) else subs | {base}
    return {m for m in found if m in known and m != name}


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return cycles


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b"}, "b": set()}) == []


def test_relative_and_submodule_imports_are_resolved(tmp_path):
    pkg = tmp_path / "effprof" / "sub"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("from . import mod\nfrom .mod import x\n")
    known = {"effprof.sub", "effprof.sub.mod"}
    assert imports_of("effprof.sub", pkg / "__init__.py", known) == {"effprof.sub.mod"}
    (pkg / "mod.py").write_text("from effprof.sub import x\n")  # a name of the package: an edge to it
    assert imports_of("effprof.sub.mod", pkg / "mod.py", known) == {"effprof.sub"}


def test_no_module_level_import_cycle():
    found = modules()
    graph = {name: imports_of(name, path, set(found)) for name, path in found.items()}
    assert sum(len(v) for v in graph.values()) > 100  # the walk sees effprof's real imports
    assert "effprof.results" in graph["effprof.api"]  # the API builds the result types ...
    assert not any(m.startswith(("effprof.api", "effprof.cli")) for m in graph["effprof.results"])  # ... below it
    assert find_cycles(graph) == []
