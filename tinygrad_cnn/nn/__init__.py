"""`tg.nn`: Module, Parameter, layers and `functional`."""
from . import functional  # noqa: F401
