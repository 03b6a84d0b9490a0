"""leafjax.io (see module docstrings)."""
