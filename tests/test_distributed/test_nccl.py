"""The NCCL path: CuPy arrays summed on the GPUs (needs CUDA GPUs, CuPy with NCCL, MPI)."""

from __future__ import annotations

import json

import pytest

import xpnet

from .conftest import needs_mpi, run_ranks

pytestmark = [pytest.mark.gpu, needs_mpi, pytest.mark.timeout(300)]


def _gpu_count() -> int:
    if not xpnet.gpu_available():
        pytest.skip("no usable GPU")
    import cupy

    return cupy.cuda.runtime.getDeviceCount()


@pytest.mark.parametrize("ranks", [1, 2])
def test_fit_on_gpu_ranks_through_nccl_equals_one_gpu(ranks, tmp_path):
    if _gpu_count() < ranks:
        pytest.skip(f"needs {ranks} GPUs")
    out = tmp_path / "result.json"
    done, _ = run_ranks(ranks, "nccl_worker.py", str(out), timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(out.read_text())
    assert result["transport"] == "NcclTransport"
    assert result["difference"] < 1e-12, result
