"""tg.backends: torch.backends' switches, as real submodules so `import tinygrad_cnn.backends.cudnn as cudnn` works.

    import tinygrad_cnn.backends.cudnn as cudnn
    cudnn.benchmark = True        # a documented backend switch (read by the conv code, see docs/tensor.md)

There is no CUDA, cuDNN or MPS here: `is_available()` is False everywhere; the settings are plain module
attributes with torch's names and defaults.
"""
from . import cpu, cuda, cudnn, mkldnn, mps

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps"]
