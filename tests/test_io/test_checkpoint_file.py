"""The checkpoint format: a training run's state round trips; a file that is not a complete
checkpoint is refused in a checkpoint's words (how to start a new run)."""

import re

import numpy as np
import pytest

import xpnet
from xpnet.errors import ModelFileError
from xpnet.io import (DAMAGED_FILE_FIX, TrainingState, read_checkpoint, read_model, save_params,
                      write_checkpoint, write_model)
from xpnet.io.checkpoint_file import CHECKPOINT_FIX

from .conftest import DROP, make_params


def make_state():
    params = make_params()
    return TrainingState(
        epoch=3, run={"seed": 1, "optimizer": "adam"}, params=params,
        optimizer_arrays={f"m/{key}": a / 2 for key, a in params.items()},
        optimizer_values={"t": 3}, rng_state=np.random.RandomState(5).get_state(),
        history={"loss": [0.5, 0.25, 0.125]}, stopper={"best": 0.125, "best_epoch": 2, "waited": 0},
        best_params=make_params(seed=1))


def test_a_training_state_round_trips_onto_any_backend(xp, tmp_path):
    state = make_state()
    read = read_checkpoint(write_checkpoint(tmp_path / "run.npz", state), xp)
    assert (read.epoch, read.run, read.optimizer_values, read.history, read.stopper) == \
        (state.epoch, state.run, state.optimizer_values, state.history, state.stopper)
    for group in ("params", "optimizer_arrays", "best_params"):
        saved, loaded = getattr(state, group), getattr(read, group)
        assert loaded.keys() == saved.keys()
        for key, value in saved.items():
            np.testing.assert_array_equal(xpnet.to_numpy(loaded[key]), value)
    rng = np.random.RandomState()
    rng.set_state(read.rng_state)
    np.testing.assert_array_equal(rng.permutation(50), np.random.RandomState(5).permutation(50))


def write_with_header(path, **changes):
    """make_state()'s checkpoint with ``changes`` to its header (DROP removes an entry)."""
    arrays, header = read_model(write_checkpoint(path, make_state()))
    header.update(changes)
    return write_model(path, arrays, {key: value for key, value in header.items() if value is not DROP
                                      and key not in ("format", "format_version", "xpnet_version")})


@pytest.mark.parametrize("changes, words", [
    (dict(epoch=True), "its header's 'epoch' entry is missing or of the wrong type"),
    (dict(epoch=DROP), "its header's 'epoch' entry is missing or of the wrong type"),
    (dict(stopper=[1]), "its header's 'stopper' entry is missing or of the wrong type"),
    (dict(kind="params"), "it holds a 'params' file, not a training checkpoint"),
])
def test_a_header_that_is_not_a_checkpoints_is_refused(tmp_path, changes, words):
    path = write_with_header(tmp_path / "run.npz", **changes)
    with pytest.raises(ModelFileError, match=re.escape(
            f"checkpoint {path} cannot be resumed from: {words}; {CHECKPOINT_FIX}")):
        read_checkpoint(path, np)


def test_a_checkpoint_without_early_stopping_has_no_stopper(tmp_path):
    assert read_checkpoint(write_with_header(tmp_path / "run.npz", stopper=None), np).stopper is None


@pytest.mark.parametrize("write", [lambda path: path.write_bytes(b"not a zip"),
                                   lambda path: save_params(path, make_params())])
def test_a_file_that_is_no_checkpoint_is_refused_with_the_checkpoints_advice(tmp_path, write):
    path = tmp_path / "run.npz"
    write(path)
    with pytest.raises(ModelFileError, match=re.escape(CHECKPOINT_FIX)) as info:
        read_checkpoint(path, np)
    assert str(path) in str(info.value) and DAMAGED_FILE_FIX not in str(info.value)
