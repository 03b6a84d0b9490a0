"""Composable preprocessing of leaf spectra; every step returns ``(result, StepReport)``."""
