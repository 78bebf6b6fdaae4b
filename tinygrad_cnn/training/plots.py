"""PNG plots of a run (loss and accuracy curves, confusion matrix) when matplotlib is installed."""
from __future__ import annotations

import os
from typing import Any

import numpy as np

from .._atomic import atomic_write


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        return None
    matplotlib.use("Agg")             # files only, no display needed
    import matplotlib.pyplot as plt
    return plt


def _save(fig: Any, path: str) -> None:
    """Write the figure atomically (an interrupt never leaves half an image; format from the suffix, PNG by
    default) and free it."""
    import matplotlib.pyplot as plt

    fmt = os.path.splitext(path)[1][1:].lower() or "png"
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format=fmt, dpi=100))
    finally:
        plt.close(fig)


def plot_curves(history: list[dict[str, Any]], out_dir: str) -> list[str]:
    """curves.png: cost and accuracy per epoch, training and validation. Returns the files written."""
    plt = _pyplot()
    if plt is None or not history:
        return []
    epochs = [row["epoch"] for row in history]
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("train", "training"), ("val", "validation")):
        ax_loss.plot(epochs, [row[f"{key}_loss"] for row in history], marker="o", label=label)
        ax_acc.plot(epochs, [100 * row[f"{key}_acc"] for row in history], marker="o", label=label)
    ax_loss.set(xlabel="epoch", ylabel="cost", title="cost")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="accuracy")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax_loss, ax_acc):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))   # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = os.path.join(out_dir, "curves.png")
    _save(fig, path)
    return [path]


def plot_confusion(confusion: np.ndarray, classes: list[str], path: str, title: str = "confusion matrix") -> list[str]:
    """A confusion-matrix heat map with counts in the cells (rows: true class, columns: predicted)."""
    plt = _pyplot()
    if plt is None:
        return []
    k = len(classes)
    fig, ax = plt.subplots(figsize=(1 + 0.6 * k, 1 + 0.6 * k))
    ax.imshow(confusion, cmap="Blues")
    ax.set_xticks(range(k), classes, rotation=45, ha="right")
    ax.set_yticks(range(k), classes)
    ax.set(xlabel="predicted", ylabel="true", title=title)
    threshold = confusion.max() / 2 if confusion.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(j, i, int(confusion[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if confusion[i, j] > threshold else "black")
    fig.tight_layout()
    _save(fig, path)
    return [path]
