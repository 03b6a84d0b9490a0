"""leafjax.preprocessing (see module docstrings)."""
