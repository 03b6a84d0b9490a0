"""leafjax.fusion (see module docstrings)."""
