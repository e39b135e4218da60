"""Datasets: generators, one_hot/train_test_split, the shipped digits, IDX files, MNIST and
your own tables (read_table).

Everything here is offline: MNIST is served by a tiny fake mirror on 127.0.0.1.
"""

import gzip
import hashlib
import math
import pathlib
import sys

import numpy as np
import pytest

import xpnet
from xpnet.datasets import (DataFileError, load_digits, load_mnist, make_blobs, make_moons,
                            make_spirals, one_hot, read_idx, read_table,
                            train_test_split)
from xpnet.datasets import digits as digits_module
from xpnet.datasets import mnist as mnist_module

from conftest import idx_bytes, write_idx

DATA_DIR = pathlib.Path(xpnet.__file__).parent / "datasets" / "data"

MULTICLASS = [
    pytest.param(make_spirals, {"n_samples": 301, "n_classes": 4}, (2, 301), 4, id="spirals"),
    pytest.param(make_blobs, {"n_samples": 301, "n_classes": 4, "n_features": 5}, (5, 301), 4,
                 id="blobs"),
]
GENERATORS = [make_moons, make_spirals, make_blobs]


# ---- generators ---------------------------------------------------------------------------

def test_make_moons_output_is_unchanged():
    # Pinned before make_moons moved into the datasets package.
    X, Y = make_moons()
    assert X.shape == (2, 400) and Y.shape == (1, 400)
    np.testing.assert_allclose(X[:, :3], [[0.8355831502360624, 1.1936815662475266, 0.3227082107164582],
                                          [-0.3074505708544337, -0.22572552922261552,
                                           -0.23932364160779648]], rtol=1e-12)
    np.testing.assert_array_equal(Y[0, :8], [1, 1, 1, 0, 0, 0, 1, 0])


@pytest.mark.parametrize("make, kwargs, x_shape, n_classes", MULTICLASS)
def test_multiclass_generators_give_float64_one_hot_columns(make, kwargs, x_shape, n_classes):
    X, Y = make(**kwargs)
    assert X.shape == x_shape and Y.shape == (n_classes, x_shape[1])
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert set(np.unique(Y)) == {0.0, 1.0}
    np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
    # 301 samples in 4 classes: as equal as possible.
    assert sorted(Y.sum(axis=1)) == [75, 75, 75, 76]


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_shuffle_the_samples(make):
    _, Y = make()
    labels = Y.argmax(axis=0) if Y.shape[0] > 1 else Y[0]
    assert np.any(np.diff(labels) < 0), "samples are still grouped by class"


@pytest.mark.parametrize("make", GENERATORS)
def test_generators_are_deterministic_by_seed(make):
    X1, Y1 = make(seed=7)
    X2, Y2 = make(seed=7)
    X3, _ = make(seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(Y1, Y2)
    assert not np.array_equal(X1, X3)


@pytest.mark.parametrize("make", GENERATORS)
@pytest.mark.parametrize("seed", [0, None])
def test_generators_leave_numpys_global_random_state_alone(make, seed):
    np.random.seed(1234)
    before = np.random.get_state()
    make(seed=seed)
    after = np.random.get_state()
    assert before[0] == after[0] and before[2:] == after[2:]
    np.testing.assert_array_equal(before[1], after[1])


def test_spiral_arms_grow_from_the_origin_to_radius_one():
    X, Y = make_spirals(n_samples=300, n_classes=3, noise=0.0)
    radius = np.hypot(X[0], X[1])
    assert radius.min() == 0.0 and radius.max() == pytest.approx(1.0)
    # Without noise the arms are 2*pi/3 apart: at radius 1 each ends at its own angle.
    ends = np.arctan2(X[0], X[1])[np.isclose(radius, 1.0)]
    assert len(np.unique(np.round(ends, 6))) == 3


def test_blobs_scatter_around_one_centre_per_class_with_the_given_spread():
    X0, Y0 = make_blobs(n_samples=30, n_classes=3, n_features=4, spread=0.0)
    for k in range(3):
        points = X0[:, Y0[k] == 1]
        np.testing.assert_array_equal(points, points[:, :1].repeat(points.shape[1], axis=1))
        assert np.all(np.abs(points) <= 10)
    X, Y = make_blobs(n_samples=6000, n_classes=3, n_features=2, spread=0.5)
    for k in range(3):
        assert X[:, Y[k] == 1].std(axis=1) == pytest.approx([0.5, 0.5], rel=0.1)


@pytest.mark.parametrize("call, error, match", [
    (lambda: make_spirals(n_classes=1), ValueError, "n_classes must be an int >= 2"),
    (lambda: make_spirals(n_samples=2, n_classes=3), ValueError, "n_samples must be an int >= 3"),
    (lambda: make_spirals(noise=float("nan")), ValueError, "noise must be a finite number"),
    (lambda: make_spirals(noise="0.1"), TypeError, "noise must be a number"),
    (lambda: make_blobs(n_samples=2.5), TypeError, "n_samples must be an int"),
    (lambda: make_blobs(n_features=0), ValueError, "n_features must be an int >= 1"),
    (lambda: make_blobs(spread=-1.0), ValueError, "spread must be a finite number >= 0"),
    (lambda: make_blobs(n_classes=True), TypeError, "n_classes must be an int"),
    (lambda: make_blobs(seed=-1), ValueError, "seed must be an int"),
])
def test_generators_reject_bad_arguments_by_name(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- one_hot --------------------------------------------------------------------------------

def test_one_hot_puts_a_one_in_each_samples_class_row():
    encoded = one_hot([2, 0, 1, 2])
    assert encoded.dtype == np.float64
    np.testing.assert_array_equal(encoded, [[0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 0, 1]])


def test_one_hot_accepts_a_label_row_whole_floats_and_spare_classes():
    np.testing.assert_array_equal(one_hot(np.array([[1.0, 0.0]]), n_classes=4),
                                  [[0, 1], [1, 0], [0, 0], [0, 0]])
    assert one_hot([], n_classes=3).shape == (3, 0)


def test_one_hot_inverts_argmax():
    labels = np.random.RandomState(0).randint(10, size=50)
    np.testing.assert_array_equal(one_hot(labels, 10).argmax(axis=0), labels)


@pytest.mark.parametrize("labels, n_classes, error, match", [
    ([0, -1], None, ValueError, "labels must be class indices >= 0"),
    ([0, 1.5], None, ValueError, "whole numbers"),
    ([0, float("nan")], None, ValueError, "whole numbers"),
    ([[0, 1], [1, 0]], None, ValueError, "1-D sequence of class indices"),
    (["a", "b"], None, TypeError, "integer class indices"),
    ([True, False], None, TypeError, "integer class indices"),
    ([0, 3], 3, ValueError, "labels contain class 3 but n_classes is 3"),
    ([0, 1], 0, ValueError, "n_classes must be an int >= 1"),
    ([0, 1], 2.0, TypeError, "n_classes must be an int"),
    ([], None, ValueError, "pass n_classes"),
])
def test_one_hot_rejects_bad_labels(labels, n_classes, error, match):
    with pytest.raises(error, match=match):
        one_hot(labels, n_classes)


# ---- train_test_split -----------------------------------------------------------------------

def test_train_test_split_partitions_the_columns_and_keeps_x_and_y_aligned():
    ids = np.arange(10.0)
    X = np.stack([ids, -ids])
    Y = ids[np.newaxis, :] * 10
    X_train, Y_train, X_test, Y_test = train_test_split(X, Y, test_fraction=0.3, seed=1)
    assert X_train.shape == (2, 7) and Y_train.shape == (1, 7)
    assert X_test.shape == (2, 3) and Y_test.shape == (1, 3)
    assert sorted(np.concatenate([X_train[0], X_test[0]])) == list(ids)
    np.testing.assert_array_equal(Y_train[0], X_train[0] * 10)
    np.testing.assert_array_equal(Y_test[0], X_test[0] * 10)
    np.testing.assert_array_equal(X_train[1], -X_train[0])


def test_train_test_split_is_random_but_repeatable_by_seed():
    X, Y = make_moons(n_samples=50)
    first = train_test_split(X, Y, seed=3)
    again = train_test_split(X, Y, seed=3)
    other = train_test_split(X, Y, seed=4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[2], other[2])
    assert not np.array_equal(first[0], X[:, :40]), "the split must not just cut the columns"


def test_train_test_split_keeps_arrays_on_their_backend(xp):
    X_host, Y_host = make_blobs(n_samples=20, n_classes=2)
    X, Y = xpnet.asarray(X_host, backend=xp), xpnet.asarray(Y_host, backend=xp)
    parts = train_test_split(X, Y, test_fraction=0.25, seed=5)
    expected = train_test_split(X_host, Y_host, test_fraction=0.25, seed=5)
    for part, want in zip(parts, expected):
        assert type(part) is type(X)
        np.testing.assert_array_equal(xpnet.to_numpy(part), want)


def test_train_test_split_accepts_lists():
    X_train, Y_train, X_test, Y_test = train_test_split([[1, 2, 3, 4]], [[0, 1, 0, 1]], 0.5)
    assert isinstance(X_train, np.ndarray) and X_train.shape == (1, 2) and Y_test.shape == (1, 2)


@pytest.mark.parametrize("X, Y, fraction, error, match", [
    (np.zeros(5), np.zeros((1, 5)), 0.2, ValueError, "X must be 2-D"),
    (np.zeros((2, 5)), np.zeros(5), 0.2, ValueError, r"Y must be 2-D.*reshape\(1, -1\)"),
    (np.zeros((2, 5)), np.zeros((1, 4)), 0.2, ValueError, "X has 5 columns .* but Y has 4"),
    (np.zeros((2, 5)), np.zeros((1, 5)), 0.0, ValueError, "test_fraction must be between 0 and 1"),
    (np.zeros((2, 5)), np.zeros((1, 5)), 1.0, ValueError, "test_fraction must be between 0 and 1"),
    (np.zeros((2, 5)), np.zeros((1, 5)), "0.2", TypeError, "test_fraction must be a number"),
    (np.zeros((2, 4)), np.zeros((1, 4)), 0.1, ValueError, "gives 0 test and 4 training"),
    (np.zeros((2, 4)), np.zeros((1, 4)), 0.9, ValueError, "gives 4 test and 0 training"),
])
def test_train_test_split_rejects_bad_arguments(X, Y, fraction, error, match):
    with pytest.raises(error, match=match):
        train_test_split(X, Y, fraction)


# ---- load_digits ------------------------------------------------------------------------------

def test_load_digits_gives_scaled_pixels_and_one_hot_labels():
    X, Y = load_digits()
    assert X.shape == (64, 1797) and Y.shape == (10, 1797)
    assert X.dtype == np.float64 and Y.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(X * 16, np.round(X * 16))
    np.testing.assert_array_equal(Y.sum(axis=0), 1.0)
    # Class sizes of the UCI test set, as its documentation lists them.
    np.testing.assert_array_equal(Y.sum(axis=1), [178, 182, 177, 183, 181, 182, 181, 179, 174, 180])


def test_load_digits_matches_scikit_learns_copy():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    reference = sklearn_datasets.load_digits()
    X, Y = load_digits()
    np.testing.assert_array_equal(X.T * 16, reference.data)
    np.testing.assert_array_equal(Y.argmax(axis=0), reference.target)


def test_load_digits_refuses_a_damaged_file(monkeypatch):
    raw = bytearray((DATA_DIR / "digits.csv.gz").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    monkeypatch.setattr(digits_module, "_read_packaged", lambda name: bytes(raw))
    with pytest.raises(DataFileError, match=r"digits\.csv\.gz is damaged.*reinstall xpnet"):
        load_digits()


def test_the_shipped_digits_file_has_the_checksum_its_readme_records():
    digest = hashlib.sha256((DATA_DIR / "digits.csv.gz").read_bytes()).hexdigest()
    assert digest == digits_module.DIGITS_SHA256
    assert digest in (DATA_DIR / "README.md").read_text(encoding="utf-8")


# ---- read_idx ---------------------------------------------------------------------------------

@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gz"])
def test_read_idx_reads_uint8_images_and_labels(tmp_path, compress):
    images = np.arange(3 * 4 * 5, dtype=np.uint8).reshape(3, 4, 5)
    labels = np.array([7, 0, 9], dtype=np.uint8)
    suffix = ".gz" if compress else ""
    got_images = read_idx(write_idx(tmp_path / f"images-idx3-ubyte{suffix}", images, compress))
    got_labels = read_idx(str(write_idx(tmp_path / f"labels-idx1-ubyte{suffix}", labels, compress)))
    assert got_images.dtype == np.uint8 and got_images.shape == (3, 4, 5)
    np.testing.assert_array_equal(got_images, images)
    np.testing.assert_array_equal(got_labels, labels)
    got_images[0, 0, 0] = 1  # the result is the caller's own, writable array


@pytest.mark.parametrize("dtype", ["int8", "int16", "int32", "float32", "float64"])
def test_read_idx_decodes_big_endian_values_to_native_order(tmp_path, dtype):
    values = (np.arange(-6, 6).reshape(2, 6) * 37).astype(dtype)
    got = read_idx(write_idx(tmp_path / "values.idx", values))
    assert got.dtype == np.dtype(dtype) and got.dtype.isnative
    np.testing.assert_array_equal(got, values)


@pytest.mark.parametrize("content, match", [
    (b"", "not an IDX file"),
    (b"P5\n28 28\n255\n", "not an IDX file"),
    (bytes([0, 0, 0x08]), "truncated IDX header"),
    (bytes([0, 0, 0x08, 3, 0, 0, 0, 2]), "truncated IDX header"),
    (bytes([0, 0, 0x0A, 1, 0, 0, 0, 2, 1, 2]), "unknown IDX dtype code 0x0A"),
    (bytes([0, 0, 0x08, 0]), "0 dimensions"),
    (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], r"truncated IDX data.*needs 6 bytes.*has 5"),
    (idx_bytes(np.zeros(4, np.int32))[:-2], "truncated IDX data"),
    (idx_bytes(np.zeros(4, np.uint8)) + b"\x00", "1 unexpected bytes after the IDX data"),
    (gzip.compress(idx_bytes(np.zeros(100, np.uint8)))[:-10], "damaged gzip data"),
])
def test_read_idx_names_the_file_and_the_problem(tmp_path, content, match):
    path = tmp_path / "broken-idx1-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DataFileError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


def test_read_idx_errors_for_a_missing_file_or_a_non_path(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "missing.idx")
    with pytest.raises(TypeError, match="path must be a file path"):
        read_idx(3)


# ---- load_mnist -------------------------------------------------------------------------------

def test_load_mnist_downloads_once_then_reads_the_cache(mnist_mirror, tmp_path):
    pytest.importorskip("pooch")
    arrays = mnist_mirror.arrays
    cache = tmp_path / "cache"
    X_train, Y_train, X_test, Y_test = load_mnist(cache_dir=cache)
    assert sorted(mnist_mirror.requests) == sorted(f"/{name}" for name in arrays)
    assert X_train.shape == (784, 6) and Y_train.shape == (10, 6)
    assert X_test.shape == (784, 3) and Y_test.shape == (10, 3)
    assert X_train.dtype == np.float64 and Y_train.dtype == np.float64
    np.testing.assert_allclose(X_train[:, 1], arrays["train-images-idx3-ubyte.gz"][1].ravel() / 255)
    np.testing.assert_array_equal(Y_test.argmax(axis=0), [7, 2, 1])
    assert sorted(p.name for p in cache.iterdir()) == sorted(arrays)

    again = load_mnist(cache_dir=cache)
    assert len(mnist_mirror.requests) == 4, "the second call must read the cache, not the network"
    for a, b in zip((X_train, Y_train, X_test, Y_test), again):
        np.testing.assert_array_equal(a, b)


def test_load_mnist_caches_under_poochs_user_cache_by_default(mnist_mirror, tmp_path, monkeypatch):
    pooch = pytest.importorskip("pooch")
    monkeypatch.setattr(pooch, "os_cache", lambda project: tmp_path / "user-cache" / project)
    load_mnist()
    assert sorted(p.name for p in (tmp_path / "user-cache" / "xpnet" / "mnist").iterdir()) == \
        sorted(mnist_mirror.arrays)


def test_load_mnist_refuses_a_download_with_the_wrong_checksum_and_caches_nothing(
        mnist_mirror, tmp_path, monkeypatch):
    pytest.importorskip("pooch")
    monkeypatch.setitem(mnist_mirror.hashes, "train-images-idx3-ubyte.gz", hashlib.sha256(b"other").hexdigest())
    cache = tmp_path / "cache"
    with pytest.raises(DataFileError, match=r"train-images-idx3-ubyte\.gz.*pinned SHA-256.*"
                                            r"nothing was cached"):
        load_mnist(cache_dir=cache)
    assert not cache.exists() or [p for p in cache.rglob("*") if p.is_file()] == []


def test_load_mnist_checks_what_the_files_contain(mnist_mirror, tmp_path, monkeypatch):
    pytest.importorskip("pooch")
    name = "t10k-labels-idx1-ubyte.gz"
    bad = write_idx(mnist_mirror.root / name, np.array([7, 10, 1], np.uint8), compress=True)
    monkeypatch.setitem(mnist_mirror.hashes, name, hashlib.sha256(bad.read_bytes()).hexdigest())
    with pytest.raises(DataFileError, match=r"t10k-labels-idx1-ubyte\.gz: expected 3 uint8 labels 0\.\.9"):
        load_mnist(cache_dir=tmp_path / "cache")


def test_load_mnist_without_pooch_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pooch", None)  # makes `import pooch` fail
    with pytest.raises(ImportError, match=r'pip install "xpnet\[mnist\]"'):
        load_mnist()


def test_the_pinned_mnist_checksums_cover_the_four_files():
    assert sorted(mnist_module.MNIST_SHA256) == sorted([
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"])
    for digest in mnist_module.MNIST_SHA256.values():
        assert len(digest) == 64 and int(digest, 16) >= 0


@pytest.mark.parametrize("m, test_fraction, seed", [
    (10, 0.2, 0), (100, 0.25, 7), (1797, 0.2, 0), (1797, 0.2, 42), (33, 0.3, 5), (33, 0.41, 1)])
def test_train_test_split_holds_out_scikit_learns_samples_up_to_its_rounding(m, test_fraction, seed):
    sklearn_split = pytest.importorskip("sklearn.model_selection").train_test_split
    samples = np.arange(m)
    X_train, _, X_test, _ = train_test_split(samples[np.newaxis, :], samples[np.newaxis, :],
                                             test_fraction=test_fraction, seed=seed)
    their_train, their_test = sklearn_split(samples, test_size=test_fraction, random_state=seed)
    ours_test, ours_train = X_test[0], X_train[0]
    if round(test_fraction * m) == math.ceil(test_fraction * m):
        np.testing.assert_array_equal(ours_test, their_test)
        np.testing.assert_array_equal(ours_train, their_train)
    else:  # scikit-learn takes the ceiling: one sample more, the first of xpnet's training part
        np.testing.assert_array_equal(their_test, np.append(ours_test, ours_train[0]))
        np.testing.assert_array_equal(their_train, ours_train[1:])


# ---- your own tables ---------------------------------------------------------------------------

def test_read_table_refuses_a_header_that_names_a_column_twice(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("x,b,x,kind\n1,2,3,yes\n4,5,6,no\n")
    with pytest.raises(DataFileError, match=r"dup\.csv: the header row names the columns "
                                            r"\['x'\] more than once; give each column"):
        read_table(path)


def test_read_table_says_when_a_csv_has_no_header_row(tmp_path):
    path = tmp_path / "bare.csv"
    path.write_text("-3,1.5,2,0\n4,5,6,1\n")  # its first sample would be taken for names
    with pytest.raises(DataFileError, match=r"bare\.csv: the first row holds numbers "
                                            r"\(-3, 1\.5, 2, 0\), not column names"):
        read_table(path)
    path.write_text("a,2,c,kind\n1,2,3,0\n4,5,6,1\n")  # a name that is a number: fine
    assert read_table(path).features == ["a", "2", "c"]
    path.write_text("0,1,2,3\n1,2,3,0\n4,5,6,1\n")  # pandas' names for unnamed columns
    table = read_table(path, "3")
    assert (table.features, table.target, table.X.shape) == (["0", "1", "2"], "3", (2, 3))


def test_read_table_refuses_a_blank_label_naming_its_line(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text("a,b,kind\n1,2,yes\n3,4, \n5,6,no\n")
    with pytest.raises(DataFileError, match=r"blank\.csv, line 3: the target column 'kind' "
                                            r"is blank; fill in the label or remove the row"):
        read_table(path)
    # Predicting needs no labels: rows whose label is still to be found are read.
    table = read_table(path, "kind", features=["a", "b"], need_target=False)
    assert table.y is None and table.X.tolist() == [[1, 2], [3, 4], [5, 6]]


def test_read_table_reads_a_csv_that_starts_with_a_byte_order_mark(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("petal,sepal,species\n1,2,setosa\n3,4,virginica\n".encode("utf-8-sig"))
    table = read_table(path)
    assert table.features == ["petal", "sepal"] and table.target == "species"
    assert table.X.tolist() == [[1, 2], [3, 4]] and table.y.tolist() == ["setosa", "virginica"]
