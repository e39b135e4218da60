"""Tests of xpnet.estimators, one module per module of the package."""
