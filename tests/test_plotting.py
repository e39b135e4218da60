"""plot_history draws real image files, and says how to install matplotlib when it is missing."""

import sys

import pytest

import xpnet
from xpnet.datasets import make_moons
from xpnet.plotting import plot_history


@pytest.fixture(scope="module")
def history():
    X, Y = make_moons(100, seed=0)
    return xpnet.fit(X, Y, [2, 4, 1], epochs=5, lr=0.1, validation_split=0.2, verbose=0)[1]


def test_plot_history_writes_a_png(tmp_path, history):
    pytest.importorskip("matplotlib")
    path = plot_history(history, tmp_path / "curves.png")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_plot_history_accepts_a_plain_dict_and_other_formats(tmp_path, history):
    pytest.importorskip("matplotlib")
    path = plot_history(history.as_dict(), tmp_path / "curves.svg")
    assert b"<svg" in path.read_bytes()[:1000]


def test_plot_history_needs_a_loss(tmp_path):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match="history has no recorded loss"):
        plot_history({"loss": []}, tmp_path / "x.png")


def test_plot_history_refuses_a_suffix_of_no_image_format(tmp_path, history):
    pytest.importorskip("matplotlib")
    with pytest.raises(ValueError, match=r"out\.txt: matplotlib cannot draw a 'txt' file; give "
                                         r"a path ending in one of .*\.png"):
        plot_history(history, tmp_path / "out.txt")
    assert not list(tmp_path.iterdir())


def test_missing_matplotlib_gives_the_install_command(tmp_path, history, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install "xpnet\[plot\]"'):
        plot_history(history, tmp_path / "curves.png")


@pytest.mark.parametrize("loss, log", [([100.0, 1.0, 0.5], True), ([1.0, 0.5, 0.02], False)])
def test_the_loss_axis_is_logarithmic_when_the_loss_spans_more_than_two_decades(
        tmp_path, monkeypatch, loss, log):
    axes_module = pytest.importorskip("matplotlib.axes")
    scales = []
    original = axes_module.Axes.set_yscale
    monkeypatch.setattr(axes_module.Axes, "set_yscale",
                        lambda self, value, **kw: (scales.append(value), original(self, value, **kw)))
    xpnet.plot_history({"loss": loss, "val_loss": [2.0, 1.0, 0.9]}, tmp_path / "c.png")
    assert scales == (["log"] if log else [])
