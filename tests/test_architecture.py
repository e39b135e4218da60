"""Structural guarantees: the math modules reach arrays only through the array namespace."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "xpnet"
MATH_MODULES = ["activations", "losses", "network", "parameters", "training", "evaluation",
                "validation", "optimizers", "schedules", "history", "training_step", "kernels"]


def numpy_uses(source: str) -> list[str]:
    """Every import of numpy and every ``np.``/``numpy.`` attribute in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [f"import {a.name}" for a in node.names if a.name.split(".")[0] == "numpy"]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "numpy":
            found.append(f"from {node.module} import ...")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id in ("np", "numpy"):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("module", MATH_MODULES)
def test_math_module_makes_no_direct_numpy_calls(module):
    assert numpy_uses((PACKAGE / f"{module}.py").read_text()) == []


def test_the_numpy_check_catches_a_direct_call():
    assert numpy_uses("import numpy as np\ndef f(Z):\n    return np.exp(Z)\n") == \
        ["import numpy", "np.exp"]
    assert numpy_uses("from numpy import exp\n") == ["from numpy import ..."]


def package_modules() -> set[str]:
    """Dotted names below ``xpnet`` of its modules, subpackages included (``datasets.idx``)."""
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py")}


def test_every_module_of_the_package_is_classified():
    # A new module must be added to MATH_MODULES, or here as an edge module that may use NumPy.
    # Every module inside an edge package (datasets/: host-side NumPy data; io/: the file
    # formats) is edge code.
    edges = {"__init__", "__main__", "_version", "backend", "checkpoint", "cli", "errors", "floating",
             "seeding", "progress", "snapshots", "precision",
             "estimators", "estimator_base", "plotting"}
    edge_packages = {"datasets", "io"}
    modules = package_modules()
    assert {f"{name}.__init__" for name in edge_packages} <= modules
    assert {m for m in modules if m.split(".")[0] not in edge_packages} == edges | set(MATH_MODULES)


# The io package in layers, each importing only those below it:
# atomic <- container <- the formats built on the container.
IO_LAYERS = {"atomic": 0, "container": 1, "network_file": 2, "checkpoint_file": 2}


def sibling_imports(source: str) -> set[str]:
    """The modules of the same package that ``source`` imports (``from .x import ...``)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            found |= {node.module} if node.module else {a.name for a in node.names}
    return found


def test_every_io_module_has_a_layer():
    assert {p.stem for p in (PACKAGE / "io").glob("*.py")} - {"__init__"} == set(IO_LAYERS)


@pytest.mark.parametrize("module", IO_LAYERS)
def test_an_io_module_imports_only_lower_layers(module):
    imported = sibling_imports((PACKAGE / "io" / f"{module}.py").read_text())
    assert {name for name in imported if IO_LAYERS[name] >= IO_LAYERS[module]} == set()


def test_the_layer_check_catches_an_upward_import():
    assert sibling_imports("from .network_file import save_params\nfrom . import atomic\n"
                           "from ..backend import asarray\n") == {"network_file", "atomic"}
