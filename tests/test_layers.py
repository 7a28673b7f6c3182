"""The package's layers: imports (module-level and inside functions) only go down the data-flow order, no cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "voicebox"

# Lowest first: a module may import from its own layer and the ones before it, never from a later one.
LAYERS = (
    "core",
    "models",
    "audio_io",
    "hear",
    "understand",
    "skill",  # the public skill API (voicebox/skill.py): what act runs, built on core's storage and understand's slots
    "act",
    "speak",
    "turn",
    "engines",
    "daemon",
    "remote",
    "measure",
    "cli",
    "testing",  # the public test helper for skill authors
    "__main__",
)
TOP_LEVEL_MODULES = {"skill", "testing"}


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        mods[name] = path
    return mods


def _imports(name: str, path: Path, mods: dict[str, Path]) -> set[str]:
    """Every voicebox module NAME imports, at module level or inside functions."""
    found: set[str] = set()
    is_pkg = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = name.split(".") if is_pkg else name.split(".")[:-1]
                parts = parts[: len(parts) - node.level + 1]
                base = ".".join(parts + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        found.update(t for t in targets if t in mods and t != name)
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    if len(parts) == 1:  # voicebox/__init__.py: the version only
        return -1
    return LAYERS.index(parts[1])


def _graph() -> dict[str, set[str]]:
    mods = _modules()
    return {name: _imports(name, path, mods) for name, path in mods.items()}


def test_every_module_belongs_to_a_layer() -> None:
    unknown = sorted(m for m in _modules() if len(m.split(".")) > 1 and m.split(".")[1] not in LAYERS)
    assert not unknown, f"modules outside the layer list (add their package to LAYERS in the right place): {unknown}"


def test_imports_only_go_down_the_layers() -> None:
    wrong = [f"{src} ({LAYERS[_layer(src)]}) imports {dst} ({LAYERS[_layer(dst)]})"
             for src, targets in _graph().items() for dst in sorted(targets)
             if _layer(dst) > _layer(src)]
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_no_import_cycles() -> None:
    graph = _graph()
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
    assert not cycles, f"import cycles: {cycles}"


def test_the_top_level_stays_small_and_modules_stay_short() -> None:
    top = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert top <= TOP_LEVEL_MODULES, f"new top-level modules belong in a layer package: {sorted(top - TOP_LEVEL_MODULES)}"
    long = {str(p.relative_to(PACKAGE)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    assert not long, f"modules over 400 lines (split them by responsibility): {long}"


@pytest.mark.parametrize("layer", ["core"])
def test_core_imports_no_other_layer(layer: str) -> None:
    wrong = [f"{src} imports {dst}" for src, targets in _graph().items() if src.startswith(f"voicebox.{layer}")
             for dst in targets if not dst.startswith(f"voicebox.{layer}")]
    assert not wrong, wrong
