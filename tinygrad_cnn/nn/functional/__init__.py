"""`tg.nn.functional` (import as F): torch.nn.functional's names, arguments and defaults.

Each function validates its arguments (errors name the op, the argument and the shapes) and then calls one
primitive's `apply` or composes primitives. One file per family; this module only re-exports them.
"""
from .activation import *  # noqa: F401,F403
from .conv import *  # noqa: F401,F403
from .dropout import *  # noqa: F401,F403
from .linear import *  # noqa: F401,F403
from .loss import *  # noqa: F401,F403
from .misc import *  # noqa: F401,F403
from .normalization import *  # noqa: F401,F403
from .pooling import *  # noqa: F401,F403
from .upsampling import *  # noqa: F401,F403
from .distance import *  # noqa: F401,F403
from .sparse import *  # noqa: F401,F403
from .pooling1d import *  # noqa: F401,F403
from .fold import *  # noqa: F401,F403
