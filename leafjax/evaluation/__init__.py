"""leafjax.evaluation (see module docstrings)."""
