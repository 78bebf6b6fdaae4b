"""Evaluation and run records: accuracy/cost/confusion matrix of a model on arrays, metrics.csv, config.json."""
from __future__ import annotations

import csv
import io
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._atomic import atomic_write_text
from ..autograd import no_grad
from ..tensor import Tensor

CSV_FIELDS = ["epoch", "train_loss", "train_acc", "val_loss", "val_acc", "lr", "train_time", "val_time",
              "images_per_s"]


@dataclass
class EvalResult:
    """Cost (mean loss), correct count, total and the (K, K) confusion matrix (rows: true class, cols: predicted)."""

    loss: float
    correct: int
    total: int
    confusion: np.ndarray
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def accuracy(self) -> float:
        return self.correct / max(self.total, 1)

    def per_class_accuracy(self) -> np.ndarray:
        """(K,) recall of each class (NaN for a class with no samples)."""
        support = self.confusion.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.diag(self.confusion) / support

    def line(self, label: str) -> str:
        """ANNT's format: `Validation accuracy = 97.49% (9749/10000), cost = 0.0799, 6.825s`."""
        return (f"{label} accuracy = {100 * self.accuracy:.2f}% ({self.correct}/{self.total}), "
                f"cost = {self.loss:.4f}, {self.seconds:.3f}s")


def evaluate(model: Any, x: np.ndarray, y: np.ndarray, loss_fn: Callable, num_classes: int,
             batch_size: int = 1000) -> EvalResult:
    """Run `model` in eval mode without grad over (x (N, C, H, W), y (N,)) in batches; restore its mode after."""
    start = time.perf_counter()
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    confusion = np.zeros((num_classes, num_classes), np.int64)
    try:
        with no_grad():
            for i in range(0, len(x), batch_size):
                xb, yb = x[i:i + batch_size], y[i:i + batch_size]
                out = model(Tensor._wrap(xb))
                total_loss += float(loss_fn(out, Tensor._wrap(yb)).item()) * len(yb)
                pred = out._data.argmax(axis=1)
                correct += int((pred == yb).sum())
                confusion += np.bincount(yb * num_classes + pred, minlength=num_classes ** 2).reshape(
                    num_classes, num_classes)                     # (K, K)
    finally:
        model.train(was_training)
    return EvalResult(total_loss / max(len(x), 1), correct, len(x), confusion, time.perf_counter() - start)


def confusion_table(confusion: np.ndarray, classes: list[str]) -> str:
    """The confusion matrix as aligned text, rows = true class, columns = predicted class."""
    labels = [c[:10] for c in classes]
    width = max(6, max(len(s) for s in labels) + 1, len(str(int(confusion.max()))) + 1)
    head = " " * width + "".join(f"{i:>{len(str(confusion.max())) + 2}}" for i in range(len(labels)))
    rows = [f"{lab:>{width}}" + "".join(f"{v:>{len(str(confusion.max())) + 2}}" for v in row)
            for lab, row in zip(labels, confusion)]
    return "\n".join([head + "   <- predicted", *rows])


def write_metrics_csv(path: str, history: list[dict[str, Any]]) -> None:
    """Rewrite metrics.csv from the whole history (a resumed run keeps exactly the rows its checkpoint knows)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()})
    atomic_write_text(path, buf.getvalue())


def write_json(path: str, obj: dict[str, Any]) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")
