"""tg.backends.mps: Apple's Metal backend is never available here (scripts fall back to "cpu")."""


def is_available() -> bool:
    return False


def is_built() -> bool:
    return False
