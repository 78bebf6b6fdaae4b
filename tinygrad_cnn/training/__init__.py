"""`tg.training`: the training experience behind `tinygrad-cnn train/evaluate/demo`.

- setup.py      run config (recipe defaults + overrides), optimizer / scheduler / loss builders
- data.py       data sets preprocessed once into float32 arrays; seeded train/validation split
- trainer.py    `Trainer`: epochs with a tqdm bar, validation, checkpoints, bit-exact resume, Ctrl-C handling
- checkpoint.py atomic .npz checkpoints of nested training state
- metrics.py    evaluation (accuracy, cost, confusion matrix), metrics.csv, config.json
- plots.py      PNG curves and confusion matrix (when matplotlib is installed)
- progress.py   the tqdm bar and the Ctrl-C handler
"""
from .checkpoint import load_checkpoint, save_checkpoint
from .metrics import EvalResult, evaluate
from .setup import resolve_config
from .trainer import Trainer

__all__ = ["Trainer", "resolve_config", "save_checkpoint", "load_checkpoint", "evaluate", "EvalResult"]
