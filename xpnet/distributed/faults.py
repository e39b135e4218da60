"""Failures in a job of several processes: every rank learns of them, none is left waiting.

A rank that stops while the others wait in a collective leaves them waiting forever
(MPICH does not time out). So the steps that can fail on some ranks only (checking the
options and data, reading a checkpoint) run through :func:`on_every_rank`, which tells
every rank the outcome and raises on all of them; and a failure inside the training
loop, where the ranks meet every step, ends the whole job through
:func:`failures_end_the_job`, naming the rank and the cause.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from ..errors import RankFailedError
from .transport import Transport

T = TypeVar("T")
_EVERY_RANK = "_xpnet_raised_on_every_rank"


def raised_on_every_rank(exc: BaseException) -> BaseException:
    """Mark ``exc`` as raised by every rank (a decision they all took): it may propagate."""
    setattr(exc, _EVERY_RANK, True)
    return exc


def on_every_rank(transport: Transport, action: Callable[[], T], what: str) -> T:
    """``action()`` on every rank; if it raised on any rank, an exception on all of them.

    A rank whose own ``action`` raised re-raises that exception (with a note naming the
    rank); the others raise :class:`~xpnet.errors.RankFailedError` naming the first
    rank that failed and its error. ``what`` says what was being done.
    """
    failure: BaseException | None = None
    try:
        result = action()
    except BaseException as exc:  # noqa: BLE001 - every failure (Ctrl-C too) must reach the others
        failure = exc
    outcomes = transport.gather_values(None if failure is None else _describe(failure))
    failed = [(rank, message) for rank, message in enumerate(outcomes) if message is not None]
    if failure is not None:
        _add_note(failure, f"(raised on rank {transport.rank} of {transport.size} while {what})")
        raise raised_on_every_rank(failure)
    if failed:
        rank, message = failed[0]
        others = f" (and on ranks {[r for r, _ in failed[1:]]})" if len(failed) > 1 else ""
        raise raised_on_every_rank(RankFailedError(
            f"rank {rank} of {transport.size} failed while {what}{others}: {message}"))
    return result


def agree_on_flag(transport: Transport, flag: bool) -> bool:
    """Whether ``flag`` is true on any rank (one small collective)."""
    return any(transport.gather_values(bool(flag)))


@contextmanager
def failures_end_the_job(transport: Transport) -> Iterator[None]:
    """Inside: an exception that only this rank raised ends the whole job (every rank),
    after printing the rank and the error; one that every rank raised propagates."""
    try:
        yield
    except BaseException as exc:
        if transport.size == 1 or getattr(exc, _EVERY_RANK, False):
            raise
        print(f"xpnet: rank {transport.rank} of {transport.size} failed while training; the "
              f"other ranks are waiting for it, so the whole job ends now.\n"
              + "".join(traceback.format_exception(exc)), file=sys.stderr)
        transport.abort(1)
        raise  # an abort that returned (a test's stand-in transport)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _add_note(exc: BaseException, note: str) -> None:
    add_note: Any = getattr(exc, "add_note", None)  # Python 3.11 and later
    if add_note is not None and note not in getattr(exc, "__notes__", ()):
        add_note(note)
