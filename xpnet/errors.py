"""xpnet's own exception types.

User mistakes raise the built-in ``ValueError`` / ``TypeError``; the classes here
cover problems of the environment (a backend that cannot run) so callers can catch
them apart from bugs in their own input.
"""


class XpnetError(Exception):
    """Base class of every exception defined by xpnet."""


class BackendUnavailableError(XpnetError, RuntimeError):
    """A requested array backend cannot run here; the message says why and how to fix it."""


class TrainingDivergedError(XpnetError, FloatingPointError, ValueError):
    """The loss became NaN or infinite during training.

    Also a ``ValueError``, which scikit-learn's MLP raises for non-finite weights.

    ``params`` holds the last good weights (those before the failing epoch) and
    ``history`` the epochs completed before it, so nothing already learned is lost.
    """

    def __init__(self, message: str, params: dict, history: object) -> None:
        super().__init__(message)
        self.params = params
        self.history = history


class ModelFileError(XpnetError, ValueError):
    """A model file is damaged, foreign or too new; the message names the file and what is wrong.

    A file that does not exist raises the built-in ``FileNotFoundError`` instead.
    """


class RankFailedError(XpnetError, RuntimeError):
    """Another rank of a multi-process run failed in a step every rank takes together.

    Raised on the ranks that did not fail, so that none is left waiting for the others;
    the failing rank raises its own exception. The message names the rank and its error.
    """


class DataFileError(XpnetError, ValueError):
    """A data file is damaged or not in the expected format; the message names the file."""


try:  # scikit-learn's users filter its ConvergenceWarning: xpnet's is one of them
    from sklearn.exceptions import ConvergenceWarning as _ConvergenceBase
except ImportError:
    _ConvergenceBase = UserWarning


class ConvergenceWarning(_ConvergenceBase):
    """A training run ended without learning: its loss never fell meaningfully below where it
    started, or its accuracy ended no better than always guessing the most common class.

    The message says which, with the figures, and what to try; ``history.learned`` is False.
    With scikit-learn installed it is also scikit-learn's ``ConvergenceWarning``.
    """
