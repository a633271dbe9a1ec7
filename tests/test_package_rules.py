"""The package's layers, read from its own imports: what may import what.

Imports inside functions count (they form cycles at run time all the same);
imports under ``if TYPE_CHECKING:`` do not (they never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "neuralstyle"
LAYERS = ("core", "jobs", "cli", "web")
# What each layer must not import: the layers above it (core < jobs < faces), and one face the other.
FORBIDDEN = {"core": {"jobs", "cli", "web"}, "jobs": {"cli", "web"}, "web": {"cli"}, "cli": set()}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that module `name` imports, anywhere in its code."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()

    def visit(node):
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "neuralstyle":
                    found.add(_nearest(alias.name, known))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] == "neuralstyle":
                for alias in node.names:
                    submodule = f"{target}.{alias.name}"
                    found.add(submodule if submodule in known else _nearest(target, known))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(), str(path)))
    found.discard(name)
    return found


def _nearest(target: str, known: set[str]) -> str:
    while target not in known and "." in target:
        target = target.rpartition(".")[0]
    return target


def graph() -> dict[str, set[str]]:
    found = modules()
    return {name: imported(name, path, set(found)) for name, path in found.items()}


def layer(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in LAYERS else None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def connect(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for other in sorted(edges.get(node, ())):
            if other not in index:
                connect(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    return found


def test_no_module_of_the_package_imports_itself_back_through_others():
    assert cycles(graph()) == []


def test_each_layer_imports_only_the_layers_below_it():
    wrong = [f"{name} imports {target}" for name, targets in graph().items() for target in sorted(targets)
             if layer(name) and layer(target) in FORBIDDEN[layer(name)]]
    assert wrong == []


def test_the_top_of_the_package_holds_at_most_four_loose_modules():
    loose = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(loose) <= 4, loose


def test_every_folder_of_the_package_is_a_regular_package_that_a_wheel_carries():
    folders = [path for path in PACKAGE.rglob("*") if path.is_dir() and any(path.glob("*.py"))]
    assert [folder for folder in folders if not (folder / "__init__.py").exists()] == []


def test_the_rules_catch_a_cycle_and_a_layer_import_up():
    edges = {"neuralstyle.core.a": {"neuralstyle.jobs.b"}, "neuralstyle.jobs.b": {"neuralstyle.core.a"}}
    assert cycles(edges) == [["neuralstyle.core.a", "neuralstyle.jobs.b"]]
    assert "jobs" in FORBIDDEN[layer("neuralstyle.core.a")]


def test_imports_inside_functions_count_and_type_checking_imports_do_not(tmp_path):
    source = tmp_path / "mod.py"
    source.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..jobs import spec\n"
                      "def f():\n    from ..web import app\n")
    known = {"neuralstyle.jobs.spec", "neuralstyle.web.app", "neuralstyle.core.mod"}
    assert imported("neuralstyle.core.mod", source, known) == {"neuralstyle.web.app"}


def test_importing_neuralstyle_and_its_command_line_loads_no_tensorflow():
    code = ("import sys, neuralstyle, neuralstyle.cli, neuralstyle.jobs.pipeline, neuralstyle.core.memory; "
            "print(sorted(name for name in ('tensorflow', 'keras', 'torch', 'jax') if name in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_importing_the_command_line_loads_no_scipy_or_scikit_image():
    """A run's arguments are checked before anything heavy loads: SciPy (the optimiser, region guides) and
    scikit-image (colour control) are imported by the runs that use them."""
    code = ("import sys, neuralstyle.cli.main; "
            "print(sorted({name.split('.')[0] for name in sys.modules} & {'scipy', 'skimage'}))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_packages_hidden_from_the_background_import_of_keras_import_normally_after_it():
    """The CLI imports Keras in the background with packages no run uses hidden from it (a faster start);
    once it is loaded, those that are installed import as usual (OpenCV for a clip's flow, for one)."""
    code = ("import importlib, importlib.util, sys; from neuralstyle.jobs import preload; preload.start(); "
            "preload.load(); print('keras' in sys.modules, all(sys.modules.get(name, 0) is not None for name in "
            "preload.HIDDEN_WHILE_IMPORTING), all(importlib.import_module(name) is not None for name in "
            "preload.HIDDEN_WHILE_IMPORTING if importlib.util.find_spec(name)))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["True", "True", "True"]
