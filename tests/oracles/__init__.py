"""Hand-derived gradient formulas (UFLDL), written as plain numpy loops that share no code with tinygrad_cnn.

They are oracles for the autodiff results: tests compare tinygrad_cnn's backward against them.
"""
