"""xpnet's benchmark suite: ``python -m benchmarks --help``."""
