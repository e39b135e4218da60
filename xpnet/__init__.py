"""xpnet: a small neural-network library whose math runs unchanged on NumPy, CuPy
and any array-API backend.

The tutorial's API: ``init_params``, ``forward_prop``, ``cost_function``,
``one_layer_backward``, ``backprop``, ``update_parameters``, ``train``, plus
``predict`` and ``accuracy``; ``gradient_check`` compares ``backprop`` with central
differences; ``fit`` is the full training loop (mini-batches,
optimizers, schedules, validation, early stopping); ``MLPClassifier`` and
``MLPRegressor`` wrap it with scikit-learn's interface. Backends: ``set_backend``, ``get_backend``
(the namespace), ``backend_name`` (its short name), ``use_backend``, ``gpu_available``, ``asarray``,
``to_numpy``; ``allow_tf32`` lets float32 products on a CUDA GPU run on TF32 tensor cores inside a
``with`` block.
"""

from ._version import __version__ as __version__  # re-exported

from .activations import ACTIVATIONS
from .backend import (BACKEND_NAMES, asarray, backend_name, get_backend, gpu_available, set_backend,
                      to_numpy, use_backend)
from . import datasets
from .errors import (BackendUnavailableError, ConvergenceWarning, DataFileError, ModelFileError,
                     TrainingDivergedError, XpnetError)
from .estimators import MLPClassifier, MLPRegressor, NotFittedError, load
from .evaluation import accuracy, predict
from .gradcheck import GradientCheckReport, gradient_check
from .io import load_params, save_params
from .model import Model
from .network import (LayerCache, backprop, cost_function, forward_prop, init_params,
                      one_layer_backward, update_parameters)
from .outputs import OUTPUTS
from .plotting import plot_history
from .precision import allow_tf32
from .training import (SGD, Adam, Constant, ExponentialDecay, History, InverseScaling, Optimizer,
                       RMSprop, Schedule, StepDecay, fit, gather_params, shard_params,
                       sharded_forward_prop, train)

__all__ = [
    "ACTIVATIONS", "BACKEND_NAMES", "Adam", "BackendUnavailableError", "Constant", "ConvergenceWarning",
    "DataFileError", "ExponentialDecay", "GradientCheckReport", "History", "InverseScaling", "LayerCache",
    "MLPClassifier", "MLPRegressor", "Model", "ModelFileError", "NotFittedError", "OUTPUTS", "Optimizer",
    "RMSprop", "SGD",
    "Schedule", "StepDecay", "TrainingDivergedError", "XpnetError", "accuracy", "allow_tf32",
    "asarray", "backend_name", "backprop", "cost_function", "datasets", "fit", "forward_prop",
    "gather_params", "get_backend", "gpu_available", "gradient_check", "init_params", "load",
    "load_params", "one_layer_backward", "plot_history", "predict", "save_params", "set_backend",
    "shard_params", "sharded_forward_prop", "to_numpy", "train", "update_parameters",
    "use_backend",
]
