"""Model files: xpnet's file formats, in three layers, each on top of the one before.

- :mod:`~xpnet.io.atomic`: ``write_atomically``, a write that leaves the old file or
  the new one, never half of one; :mod:`~xpnet.io.archive`, the zip under a model
  file, each member's entry and ``.npy`` preamble checked before it is read.
- :mod:`~xpnet.io.container`: ``write_model``/``read_model``/``read_header``, one
  ``.npz`` of named arrays plus a JSON header, no pickle; checked before any array is
  read, and only the arrays a format expects are read. Its size limits
  (``MAX_TOTAL_BYTES``, ``MAX_EXPANSION``, ``MAX_HEADER_BYTES``) are read from that module.
- the formats on the container: :mod:`~xpnet.io.network_file`, a network's parameters
  (``save_params``/``load_params``, whose
  ``ModelParams`` carry the model's description, and ``write_network``/``read_network`` for the
  estimators), and :mod:`~xpnet.io.checkpoint_file`, a training run's state
  (``write_checkpoint``/``read_checkpoint``).
"""

from .atomic import write_atomically
from .checkpoint_file import TrainingState, read_checkpoint, write_checkpoint
from .container import (DAMAGED_FILE_FIX, FORMAT_NAME, FORMAT_VERSION, HEADER_KEY,
                        MAX_HEADER_BYTES, MAX_TOTAL_BYTES, read_header, read_model, write_model)
from .network_file import (DESCRIPTION_KEYS, PARAM_DTYPES, PARAMS_KIND, ModelParams,
                           check_description, description_of, expect_network, load_params,
                           network_of, read_network, save_params, write_network)

__all__ = [
    "DAMAGED_FILE_FIX", "DESCRIPTION_KEYS", "FORMAT_NAME", "FORMAT_VERSION", "HEADER_KEY",
    "MAX_HEADER_BYTES", "MAX_TOTAL_BYTES", "ModelParams", "PARAMS_KIND", "PARAM_DTYPES",
    "TrainingState", "check_description", "description_of", "expect_network", "load_params",
    "network_of", "read_checkpoint", "read_header", "read_model", "read_network", "save_params",
    "write_atomically", "write_checkpoint", "write_model", "write_network",
]
