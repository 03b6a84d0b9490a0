"""leafjax.selection (see module docstrings)."""
