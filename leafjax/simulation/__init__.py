"""leafjax.simulation (see module docstrings)."""
