#!/usr/bin/env bash
# The checks that need a CUDA GPU, for a machine that has one, with xpnet's test extra and
# CuPy installed (PyTorch too, for its CUDA column). CI runs on a CPU and cannot run them.
#
#   ci/gpu-checks.sh tests              # the tests marked gpu (skipped everywhere else); the
#                                       # NCCL ones (tests/test_distributed/test_nccl.py) also
#                                       # need mpi4py and mpich: pip install -e ".[mpi]"
#   ci/gpu-checks.sh timings            # GPU timings and peak memory -> benchmarks/results/gpu.*
#   ci/gpu-checks.sh timings-tf32       # the same timings with TF32 on (xpnet.allow_tf32)
#                                       # -> benchmarks/results/gpu-tf32.*
#   ci/gpu-checks.sh widest [OPT ...]   # widest-network sweeps, with the optimizers named
#                                       # (sgd momentum adam; default sgd) -> gpu-widest-OPT.*
#   ci/gpu-checks.sh breakdown [W ...]  # where a step's time goes at width W (default 4096)
#                                       # -> breakdown-cupy-W.*
#
# Run the stages one at a time where GPU time is short.
#
# Benchmarks run with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so NumPy's OpenBLAS picks
# its native kernel for the CPU reference rows.
set -euo pipefail
cd "$(dirname "$0")/.."

python - <<'EOF'
import sys
import xpnet
from xpnet import backend
if not xpnet.gpu_available():
    sys.exit(f"no usable GPU here: {backend._cupy_problem()}")
EOF

bench() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks "$@"; }

stage=${1:-}
[ $# -gt 0 ] && shift
case "$stage" in
    tests)
        if python -c "import pytest_timeout" 2>/dev/null; then
            python -m pytest -m gpu -q -p no:cacheprovider
        else  # tests/hostile needs pytest-timeout (its hang limit); the rest runs without it
            echo "pytest-timeout is not installed: tests/hostile is left out" >&2
            python -m pytest -m gpu -q -p no:cacheprovider --ignore=tests/hostile
        fi ;;
    timings) bench --backend cupy --config gpu-sweep --dtype float32 --repeat 5 --name gpu ;;
    timings-tf32) bench --backend cupy --config gpu-sweep --dtype float32 --repeat 5 --tf32 \
                        --name gpu-tf32 ;;
    widest)
        optimizers=("${@:-sgd}")
        bench --backend cupy --config widest --dtype float32 --no-memory \
              --widest-optimizers "${optimizers[@]}" --name "gpu-widest-$(IFS=-; echo "${optimizers[*]}")" ;;
    breakdown)
        for width in "${@:-4096}"; do
            env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python -m benchmarks.breakdown \
                --backend cupy --width "$width"
        done ;;
    *) echo "usage: ci/gpu-checks.sh tests | timings | timings-tf32 | widest [sgd] [momentum] [adam] | breakdown [W ...]" >&2
       exit 2 ;;
esac
