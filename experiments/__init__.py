"""Reproducible experiments (thin scripts over the leafjax library)."""
