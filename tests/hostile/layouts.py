"""Legitimate NumPy inputs in unusual memory layouts, shared by the hostile-input modules."""

import numpy as np


def read_only(A):
    """A copy of ``A`` that refuses writes."""
    A = np.array(A)
    A.setflags(write=False)
    return A


LAYOUTS = {"read-only": read_only, "fortran": np.asfortranarray,
           "read-only fortran": lambda A: read_only(np.asfortranarray(A))}
