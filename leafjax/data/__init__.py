"""leafjax.data (see module docstrings)."""
