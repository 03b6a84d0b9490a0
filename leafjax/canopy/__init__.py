"""leafjax.canopy (see module docstrings)."""
