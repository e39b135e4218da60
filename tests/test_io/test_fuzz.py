"""Fuzzing the loaders with mutated valid files: every input loads a valid network or raises
ModelFileError, never anything else, and reading it never takes more than a small multiple of
the declared network's memory.

Each case starts from a valid file (a params file, an estimator's, a checkpoint) and applies a
few mutations, structural (members swapped, dropped, duplicated, renamed to odd names; their
.npy headers declaring other shapes, dtypes or huge sizes; zip entries claiming huge sizes; the
JSON header edited) or raw (bytes flipped, the file cut). The mutation fuzzer draws them from a
seeded generator (the default run is a few seconds; set ``XPNET_FUZZ_CASES`` for more, e.g.
``XPNET_FUZZ_CASES=20000``); hypothesis draws them too, derandomized, and shrinks a failure.
"""

import io
import json
import os
import random
import tracemalloc
import warnings
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import xpnet
from xpnet.errors import ModelFileError
from xpnet.io import TrainingState, load_params, read_checkpoint, save_params, write_checkpoint
from xpnet.parameters import layer_dims_of

from .zips import DEFLATED, Entry, deflated, npy_preamble, zip_bytes

CASES = int(os.environ.get("XPNET_FUZZ_CASES", "600"))
LAYER_DIMS = [32, 256, 8]  # about 84 KB of float64: a refusal that allocates shows
OVERHEAD = 4 << 20  # what a load may take beyond its network: the JSON header (up to 1 MiB), zip
#                     and .npy buffers


def network(seed):
    rng = np.random.default_rng(seed)
    return {key: rng.standard_normal(shape) for l in range(1, len(LAYER_DIMS))
            for key, shape in ((f"W{l}", (LAYER_DIMS[l], LAYER_DIMS[l - 1])),
                               (f"b{l}", (LAYER_DIMS[l], 1)))}


NETWORK_BYTES = sum(a.nbytes for a in network(0).values())


def estimator_file(path):
    rng = np.random.RandomState(0)
    X = rng.randn(40, LAYER_DIMS[0])
    model = xpnet.MLPClassifier(hidden_layer_sizes=(LAYER_DIMS[1],), max_iter=2, random_state=0,
                                backend="numpy").fit(X, rng.randint(0, LAYER_DIMS[2], 40))
    return model.save(path)


def checkpoint_file(path):
    params = network(1)
    return write_checkpoint(path, TrainingState(
        epoch=1, run={"hidden": "relu", "output": "softmax"}, params=params,
        optimizer_arrays={f"m/{k}": a / 2 for k, a in params.items()}, optimizer_values={},
        rng_state=np.random.RandomState(0).get_state(), history={"loss": [0.5]}))


@pytest.fixture(scope="module")
def seeds(tmp_path_factory):
    """The valid files the mutations start from, as ``{kind: [(member name, bytes), ...]}``."""
    directory = tmp_path_factory.mktemp("seeds")
    files = {"params": save_params(directory / "p.npz", network(0), hidden="relu",
                                   output="softmax", note="seed"),
             "estimator": estimator_file(directory / "e.npz"),
             "checkpoint": checkpoint_file(directory / "c.npz")}
    return {kind: read_members(path.read_bytes()) for kind, path in files.items()}


def read_members(raw):
    with zipfile.ZipFile(io.BytesIO(raw)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


# ---- the mutations: each takes (members, rng) and returns the members, or the file's bytes -----

ODD_NAMES = ["../W1.npy", "/etc/W1.npy", "C:/W1.npy", "W1", "a\\b.npy", "W1.npy\x00.txt",
             "\uff37\uff11.npy", ".npy", "dir/", "x" * 300 + ".npy", "__header__.npy", "W1.NPY",
             "W1.npy/", "./W1.npy", "params/../W1.npy", "b1.npy", "W3.npy"]
SHAPES = [(), (0,), (1,), (2**31,), (2**40,), (2**62, 2), (2**16, 2**16), (3, 0, 5), (256, 32),
          (32, 256), (8, 256, 1), (1, 256)]
DESCRS = ["<f4", ">f8", "<f8", "<i8", "|b1", "<c16", "|u1", "|O", "<U3", "|V8", "<M8[s]",
          "[('a', '<f8')]", "<f2"]


def pick(members, rng):
    return rng.randrange(len(members)) if members else None


def mutate_npy_header(members, rng):
    i = pick(members, rng)
    if i is None:
        return members
    name, data = members[i]
    shape = rng.choice(SHAPES)
    descr = rng.choice(DESCRS)
    head = npy_preamble(shape, "<f8")
    text = head.replace(b"'<f8'", descr.encode() if descr.startswith("[") else
                        repr(descr).encode())
    if rng.random() < 0.2:
        text = text.replace(b"False", b"True")  # fortran order
    keep = rng.choice([0, len(data) - len(head), rng.randrange(max(len(data), 1))])
    members[i] = (name, text + data[len(head):][:keep])
    return members


def swap_members(members, rng):
    if len(members) >= 2:
        i, j = rng.sample(range(len(members)), 2)
        members[i], members[j] = (members[i][0], members[j][1]), (members[j][0], members[i][1])
    return members


def rename_member(members, rng):
    i = pick(members, rng)
    if i is not None:
        members[i] = (rng.choice(ODD_NAMES), members[i][1])
    return members


def duplicate_member(members, rng):
    i = pick(members, rng)
    if i is not None:
        members.insert(rng.randrange(len(members) + 1), members[i])
    return members


def drop_member(members, rng):
    i = pick(members, rng)
    if i is not None:
        del members[i]
    return members


def edit_header(members, rng):
    for i, (name, data) in enumerate(members):
        if name != "__header__.npy":
            continue
        try:
            header = json.loads(data[128:].decode())
        except ValueError:
            return members
        key = rng.choice(sorted(header) or ["x"])
        header[key] = rng.choice([None, True, -1, 0, 2**70, 1.5, "", "float32", "params",
                                  "checkpoint", "MLPRegressor", [], {}, [3, 5, 2], [2**40, 2],
                                  [32, 256, 8, 8], {"hidden": "relu"}, "x" * 5000])
        text = json.dumps(header).encode()
        members[i] = (name, npy_preamble((len(text),), "|u1") + text)
    return members


def huge_entry(members, rng):
    """Turn the members into raw entries, one claiming a huge size or compressed."""
    entries = [Entry(name, data) for name, data in members]
    if entries:
        entry = rng.choice(entries)
        claim = rng.choice([2**31, 2**32 - 1, len(entry.data) * 2000, len(entry.data) + 1])
        if rng.random() < 0.5:
            entry.file_size = entry.compress_size = claim
        else:
            entry.data, entry.method = deflated(entry.data), DEFLATED
            entry.compress_size = len(entry.data)
            entry.file_size = rng.choice([entry.file_size, claim])
    return zip_bytes(entries)


def flip_bytes(raw, rng):
    raw = bytearray(raw)
    for _ in range(rng.randint(1, 8)):
        # Mostly where the structure is: the first and the last kilobyte.
        at = rng.choice([rng.randrange(min(1024, len(raw))),
                         len(raw) - 1 - rng.randrange(min(1024, len(raw))),
                         rng.randrange(len(raw))])
        raw[at] = rng.randrange(256)
    return bytes(raw)


def truncate(raw, rng):
    return raw[:rng.randrange(len(raw) + 1)]


STRUCTURAL = [mutate_npy_header, swap_members, rename_member, duplicate_member, drop_member,
              edit_header]
RAW = [flip_bytes, truncate]


def mutated(members, choices, rng):
    """The bytes of a file made from ``members`` by the mutations ``choices`` (indices)."""
    members = list(members)
    raw = None
    for choice in choices:
        if choice < len(STRUCTURAL):
            members = STRUCTURAL[choice](members, rng) if raw is None else members
        elif choice == len(STRUCTURAL):
            raw = huge_entry(members, rng) if raw is None else raw
        elif (raw := raw if raw is not None else zip_bytes(
                [Entry(n, d) for n, d in members])):
            raw = RAW[choice - len(STRUCTURAL) - 1](raw, rng)
    return raw if raw is not None else zip_bytes([Entry(n, d) for n, d in members])


N_MUTATIONS = len(STRUCTURAL) + 1 + len(RAW)


# ---- loading: a valid network or ModelFileError, within the memory bound ------------------------

def valid_network(params):
    dims = layer_dims_of(params)
    assert len(dims) >= 2 and len({a.dtype for a in params.values()}) == 1


def check_load(load, path):
    """Load ``path``: the outcome must be a valid network or ModelFileError, within the bound."""
    tracemalloc.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                result = load(path)
            except ModelFileError:
                result = None
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 3 * NETWORK_BYTES + OVERHEAD, f"{peak} bytes to load a file"
    unexpected = [str(w.message) for w in caught if "format 1" not in str(w.message)]
    assert not unexpected, unexpected
    if result is None:
        return "refused"
    valid_network(result)
    return "loaded"


def estimator_or_model_params(path):
    loaded = xpnet.load(path, backend="numpy")
    return loaded.params_ if hasattr(loaded, "params_") else loaded.params


LOADERS = {
    "load_params": lambda path: load_params(path, backend="numpy")[0],
    "xpnet.load": estimator_or_model_params,
    "read_checkpoint": lambda path: read_checkpoint(path, np).params,
}


def check_all_loaders(raw, path):
    """Each loader's outcome on the file ``raw``, written at ``path`` (kept on a failure)."""
    path.write_bytes(raw)
    outcomes = []
    for name, load in LOADERS.items():
        try:
            outcomes.append(check_load(load, path))
        except BaseException as exc:  # name the loader and keep the file for a reproduction
            raise AssertionError(f"{name} on {path}: {type(exc).__name__}: {exc}"[:2000]) from exc
    return outcomes


@pytest.mark.parametrize("kind", ["params", "estimator", "checkpoint"])
def test_mutated_files_load_as_a_network_or_are_refused_within_the_memory_bound(seeds, kind,
                                                                                tmp_path):
    rng = random.Random(f"xpnet-fuzz-{kind}")
    outcomes = []
    for case in range(CASES // 3):
        choices = [rng.randrange(N_MUTATIONS) for _ in range(rng.randint(1, 3))]
        path = tmp_path / f"case-{case}.npz"
        outcomes += check_all_loaders(mutated(seeds[kind], choices, rng), path)
        path.unlink()
    # Both happen, so neither check is vacuous: some mutations are harmless (a swap of two
    # members of one shape, a flipped byte no reader checks) and load.
    assert "refused" in outcomes and "loaded" in outcomes


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["params", "estimator", "checkpoint"]),
       choices=st.lists(st.integers(0, N_MUTATIONS - 1), min_size=1, max_size=4),
       seed=st.integers(0, 2**32 - 1))
def test_hypothesis_mutations_load_as_a_network_or_are_refused(seeds, tmp_path, kind, choices,
                                                               seed):
    check_all_loaders(mutated(seeds[kind], choices, random.Random(seed)), tmp_path / "case.npz")


def test_the_seed_files_load_and_the_memory_check_catches_a_loader_that_reads_too_much(
        seeds, tmp_path):
    natives = {"params": "load_params", "estimator": "xpnet.load", "checkpoint": "read_checkpoint"}
    for kind, members in seeds.items():
        path = tmp_path / f"{kind}.npz"
        path.write_bytes(zip_bytes([Entry(n, d) for n, d in members]))
        assert check_load(LOADERS[natives[kind]], path) == "loaded"

    def greedy(path):  # what the loaders did with a member declaring 16 MiB
        np.ones(2 << 20)
        return load_params(path, backend="numpy")[0]

    with pytest.raises(AssertionError, match="bytes to load a file"):
        check_load(greedy, tmp_path / "params.npz")
