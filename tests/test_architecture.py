"""Structural guarantees: the math modules reach arrays only through the array namespace."""

import ast
import pathlib

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "xpnet"
MATH_MODULES = ["activations", "losses", "outputs", "gradients", "network", "parameters",
                "evaluation", "gradcheck", "validation", "kernels", "memo", "training.loop",
                "training.options",
                "training.run", "training.epoch", "training.step", "training.optimizers",
                "training.schedules", "training.history", "training.convergence",
                "training.parallel", "training.ranks", "training.tensor"]


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
    assert numpy_uses((PACKAGE / f"{module.replace('.', '/')}.py").read_text()) == []


def test_the_numpy_check_catches_a_direct_call():
    assert numpy_uses("import numpy as np\ndef f(Z):\n    return np.exp(Z)\n") == \
        ["import numpy", "np.exp"]
    assert numpy_uses("from numpy import exp\n") == ["from numpy import ..."]


def package_modules() -> set[str]:
    """Dotted names below ``xpnet`` of its modules, subpackages included (``datasets.idx``)."""
    return {".".join(p.relative_to(PACKAGE).with_suffix("").parts) for p in PACKAGE.rglob("*.py")}


def test_every_module_of_the_package_is_classified():
    # A new module must be added to MATH_MODULES, or here as an edge module that may use NumPy.
    # Every module inside an edge package (datasets/: host-side NumPy data; estimators/:
    # scikit-learn-style data handling; io/: the file formats; distributed/: host buffers
    # and the processes' collectives) is edge code.
    edges = {"__init__", "__main__", "_version", "backend", "transfers", "workload", "errors", "seeding",
             "precision", "plotting", "training.__init__", "training.checkpoint",
             "training.snapshots", "training.divergence", "training.progress", "model",
             "step_ops"}
    edge_packages = {"datasets", "estimators", "io", "cli", "distributed"}
    modules = package_modules()
    assert {f"{name}.__init__" for name in edge_packages} <= modules
    assert {m for m in modules if m.split(".")[0] not in edge_packages} == edges | set(MATH_MODULES)


MAX_MODULE_LINES = 400

# The package's layers, lowest first: a module may import from its own layer and those
# below it, never from a layer above. Each name is a top-level module or subpackage.
LAYERS = [
    {"_version", "errors", "seeding", "backend", "transfers", "workload", "kernels", "precision",
     "memo", "step_ops"},
    {"activations", "losses", "validation", "parameters", "datasets", "io", "distributed"},
    {"outputs", "gradients"},
    {"network", "evaluation", "gradcheck"},
    {"training", "plotting", "model"},
    {"estimators"},
    {"cli", "__init__", "__main__"},
]


def internal_imports() -> dict[str, set[str]]:
    """Each module's (dotted, below ``xpnet``) imports of other modules of the package."""
    modules = package_modules()

    def resolved(parts):  # a module, or a package's __init__, or None
        for candidate in (".".join(parts), ".".join(parts + ["__init__"])):
            if candidate in modules:
                return candidate
        return None

    graph = {}
    for module in modules:
        package = module.split(".")[:-1]
        found = set()
        for node in ast.walk(ast.parse((PACKAGE / (module.replace(".", "/") + ".py")).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level > 0:
                target = package[:len(package) - node.level + 1] + (node.module or "").split(".")
                target = [part for part in target if part]
                for alias in node.names:  # "from . import files" imports the module files
                    found.add(resolved(target + [alias.name]) or resolved(target))
        graph[module] = found - {module, None}
    return graph


def layer_of(module: str) -> int:
    top = module.split(".")[0]
    return next(i for i, layer in enumerate(LAYERS) if top in layer)


@pytest.mark.parametrize("module", sorted(package_modules()))
def test_every_module_is_short_enough_to_read(module):
    lines = (PACKAGE / (module.replace(".", "/") + ".py")).read_text().count("\n")
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines"


def test_no_module_imports_from_a_higher_layer():
    upward = [(module, target) for module, targets in internal_imports().items()
              for target in targets if layer_of(target) > layer_of(module)]
    assert upward == []


def test_the_package_has_no_import_cycle():
    graph = internal_imports()
    state: dict[str, int] = {}

    def visit(module, path):
        if state.get(module) == 1:
            raise AssertionError(f"import cycle: {' -> '.join(path + [module])}")
        if state.get(module) == 2:
            return
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            visit(target, path + [module])
        state[module] = 2

    for module in sorted(graph):
        visit(module, [])


def test_the_import_checks_see_relative_imports():
    graph = internal_imports()
    assert "training.optimizers" in graph["training.step"]
    assert "network" in graph["training.step"] and "backend" in graph["activations"]
    assert {"datasets.__init__", "training.__init__", "network"} <= graph["__init__"]
    assert "estimators.files" in graph["estimators.classifier"]


# The io package in layers, each importing only those below it:
# atomic, archive <- container <- the formats built on the container.
IO_LAYERS = {"atomic": 0, "archive": 0, "container": 1, "network_file": 2, "checkpoint_file": 2}


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
