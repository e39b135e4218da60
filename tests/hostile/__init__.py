"""The hostile-input suite (see conftest.py)."""
