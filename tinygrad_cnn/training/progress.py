"""The terminal side of training: the tqdm progress bar and the Ctrl-C (SIGINT) handler."""
from __future__ import annotations

import signal
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator


def progress_bar(config: dict[str, Any], total: int, initial: int, desc: str) -> Any:
    """A tqdm bar counting images (so its rate is img/s); a no-op object when progress is off or tqdm missing."""
    try:
        from tqdm import tqdm
    except ImportError:
        tqdm = None
    if tqdm is None or not config["progress"]:
        return _NoBar()
    interactive = sys.stderr.isatty()
    return tqdm(total=total, initial=initial, desc=desc, unit="img", leave=True, dynamic_ncols=True,
                mininterval=0.5 if interactive else 30.0, file=sys.stderr)


class _NoBar:
    def update(self, n: int) -> None: ...
    def set_postfix(self, **kwargs: Any) -> None: ...
    def close(self) -> None: ...


@contextmanager
def stop_on_sigint(trainer: Any) -> Iterator[None]:
    """First Ctrl-C: finish the current step, save, stop. Second: the default KeyboardInterrupt at once."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        if trainer.stop_requested:
            raise KeyboardInterrupt
        trainer.stop_requested = True

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
