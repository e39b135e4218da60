"""Argument types shared by the commands: each refuses a bad value with a message argparse shows."""

from __future__ import annotations

import argparse

from ..activations import ACTIVATIONS

HIDDEN_ACTIVATIONS = sorted(name for name, kind in ACTIVATIONS.items() if kind.hidden_layer)
"""The activations meant for hidden layers (softmax is an output's)."""


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**32), got {value}")
    return value
