"""Tensor's methods, one family per file; tinygrad_cnn/tensor.py composes the mixins into `Tensor`.

  arithmetic.py  operators + - * / ** @ // %, add/sub/mul/div/pow/matmul, torch's type promotion (`_promote`)
  pointwise.py   exp log sqrt sin cos abs erf ..., clamp, maximum/minimum, relu/sigmoid/tanh, softmax, where
  compare.py     == != < <= > >=, & | ^ ~, equal/allclose/isclose, isnan/isinf/isfinite, any/all (no gradient)
  reduce.py      sum mean var std, max/min (values, indices), amax/amin, argmax/argmin, prod, norm, cumsum,
                 logsumexp, cumprod, diff
  shape.py       reshape view flatten squeeze unsqueeze permute transpose expand repeat split chunk unbind,
                 flip roll narrow movedim tile repeat_interleave
  index.py       __getitem__/__setitem__, iteration, masked_fill, gather, index_select, masked_select, nonzero,
                 diag, tril/triu, scatter/scatter_add/index_add
  inplace.py     add_ sub_ mul_ div_ pow_ clamp_ relu_ zero_ fill_ copy_ uniform_ normal_, masked_fill_ scatter_
                 scatter_add_ index_add_, exp_ log_ sqrt_ sigmoid_ tanh_ abs_ neg_, += -= *= /=
  conversion.py  to/type/type_as/float/double/long/..., cpu/cuda, clone, contiguous, new_tensor/new_zeros/...
  sort.py        sort argsort topk unique bincount
  sampling.py    bernoulli bernoulli_ multinomial exponential_
  linalg.py      det slogdet logdet inverse (tg.linalg)
  _common.py     the Tensor class (bound by tensor.py), wrap(), is_tensor(), _raw(), _as_tensor()

Every differentiable method is an explicit call to one primitive's `apply` (tinygrad_cnn/ops).
"""
from .arithmetic import ArithmeticMixin
from .compare import CompareMixin
from .conversion import ConversionMixin
from .index import IndexMixin
from .inplace import InplaceMixin
from .linalg import LinalgMixin
from .pointwise import PointwiseMixin
from .reduce import ReduceMixin
from .sampling import SamplingMixin
from .shape import ShapeMixin
from .sort import SortMixin

__all__ = ["ArithmeticMixin", "CompareMixin", "ConversionMixin", "IndexMixin", "InplaceMixin", "LinalgMixin",
           "PointwiseMixin",
           "ReduceMixin", "SamplingMixin", "ShapeMixin", "SortMixin"]
