"""tg.backends.cuda: torch.backends.cuda's switches (`cuda.matmul.allow_tf32 = True`); no CUDA here."""
from __future__ import annotations


class _MatmulSettings:
    """`tg.backends.cuda.matmul`: allow_tf32 / allow_fp16_reduced_precision_reduction as plain attributes."""

    def __init__(self) -> None:
        self.allow_tf32 = False
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True


matmul = _MatmulSettings()


def is_built() -> bool:
    return False
