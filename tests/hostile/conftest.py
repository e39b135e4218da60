"""The hostile-input suite: every test here feeds xpnet one hostile input and records how it
was met, and the run ends with a summary line:

    hostile inputs: N tried, E clear errors, H handled, 0 crashes, 0 hangs, 0 data lost

A test records exactly one outcome through the ``hostile`` fixture:

* ``with hostile.raises(ValueError, "X", "n_features"): ...`` -- the input is refused with
  that exception type and a message naming every given word (the argument or file, and the
  fix). Counted as a *clear error*.
* ``hostile.refused(message, *words)`` -- the same for a message a command printed.
* ``hostile.handled()`` -- the input is legitimate and was processed correctly (the test's
  own assertions check the result). Counted as *handled*.

``hostile.intact(path, snapshot)`` checks that a file still holds the bytes it held before
(``hostile.snapshot(path)``); a difference is *data lost*. Any other failure is a *crash*,
and a test that runs past ``HANG_SECONDS`` is stopped (pytest-timeout) and counted as a
*hang*. Skipped tests are not counted.
"""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import pytest

HANG_SECONDS = 120
HERE = Path(__file__).parent

_outcomes: dict[str, str] = {}
_hostile_ids: set[str] = set()
_skipped: set[str] = set()


class DataLost(AssertionError):
    """A file that should have survived a failure did not."""


class Hostile:
    def __init__(self, nodeid: str) -> None:
        self._nodeid = nodeid
        self.outcome: str | None = None

    def _record(self, outcome: str) -> None:
        if self.outcome is not None:
            raise AssertionError(f"{self._nodeid} recorded two outcomes: {self.outcome}, {outcome}")
        self.outcome = outcome

    @contextlib.contextmanager
    def raises(self, exception: type[BaseException] | tuple[type[BaseException], ...], *words: str):
        """Expect ``exception`` with a message that contains each of ``words`` (case-insensitive)."""
        with pytest.raises(exception) as info:
            yield info
        self.refused(str(info.value), *words)

    def refused(self, message: str, *words: str) -> None:
        """The input was refused with ``message`` (an exception's, or what a command printed),
        which must contain each of ``words`` (case-insensitive)."""
        missing = [word for word in words if word.lower() not in message.lower()]
        assert not missing, f"the error message {message!r} does not mention {missing}"
        # Text a user can read: no repr dumps of whole arrays.
        assert len(message) < 2000 and not re.search(r"array\(\[", message), message
        self._record("error")

    def handled(self) -> None:
        """The input was accepted and processed correctly (checked by the test's assertions)."""
        self._record("handled")

    @staticmethod
    def snapshot(path: Path) -> bytes | None:
        return Path(path).read_bytes() if Path(path).exists() else None

    @staticmethod
    def intact(path: Path, snapshot: bytes | None) -> None:
        now = Path(path).read_bytes() if Path(path).exists() else None
        if now != snapshot:
            raise DataLost(f"{path} changed: {len(snapshot or b'')} bytes before, "
                           f"{len(now or b'')} after")


@pytest.fixture
def hostile(request):
    """Record how this hostile input was met (see the module docstring)."""
    recorder = Hostile(request.node.nodeid)
    yield recorder
    if request.node.nodeid in _outcomes or request.node.nodeid in _skipped:
        return  # the test failed (that outcome is already counted) or was skipped
    if recorder.outcome is None:
        raise AssertionError(f"{request.node.nodeid} passed without recording an outcome; call "
                             "hostile.raises(...) or hostile.handled()")
    _outcomes[request.node.nodeid] = recorder.outcome


def pytest_collection_modifyitems(config, items):
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            _hostile_ids.add(item.nodeid)
            item.add_marker(pytest.mark.timeout(HANG_SECONDS))


def pytest_runtest_logreport(report):
    if report.nodeid not in _hostile_ids:
        return
    if report.skipped:
        _skipped.add(report.nodeid)
        return
    if report.failed:
        text = report.longreprtext
        _outcomes[report.nodeid] = ("hang" if "Timeout" in text else
                                    "data lost" if "DataLost" in text else "crash")


def pytest_terminal_summary(terminalreporter):
    if not _outcomes:
        return
    counts = {kind: sum(1 for v in _outcomes.values() if v == kind)
              for kind in ("error", "handled", "crash", "hang", "data lost")}
    terminalreporter.write_line(
        f"hostile inputs: {len(_outcomes)} tried, {counts['error']} clear errors, "
        f"{counts['handled']} handled, {counts['crash']} crashes, {counts['hang']} hangs, "
        f"{counts['data lost']} data lost")
