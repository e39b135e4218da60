"""Array backends: names to array-API namespaces, the default backend, conversions.

xpnet's math never asks this module *which* backend to use: every math function
derives its namespace from the arrays it receives (:func:`namespace_of`). The
selected backend only decides where *new* arrays are created: initial weights and
user data converted with :func:`asarray`.

The selection lives here and nowhere else: a process-wide default (``set_backend``,
initialised from the ``XPNET_BACKEND`` environment variable) and a per-context
override (``use_backend``) kept in a :class:`contextvars.ContextVar`, so threads and
async tasks that use different backends do not see each other's choice.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import importlib
import operator
import os
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any, Union

import array_api_compat
import numpy as np

from .errors import BackendUnavailableError
from .transfers import contiguous, host_copy, to_device_of, to_numpy  # noqa: F401 (public here)

Backend = Union[str, ModuleType]
"""A backend name from :data:`BACKEND_NAMES`, or an array namespace module."""

ENV_VAR = "XPNET_BACKEND"
DEFAULT_BACKEND = "numpy"

CUPY_INSTALL_HINT = (
    'install the CuPy build for your CUDA version as an extra of xpnet: '
    'pip install "xpnet[cuda12]" (CUDA 12.x) or pip install "xpnet[cuda13]" (CUDA 13.x)'
)

DTYPE_NAMES = (
    "float32", "float64",
    "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "bool", "complex64", "complex128",
)
_PYTHON_TYPES = {float: "float64", int: "int64", bool: "bool", complex: "complex128"}


def _import(module: str, package: str, install: str) -> ModuleType:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"the package {package!r} cannot be imported ({exc}); {install}"
        ) from exc


@functools.cache
def _cupy_problem() -> str | None:
    """Why CuPy cannot compute here, or None when it can (checked once per process)."""
    try:
        import cupy
    except Exception as exc:  # ImportError, or a CUDA library that fails to load
        return f"CuPy cannot be imported ({exc}); {CUPY_INSTALL_HINT}"
    try:
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:
        return (f"CuPy is installed but the CUDA runtime did not answer ({exc}); check the "
                "NVIDIA driver with nvidia-smi and that the CuPy build matches your CUDA version")
    if count == 0:
        return "CuPy is installed but no CUDA device is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
    try:
        # Running one kernel catches a driver that is too old for the CuPy build.
        float(cupy.arange(3.0).sum())
    except Exception as exc:
        return (f"CuPy sees {count} CUDA device(s) but cannot run a kernel ({exc}); "
                "update the NVIDIA driver or install the CuPy build that matches it")
    return None


def gpu_available() -> bool:
    """Whether CuPy imports and a CUDA device runs a kernel (the test behind ``"auto"``)."""
    return _cupy_problem() is None


def _numpy() -> ModuleType:
    return importlib.import_module("array_api_compat.numpy")


def _cupy() -> ModuleType:
    problem = _cupy_problem()
    if problem is not None:
        raise BackendUnavailableError(f"the 'cupy' backend cannot run: {problem}")
    return importlib.import_module("array_api_compat.cupy")


def _torch() -> ModuleType:
    _import("torch", "torch", "install PyTorch: pip install torch")
    return importlib.import_module("array_api_compat.torch")


def _jax() -> ModuleType:
    return _import("jax.numpy", "jax", "install JAX: pip install jax")


def _array_api_strict() -> ModuleType:
    return _import("array_api_strict", "array-api-strict",
                   'install it: pip install array-api-strict (or pip install "xpnet[test]")')


def _auto() -> ModuleType:
    return _LOADERS["cupy"]() if gpu_available() else _numpy()


_LOADERS: dict[str, Callable[[], ModuleType]] = {
    "numpy": _numpy,
    "cupy": _cupy,
    "auto": _auto,
    "array_api_strict": _array_api_strict,
    "torch": _torch,
    "jax": _jax,
}
BACKEND_NAMES = tuple(_LOADERS)


def _canonical(name: str) -> str:
    return name.strip().lower().replace("-", "_")


def resolve_backend(backend: Backend) -> ModuleType:
    """The array-API namespace for a backend name or module.

    NumPy, CuPy and PyTorch come back wrapped by ``array_api_compat`` (the same
    namespace ``array_api_compat.array_namespace`` returns for their arrays).
    Raises ``ValueError`` for an unknown name and :class:`BackendUnavailableError`
    when the backend's package or device is missing.
    """
    if isinstance(backend, str):
        loader = _LOADERS.get(_canonical(backend))
        if loader is None:
            raise ValueError(f"unknown backend {backend!r}; valid names are "
                             f"{', '.join(BACKEND_NAMES)}, or pass an array namespace module")
        return loader()
    if isinstance(backend, ModuleType) and hasattr(backend, "asarray"):
        # Known libraries go through their loader, which checks the device first
        # (calling cupy.asarray on a machine without a GPU would crash inside CUDA).
        name = backend.__name__.removeprefix("array_api_compat.").split(".")[0]
        if name in _LOADERS:
            return _LOADERS[name]()
        try:
            return array_api_compat.array_namespace(backend.asarray(0.0))
        except TypeError as exc:
            raise TypeError(f"backend module {backend.__name__!r} does not create "
                            f"array-API arrays ({exc})") from exc
    raise TypeError(f"backend must be one of the names {', '.join(BACKEND_NAMES)} or an "
                    f"array namespace module, not {type(backend).__name__}")


def backend_name(xp: ModuleType | None = None) -> str:
    """A short name for a namespace: 'numpy', 'cupy', 'torch', 'jax', 'array_api_strict' or its
    module name; without an argument, the selected backend's (:func:`get_backend`)."""
    if xp is None:
        xp = get_backend()
    checks = (
        ("numpy", array_api_compat.is_numpy_namespace),
        ("cupy", array_api_compat.is_cupy_namespace),
        ("torch", array_api_compat.is_torch_namespace),
        ("jax", array_api_compat.is_jax_namespace),
        ("array_api_strict", array_api_compat.is_array_api_strict_namespace),
    )
    for name, is_it in checks:
        if is_it(xp):
            return name
    return getattr(xp, "__name__", repr(xp))


# A selection is (namespace, whether it was asked for as "auto"): fit, the estimators and
# the command line weigh an "auto" selection's work (xpnet.workload) where they know it.
Selection = tuple[ModuleType, bool]
_process_default: Selection | None = None
_context_backend: contextvars.ContextVar[Selection | None] = contextvars.ContextVar(
    "xpnet_backend", default=None)


def _selection(backend: Backend) -> Selection:
    return resolve_backend(backend), isinstance(backend, str) and _canonical(backend) == "auto"


def _backend_from_environment() -> Selection:
    name = os.environ.get(ENV_VAR, "").strip() or DEFAULT_BACKEND
    try:
        return _selection(name)
    except ValueError as exc:
        raise ValueError(f"environment variable {ENV_VAR}={name!r}: {exc}") from exc
    except BackendUnavailableError as exc:
        raise BackendUnavailableError(f"environment variable {ENV_VAR}={name!r}: {exc}") from exc


def set_backend(backend: Backend) -> ModuleType:
    """Set the process-wide default backend; returns its namespace.

    ``"auto"`` gives CuPy when a GPU is usable, else NumPy, for arrays made without a
    training run to weigh; ``fit`` and the estimators weigh each run's work (:func:`wants_auto`).
    """
    global _process_default
    _process_default = _selection(backend)
    return _process_default[0]


def get_backend() -> ModuleType:
    """The namespace new arrays are created in: ``use_backend``'s, else the process default.

    The process default is ``XPNET_BACKEND`` when set, else NumPy. This returns the module
    itself; ``xpnet.backend_name()`` gives its short name (``'numpy'``, ``'cupy'``, ...).
    """
    return _selected()[0]


def _selected() -> Selection:
    global _process_default
    selected = _context_backend.get()
    if selected is not None:
        return selected
    if _process_default is None:
        _process_default = _backend_from_environment()
    return _process_default


def wants_auto(backend: Backend | None) -> bool:
    """Whether ``backend`` is ``"auto"``, or None while the selected backend was asked for
    as ``"auto"``: then a training run goes where its work per step runs fastest."""
    if backend is None:
        return _selected()[1]
    return isinstance(backend, str) and _canonical(backend) == "auto"


@contextlib.contextmanager
def use_backend(backend: Backend) -> Iterator[ModuleType]:
    """Create new arrays on ``backend`` inside a ``with`` block (this thread/context only)."""
    token = _context_backend.set(_selection(backend))
    try:
        yield get_backend()
    finally:
        _context_backend.reset(token)


_NUMPY_NAMESPACE = array_api_compat.array_namespace(np.empty(0))


def array_namespace(*arrays: Any) -> ModuleType:
    """``array_api_compat.array_namespace``, answered at once for NumPy arrays.

    Every layer of every step asks it several times; for arrays that are all exactly
    ``numpy.ndarray`` the answer is known without the general dispatch.
    """
    for a in arrays:
        if type(a) is not np.ndarray:
            return array_api_compat.array_namespace(*arrays)
    return _NUMPY_NAMESPACE if arrays else array_api_compat.array_namespace()


# Python's own numbers (NumPy's scalars, which subclass some of them, are arrays here).
PYTHON_SCALARS = {bool, int, float, complex}


def namespace_of(**arrays: Any) -> ModuleType:
    """The array namespace shared by the named arrays (``None`` values are ignored).

    Raises ``TypeError`` naming the arguments when one is not an array or when
    they come from different libraries.
    """
    given = {name: a for name, a in arrays.items() if a is not None}
    kinds = {type(a) for a in given.values()}
    # Arrays of one type are of one library: its namespace is asked of one of them.
    # (array_namespace refuses what is not an array, but skips Python scalars.)
    if given and not kinds & PYTHON_SCALARS:
        try:
            return array_namespace(*(list(given.values())[:1] if len(kinds) == 1 else given.values()))
        except TypeError:
            pass  # explained below, naming the arguments
    for name, a in given.items():
        if type(a) in PYTHON_SCALARS or not array_api_compat.is_array_api_obj(a):
            raise TypeError(f"{name} must be an array (NumPy, CuPy, ...), not {type(a).__name__}; "
                            f"convert it with xpnet.asarray({name})")
    by_library: dict[str, list[str]] = {}
    for name, a in given.items():
        by_library.setdefault(backend_name(array_namespace(a)), []).append(name)
    parts = [f"{', '.join(names)} on {library}" for library, names in by_library.items()]
    raise TypeError(f"arrays from different backends in one call: {' but '.join(parts)}; "
                    "move them to one backend first with xpnet.asarray(x, backend=...)")


def is_host_data(x: Any) -> bool:
    """Whether ``x`` is host data (a list, scalar or NumPy array) rather than another library's array."""
    return not array_api_compat.is_array_api_obj(x) or array_api_compat.is_numpy_array(x)


def dtype_name(dtype: Any) -> str:
    """The standard name (``"float32"``) of a dtype given as a name, a Python type or any library's dtype."""
    # Names, not dtype objects, are compared: libraries' dtypes do not compare equal to each other.
    if dtype in _PYTHON_TYPES:
        return _PYTHON_TYPES[dtype]
    text = dtype if isinstance(dtype, str) else (
        getattr(dtype, "name", None) or getattr(dtype, "__name__", None) or str(dtype))
    return str(text).rsplit(".", 1)[-1]


def default_float_dtype(xp: ModuleType) -> Any:
    """float64 where the backend has it, else its default floating dtype (JAX without x64: float32)."""
    info = xp.__array_namespace_info__()
    available = info.dtypes(kind="real floating")
    return available["float64"] if "float64" in available else info.default_dtypes()["real floating"]


def default_int_dtype(xp: ModuleType) -> Any:
    """The backend's default integer dtype (int64, or int32 for JAX without x64)."""
    return xp.__array_namespace_info__().default_dtypes()["integral"]


def resolve_dtype(xp: ModuleType, dtype: Any) -> Any:
    """``xp``'s dtype for a name (``"float32"``), a Python type, a NumPy dtype or any library's dtype."""
    name = dtype_name(dtype)
    if name not in DTYPE_NAMES or not hasattr(xp, name):
        raise ValueError(f"unknown dtype {dtype!r} for the {backend_name(xp)} backend; "
                         "use a name such as 'float32' or 'float64'")
    available = xp.__array_namespace_info__().dtypes()
    if name not in available:
        hint = " (JAX needs the environment variable JAX_ENABLE_X64=1 for 64-bit types)" \
            if backend_name(xp) == "jax" else ""
        raise ValueError(f"the {backend_name(xp)} backend does not provide dtype {name} here{hint}; "
                         f"available: {', '.join(available)}")
    return available[name]


def is_writeable(x: Any) -> bool:
    """``array_api_compat.is_writeable_array``, quicker for NumPy arrays.

    In-place updates ask it of other libraries' arrays (and NumPy's, outside the step);
    for a NumPy array the answer is its ``writeable`` flag, without the general dispatch.
    """
    if type(x) is np.ndarray:
        return bool(x.flags.writeable)
    return array_api_compat.is_writeable_array(x)


@functools.cache
def writes_in_place(xp: ModuleType) -> bool:
    """Whether the arrays ``xp`` makes can be written in place (JAX's cannot)."""
    return is_writeable(xp.empty((0,)))


_IN_PLACE = {operator.add: operator.iadd, operator.sub: operator.isub, operator.mul: operator.imul,
             operator.truediv: operator.itruediv}


def in_place(owned: Any, op: Callable[[Any, Any], Any], other: Any) -> Any:
    """``op(owned, other)`` (``operator.add``, ``sub``, ``mul`` or ``truediv``), written
    into ``owned`` where its library allows (a new array where arrays are immutable, as in JAX).

    ``owned`` must be an array of the caller's own: it is overwritten. Writing in place
    saves allocating (and touching) one more array of its size.
    """
    if type(owned) is np.ndarray:  # the common case, first; its flag is read only on failure
        try:
            return _IN_PLACE[op](owned, other)
        except (ValueError, TypeError):
            if owned.flags.writeable:
                raise
        return op(owned, other)  # read-only: as for any immutable array
    return _IN_PLACE[op](owned, other) if is_writeable(owned) else op(owned, other)


def _check_real(xp: ModuleType, dtype: Any) -> None:
    if not xp.isdtype(dtype, ("bool", "integral", "real floating")):
        raise TypeError(f"cannot use data of dtype {dtype}: xpnet needs real numbers "
                        "(lists of numbers, or integer, boolean or floating arrays)")


def asarray(x: Any, backend: Backend | None = None, dtype: Any = None) -> Any:
    """Put ``x`` (a list, a NumPy array, or any backend's array) on a backend.

    ``backend=None`` means the selected backend (:func:`get_backend`). An array that
    is already there with the requested dtype is returned without a copy.
    """
    xp = get_backend() if backend is None else resolve_backend(backend)
    target = None if dtype is None else resolve_dtype(xp, dtype)
    if array_api_compat.is_array_api_obj(x) and array_api_compat.array_namespace(x) is xp:
        _check_real(xp, x.dtype)
        return x if target is None else xp.astype(x, target, copy=False)
    host = to_numpy(x) if array_api_compat.is_array_api_obj(x) else np.asarray(x)
    _check_real(_numpy(), host.dtype)
    if not array_api_compat.is_numpy_namespace(xp):
        # Other libraries may share memory with a NumPy array; a private C-ordered copy
        # keeps in-place training from writing into the caller's data.
        host = np.array(host, order="C", copy=True)
    return xp.asarray(host, dtype=target)
