"""Argument types shared by the commands: each refuses a bad value with a message argparse shows."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def _named(name: str) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """Give an argument type the name argparse shows for a value it cannot convert.

    argparse reports ``--lr abc`` as ``invalid <type's __name__> value: 'abc'``; without this
    the user reads the function's internal name.
    """
    def rename(convert: Callable[[str], T]) -> Callable[[str], T]:
        convert.__name__ = name
        return convert
    return rename


@_named("positive integer")
def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


@_named("positive number")
def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


@_named("non-negative number")
def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text}")
    return value


@_named("integer seed")
def seed(text: str) -> int:
    value = int(text)
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**32), got {value}")
    return value
