"""Hypothesis strategies and array makers shared by the core op tests (test_ops_*.py).

Arrays are generated from a drawn seed with numpy (much faster than element-wise hypothesis arrays); the shapes are
what hypothesis explores: broadcasting pairs, size-1 and size-0 dims, 0-d tensors.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

seeds = st.integers(0, 2**31 - 1)


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 0, max_side: int = 4) -> st.SearchStrategy:
    """Array shapes; min_side=0 includes empty tensors."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_pairs(min_side: int = 0, max_side: int = 3, max_dims: int = 3) -> st.SearchStrategy:
    """Two shapes that broadcast together (size-1 dims, missing leading dims, size-0 dims)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=max_dims, min_side=min_side,
                                             max_side=max_side).map(lambda r: r.input_shapes)


def normal(shape: tuple, seed: int) -> np.ndarray:
    return np.asarray(np.random.default_rng(seed).standard_normal(shape))


def positive(shape: tuple, seed: int, lo: float = 0.5, hi: float = 2.0) -> np.ndarray:
    return np.asarray(np.random.default_rng(seed).uniform(lo, hi, shape))


def away_from_zero(shape: tuple, seed: int) -> np.ndarray:
    """Values in +-[0.5, 2]: safe divisors, and never at a kink of abs/relu."""
    rng = np.random.default_rng(seed)
    return np.asarray(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape))


def with_ties(shape: tuple, seed: int) -> np.ndarray:
    """Small integers as floats, so equal values (ties) are common."""
    return np.asarray(np.random.default_rng(seed).integers(-2, 3, shape), dtype=np.float64)


@st.composite
def basic_index(draw, shape):
    """A tuple of ints (possibly negative), slices (positive steps, as torch), None and at most one Ellipsis."""
    items = []
    dims = list(shape)
    used_ellipsis = False
    # after an Ellipsis the items index the trailing dims drawn for them, so all of those must be indexed
    while dims and (used_ellipsis or draw(st.booleans())):
        n = dims.pop(0)
        kind = draw(st.sampled_from(["int", "slice", "slice", "none", "ellipsis"] if n else ["slice", "none"]))
        if kind == "int":
            items.append(draw(st.integers(-n, n - 1)))
        elif kind == "slice":
            start = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            stop = draw(st.one_of(st.none(), st.integers(-n - 2, n + 2)))
            step = draw(st.one_of(st.none(), st.integers(1, 3)))
            items.append(slice(start, stop, step))
        elif kind == "none":
            items.append(None)
            dims.insert(0, n)
        elif not used_ellipsis:
            items.append(Ellipsis)
            used_ellipsis = True
            dims = dims[len(dims) - draw(st.integers(0, len(dims))):]  # the trailing dims the rest indexes
        else:
            dims.insert(0, n)
    return tuple(items) if draw(st.booleans()) or len(items) != 1 else items[0]
