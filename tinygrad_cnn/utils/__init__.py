"""`tg.utils`: `tg.utils.data`."""
from . import data  # noqa: F401
