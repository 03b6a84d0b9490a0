"""Embedded demo data (see README.md); loaded by :func:`leafjax.data.load_demo`."""
