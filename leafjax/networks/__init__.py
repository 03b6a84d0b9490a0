"""leafjax.networks (see module docstrings)."""
