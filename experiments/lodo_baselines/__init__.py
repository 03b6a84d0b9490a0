"""LODO evaluation of the PLSR and trait-mean baselines."""
