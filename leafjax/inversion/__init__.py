"""leafjax.inversion (see module docstrings)."""
