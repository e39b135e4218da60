"""The test run's own summary: failures listed, skips grouped by reason, pytest's counts last."""

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

SAMPLE_TESTS = '''
import pytest

@pytest.mark.parametrize("i", range(3))
def test_without_a_gpu(i):
    pytest.skip("no usable GPU here")

@pytest.mark.parametrize("i", range(2))
def test_without_jax(i):
    pytest.skip("jax backend unavailable")

def test_passes():
    pass

def test_fails():
    assert 1 == 2
'''

# The sample project uses this repository's test configuration and its terminal summary hook.
SAMPLE_CONFTEST = f'''
import importlib.util

_spec = importlib.util.spec_from_file_location("xpnet_tests_conftest",
                                               {str(ROOT / "tests" / "conftest.py")!r})
_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_conftest)
pytest_terminal_summary = _conftest.pytest_terminal_summary
'''


def test_skips_are_counted_by_reason_and_failures_listed(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE_TESTS)
    (tmp_path / "conftest.py").write_text(SAMPLE_CONFTEST)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-c", str(ROOT / "pyproject.toml"),
         "--rootdir", str(tmp_path), str(tmp_path)],
        capture_output=True, text=True, timeout=120, cwd=tmp_path)
    lines = result.stdout.splitlines()
    assert result.returncode == 1
    assert "    3 x no usable GPU here" in lines and "    2 x jax backend unavailable" in lines
    assert not any(line.startswith("SKIPPED [") for line in lines)  # not one line per test
    assert any(line.startswith("FAILED ") and "test_fails" in line for line in lines)
    assert "1 failed, 1 passed, 5 skipped" in lines[-1]  # pytest's closing line, which CI reads
