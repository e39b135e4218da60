"""The README's examples are real code: each Python block runs here."""

import pathlib
import re
import textwrap

import pytest

import xpnet

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)
GPU_MARK = "# needs a CUDA GPU"
MPI_MARK = "# run with: mpiexec"  # run by tests/test_distributed on real ranks, not here


def test_readme_has_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.filterwarnings("error::xpnet.ConvergenceWarning")  # every example learns
@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index):
    code = textwrap.dedent(BLOCKS[index])  # a block inside a list item is indented
    if code.startswith(GPU_MARK) and not xpnet.gpu_available():
        pytest.skip("README example needs a CUDA GPU")
    if code.startswith(MPI_MARK):
        pytest.skip("README example for several processes: tests/test_distributed runs it")
    exec(compile(code, f"README.md python block {index}", "exec"), {})


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```bash\n(.*?)\n```", README)
    test_command = next(c for c in commands if "pytest" in c)
    script_lines = [line.strip() for line in (ROOT / "ci" / "run-tests.sh").read_text().splitlines()]
    assert any(test_command in line for line in script_lines if not line.startswith("#"))
