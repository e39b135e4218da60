"""MNIST, downloaded once with the optional package ``pooch`` and cached.

The four files are the original gzip-compressed IDX files of LeCun, Cortes and
Burges, fetched from a public mirror and checked against SHA-256 sums pinned
here, so a changed or damaged download is refused rather than trained on.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import numpy as np

from ._common import DataFileError, check_path
from .idx import read_idx
from .preprocessing import one_hot

URL_ENV_VAR = "XPNET_MNIST_URL"
DEFAULT_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"
"""The mirror torchvision uses; override it with the ``XPNET_MNIST_URL`` environment variable."""

INSTALL_HINT = 'load_mnist downloads with the optional package pooch; install it: pip install "xpnet[mnist]"'

# SHA-256 of the original .gz files (9912422, 28881, 1648877 and 4542 bytes), as pinned by
# tensorflow_datasets (tensorflow_datasets/url_checksums/mnist.txt, Google's mirror) and by
# torchvision-ruby (the LeCun and ossci mirrors): every mirror serves the same bytes.
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

DOWNLOAD_TIMEOUT = 30.0
"""Seconds to wait for a mirror to connect, and then for each next piece of a file."""
MAX_DOWNLOAD_BYTES = 64 << 20
"""A download that grows past this is stopped: the largest MNIST file is 9.9 MB."""

_N_CLASSES = 10


def _download(url: str, output_file: str, pooch: Any) -> None:
    """pooch's downloader for http(s) mirrors, with a timeout and a size cap, that closes
    the connection whatever happens (pooch's own leaves it open when a transfer fails)."""
    import requests

    with requests.get(url, timeout=DOWNLOAD_TIMEOUT, stream=True) as response, \
            open(output_file, "wb") as file:
        response.raise_for_status()
        size = 0
        for chunk in response.iter_content(chunk_size=1 << 16):
            size += len(chunk)
            if size > MAX_DOWNLOAD_BYTES:
                raise DataFileError(f"{url} sends more than {MAX_DOWNLOAD_BYTES} bytes, more "
                                    "than any MNIST file; nothing was cached. Point "
                                    f"{URL_ENV_VAR} at an MNIST mirror")
            file.write(chunk)


def _fetch(pooch: Any, name: str, base_url: str, cache_dir: Any) -> str:
    url = base_url + name
    downloader = _download if url.lower().startswith(("http://", "https://")) else None
    try:
        return pooch.retrieve(url, known_hash=f"sha256:{MNIST_SHA256[name]}", fname=name,
                              path=cache_dir, downloader=downloader)
    except DataFileError:
        raise
    except ValueError as exc:
        # pooch raises ValueError on a hash mismatch (after deleting the download), and
        # for a URL it cannot download from (an unknown scheme).
        if "hash" not in str(exc):
            raise ValueError(f"cannot download {url} ({exc}); set {URL_ENV_VAR} to the "
                             "http:// or https:// address of an MNIST mirror, or unset it "
                             "to use the default one") from exc
        raise DataFileError(f"{url}: the download does not match the pinned SHA-256 "
                            f"({exc}); nothing was cached. Try again, or point "
                            f"{URL_ENV_VAR} at another MNIST mirror") from exc
    except OSError as exc:  # requests' connection errors are OSErrors too
        raise OSError(f"could not download {url} into {cache_dir} ({exc}); check the network "
                      f"connection and that the cache directory is writable, or point "
                      f"{URL_ENV_VAR} at a reachable MNIST mirror") from exc


def _checked_cache_dir(cache_dir: Path) -> Path:
    """``cache_dir``, which must be a directory or not exist yet (it is created then)."""
    if cache_dir.exists() and not cache_dir.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cache_dir {cache_dir} is not a directory; pass "
                                 "the directory to cache MNIST in (it is created if missing)")
    return cache_dir


def _read_pair(images_path: str, labels_path: str) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise DataFileError(f"{images_path}: expected uint8 images (n, rows, cols), "
                            f"got {images.dtype} of shape {images.shape}")
    if labels.shape != images.shape[:1] or labels.dtype != np.uint8 or \
            (labels.size and labels.max() >= _N_CLASSES):
        raise DataFileError(f"{labels_path}: expected {images.shape[0]} uint8 labels 0..9, "
                            f"got {labels.dtype} of shape {labels.shape}")
    X = np.ascontiguousarray(images.reshape(images.shape[0], -1).T, dtype=np.float64) / 255.0
    return X, one_hot(labels, _N_CLASSES)


def load_mnist(*, cache_dir: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """MNIST as ``(X_train, Y_train, X_test, Y_test)`` in the tutorial's layout.

    ``X`` is float64 ``(784, m)`` in ``[0, 1]`` (pixel / 255), ``Y`` one-hot
    ``(10, m)``; 60000 training and 10000 test samples. The files (about 11 MB)
    are downloaded on first use into ``cache_dir`` (default: pooch's user cache,
    ``pooch.os_cache("xpnet")/mnist``), checked against pinned SHA-256 sums and
    read from there afterwards. Needs ``pip install "xpnet[mnist]"``.

    Raises ``OSError`` when a file cannot be downloaded (saying to check the network or
    ``XPNET_MNIST_URL``), :class:`DataFileError` for a download that fails its checksum or
    its size cap (nothing is cached then), and ``NotADirectoryError``/``TypeError`` for a
    bad ``cache_dir``. A cached file that fails its checksum is downloaded again.
    """
    try:
        import pooch
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    if cache_dir is None:
        cache_dir = pooch.os_cache("xpnet") / "mnist"
    else:
        cache_dir = check_path(cache_dir, "cache_dir")
    cache_dir = _checked_cache_dir(Path(cache_dir))
    base_url = os.environ.get(URL_ENV_VAR, "").strip() or DEFAULT_URL
    if not base_url.endswith("/"):
        base_url += "/"
    paths = {name: _fetch(pooch, name, base_url, cache_dir) for name in MNIST_SHA256}
    X_train, Y_train = _read_pair(paths["train-images-idx3-ubyte.gz"], paths["train-labels-idx1-ubyte.gz"])
    X_test, Y_test = _read_pair(paths["t10k-images-idx3-ubyte.gz"], paths["t10k-labels-idx1-ubyte.gz"])
    return X_train, Y_train, X_test, Y_test
