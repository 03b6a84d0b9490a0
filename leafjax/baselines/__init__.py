"""leafjax.baselines (see module docstrings)."""
