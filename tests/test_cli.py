"""The command line, run the way a user runs it."""

import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "xpnet", *args], capture_output=True, text=True,
                          timeout=120)


def test_demo_trains_and_reports_accuracy():
    result = run("demo", "--epochs", "400", "--samples", "200")
    assert result.returncode == 0, result.stderr
    assert "numpy backend" in result.stdout
    accuracy = float(result.stdout.split("test accuracy ")[1].split("%")[0])
    assert accuracy > 85


def test_demo_on_an_unknown_backend_fails_in_one_line():
    result = run("demo", "--backend", "tensorflow")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "unknown backend 'tensorflow'; valid names are numpy" in result.stderr


def test_bad_option_value_exits_with_usage():
    result = run("demo", "--epochs", "0")
    assert result.returncode == 2 and "usage:" in result.stderr and "must be >= 1" in result.stderr


def test_info_lists_the_backends():
    result = run("info")
    assert result.returncode == 0
    assert "numpy             usable" in result.stdout
    assert "cupy" in result.stdout


def test_help_describes_every_command():
    result = run("--help")
    assert result.returncode == 0 and "demo" in result.stdout and "info" in result.stdout
