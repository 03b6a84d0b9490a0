"""leafjax.transfer (see module docstrings)."""
