"""The differentiable primitives, grouped by family; each class is one forward and its backward."""
