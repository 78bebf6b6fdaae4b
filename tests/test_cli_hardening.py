"""The command line refuses nonsense with one line (argparse: exit 2 naming the flag), prints one line for an
ordinary mistake (exit 1; the traceback only with --debug), never reports success for a check or an evaluation
of nothing, and draws the graph of every zoo model with its default batch."""
import os

import pytest

import tinygrad_cnn as tg
from tinygrad_cnn import models
from tinygrad_cnn.cli import main
from tinygrad_cnn.training import resolve_config

TINY = ["--dataset", "synthetic", "--synthetic-size", "60", "--epochs", "1", "--batch-size", "20",
        "--model", "kajda-mnist", "--no-plots", "--no-progress"]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "kajda"
    assert main(["train", *TINY, "--out", str(out)]) == 0
    return out


def usage_error(capsys, argv, flag):
    """argv must stop in argparse with exit code 2 and a one-line message naming `flag`."""
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1 and f"argument {flag}" in lines[0], err
    assert "Traceback" not in err
    return lines[0]


# --- 13. every numeric flag is validated -------------------------------------------------------------------------
BAD_TRAIN = [("--train-limit", "-5"), ("--test-limit", "-1"), ("--val-limit", "0"), ("--val-fraction", "0"),
             ("--val-fraction", "1"), ("--val-fraction", "1.5"), ("--val-fraction", "-0.2"), ("--epochs", "-1"),
             ("--epochs", "0"), ("--step-size", "0"), ("--batch-size", "0"), ("--lr", "-0.1"), ("--lr", "nan"),
             ("--gamma", "0"), ("--momentum", "-1"), ("--seed", "-1"), ("--synthetic-size", "0"),
             ("--epochs", "two")]


@pytest.mark.parametrize("flag, value", BAD_TRAIN)
def test_train_refuses_a_bad_number_naming_the_flag(capsys, tmp_path, flag, value):
    line = usage_error(capsys, ["train", *TINY, "--out", str(tmp_path / "r"), flag, value], flag)
    assert repr(value) in line
    assert not (tmp_path / "r").exists()                            # refused before any work


@pytest.mark.parametrize("field, value", [("epochs", -1), ("step_size", 0), ("val_fraction", 1.0),
                                          ("train_limit", -3), ("batch_size", 2.5), ("lr", True)])
def test_the_python_api_applies_the_same_rules(field, value):
    with pytest.raises(ValueError, match=rf"^{field} must be "):
        resolve_config(**{field: value})


@pytest.mark.parametrize("argv, flag", [
    (["evaluate", "--checkpoint", "x", "--batch-size", "-1"], "--batch-size"),   # 11: was "0.00% (0/300)", exit 0
    (["evaluate", "--checkpoint", "x", "--batch-size", "0"], "--batch-size"),    # 11: was a traceback
    (["evaluate", "--checkpoint", "x", "--limit", "-1"], "--limit"),
    (["graph", "--model", "annt-lenet5", "--out", "g.dot", "--depth", "-1"], "--depth"),
    (["graph", "--model", "annt-lenet5", "--out", "g.dot", "--batch", "0"], "--batch"),
    (["gradcheck", "--model", "annt-lenet5", "--eps", "0"], "--eps"),             # 6: was PASSED, all skipped
    (["gradcheck", "--model", "annt-lenet5", "--eps", "1.5"], "--eps"),
    (["gradcheck", "--model", "annt-lenet5", "--full", "--max-elements", "-1"], "--max-elements"),
    (["gradcheck", "--model", "annt-lenet5", "--batch", "0"], "--batch"),
    (["demo", "--epochs", "0"], "--epochs"),
    (["demo", "--train-limit", "-1"], "--train-limit"),
])
def test_other_commands_refuse_bad_numbers(capsys, argv, flag):
    usage_error(capsys, argv, flag)


# --- 18. ordinary mistakes: one line, no traceback ----------------------------------------------------------------
def test_bad_output_paths_are_argument_errors(capsys, tmp_path):
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    assert "is a file, not a run directory" in usage_error(capsys, ["train", *TINY, "--out", str(existing)],
                                                          "--out")
    assert existing.read_text() == "mine"
    assert "suffix must be one of" in usage_error(capsys, ["graph", "--model", "annt-lenet5", "--out",
                                                           str(tmp_path / "g.xyz")], "--out")
    line = usage_error(capsys, ["evaluate", "--checkpoint", "x", "--plot", str(tmp_path / "missing" / "c.png")],
                       "--plot")
    assert f"the directory {tmp_path / 'missing'} does not exist" in line
    assert "does not exist" in usage_error(capsys, ["train", "--resume", str(tmp_path / "nope")], "--resume")


def test_a_mistake_is_one_line_and_debug_shows_the_traceback(capsys, tmp_path):
    missing = tmp_path / "nope.npz"
    assert main(["evaluate", "--checkpoint", str(missing)]) == 1
    err = capsys.readouterr().err
    assert err == f"tinygrad-cnn evaluate: error: {missing}: No such file or directory\n"
    for argv in (["--debug", "evaluate", "--checkpoint", str(missing)],
                 ["evaluate", "--checkpoint", str(missing), "--debug"]):
        with pytest.raises(FileNotFoundError):
            main(argv)


def test_a_malformed_checkpoint_on_resume_is_one_line(capsys, tmp_path):
    (tmp_path / "last.npz").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip archive
    assert main(["train", "--resume", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(tmp_path / "last.npz") in err and "Traceback" not in err
    tg.save({"format": "tinygrad_cnn.training-checkpoint/1", "model": {}, "epoch": 1}, tmp_path / "last.npz")
    assert main(["train", "--resume", str(tmp_path)]) == 1
    assert "is not a complete training checkpoint: it has no 'config'" in capsys.readouterr().err


def test_an_internal_error_says_how_to_get_the_traceback(capsys, monkeypatch, run_dir):
    def broken(*args, **kwargs):
        raise KeyError("oops")

    monkeypatch.setattr(models, "get_model", broken)
    assert main(["evaluate", "--checkpoint", str(run_dir)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "KeyError: 'oops'" in err and "--debug" in err


# --- 11/12. evaluate -----------------------------------------------------------------------------------------------
def test_evaluate_on_another_data_set_does_not_get_the_runs_dataset_kwargs(capsys, run_dir):
    """The run was trained on the synthetic set with n=60; MNIST must not receive n= (it was a raw TypeError)."""
    root = os.environ.get("TINYGRAD_CNN_DATA")
    if not root or not os.path.exists(os.path.join(root, "mnist", "t10k-images-idx3-ubyte.gz")):
        pytest.skip("the offline MNIST files are not available (TINYGRAD_CNN_DATA)")
    assert main(["evaluate", "--checkpoint", str(run_dir), "--dataset", "mnist", "--limit", "30",
                 "--no-download"]) == 0
    out = capsys.readouterr().out
    assert "on mnist test set" in out and "(30 samples)" not in out and "/30)" in out


def test_evaluate_keeps_the_runs_dataset_kwargs_for_its_own_data_set(capsys, run_dir):
    assert main(["evaluate", "--checkpoint", str(run_dir), "--batch-size", "7"]) == 0
    assert "/60)" in capsys.readouterr().out                        # the synthetic set's n=60 test images


def test_evaluate_plot_writes_the_image(tmp_path, run_dir, capsys):
    pytest.importorskip("matplotlib")
    assert main(["evaluate", "--checkpoint", str(run_dir), "--plot", str(tmp_path / "c.png")]) == 0
    assert (tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp-")]


# --- 6. gradcheck that checked nothing --------------------------------------------------------------------------
def test_gradcheck_that_checked_nothing_fails(capsys, monkeypatch):
    import importlib

    module = importlib.import_module("tinygrad_cnn.autograd.check_graph")
    monkeypatch.setattr(module, "_check_node", lambda row, *a: row.skip("not checked in this test"))
    assert main(["gradcheck", "--model", "kajda-mnist"]) == 1
    out = capsys.readouterr().out
    assert "check_graph FAILED: nothing was checked: all" in out and "PASSED" not in out


def test_gradcheck_still_passes_a_real_check(capsys):
    assert main(["gradcheck", "--model", "kajda-mnist", "--batch", "1"]) == 0
    assert "check_graph PASSED" in capsys.readouterr().out


# --- 19. graph on every zoo model -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", models.list_models())
def test_graph_draws_every_zoo_model_with_the_default_batch(tmp_path, capsys, name):
    out = tmp_path / f"{name}.dot"
    assert main(["graph", "--model", name, "--out", str(out), "--depth", "1"]) == 0
    assert "digraph" in out.read_text() and f"wrote {out}" in capsys.readouterr().out


def test_graph_batch_of_one_on_a_batchnorm_model_is_a_clear_error(capsys, tmp_path):
    assert main(["graph", "--model", "annt-cifar", "--batch", "1", "--out", str(tmp_path / "g.dot")]) == 2
    err = capsys.readouterr().err
    assert "--batch 1: annt-cifar has BatchNorm layers" in err and "Traceback" not in err


def test_graph_steps_on_a_batchnorm_model(tmp_path, capsys):
    import shutil

    if shutil.which("dot") is None:
        assert main(["graph", "--model", "annt-cifar", "--steps", "--out", str(tmp_path / "s.html")]) == 1
        assert "needs Graphviz's `dot` program" in capsys.readouterr().err
        return
    assert main(["graph", "--model", "annt-cifar", "--steps", "--out", str(tmp_path / "s.html")]) == 0
    assert "<svg" in (tmp_path / "s.html").read_text()


def test_graph_steps_needs_an_html_file(capsys, tmp_path):
    assert main(["graph", "--model", "annt-lenet5", "--steps", "--out", str(tmp_path / "s.svg")]) == 2
    assert "--steps writes an HTML page" in capsys.readouterr().err


# --- docs/errors.md: the command-line section is what the commands print ---------------------------------------
def _docs_section():
    import re

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    page = open(os.path.join(root, "docs", "errors.md"), encoding="utf-8").read()
    section = page.split("## Files, checkpoints and the command line", 1)[1].split("\n## ", 1)[0]
    return (re.findall(r"```console\n\$ tinygrad-cnn (.*?)\n(.*?)\n```", section),
            re.findall(r"```pycon\n>>> (.*?)\n(.*?)\n```", section))


def test_docs_errors_cli_section(tmp_path, monkeypatch, capsys):
    import re
    import shlex

    import numpy as np

    from tinygrad_cnn.training.run_lock import RunLock

    monkeypatch.chdir(tmp_path)
    assert main(["train", "--model", "annt-lenet5", "--dataset", "synthetic", "--synthetic-size", "60",
                 "--epochs", "1", "--no-plots", "--no-progress", "--out", "runs/lenet5"]) == 0
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "runs" / "broken").mkdir()
    (tmp_path / "runs" / "broken" / "last.npz").write_bytes(bytes(range(256)))
    np.savez(tmp_path / "runs" / "evil.npz", t0=np.array(["ab", "c"]), __structure__=np.frombuffer(
        b'{"format": "tinygrad_cnn-checkpoint-1", "root": {"dict": [["w", {"tensor": "t0"}]]}}', np.uint8))
    capsys.readouterr()
    commands, sessions = _docs_section()
    assert len(commands) >= 12 and len(sessions) == 2
    pid = re.compile(r"pid \d+")
    for command, expected in commands:
        argv = shlex.split(command)
        with RunLock("runs/lenet5") if "--epochs 3" in command else _nothing():
            try:
                code = main(argv)
            except SystemExit as e:
                code = e.code
        err = capsys.readouterr().err.strip().splitlines()
        assert code in (1, 2) and err, command
        assert pid.sub("pid N", err[-1]) == pid.sub("pid N", expected), f"docs/errors.md is out of date: {command}"
    for source, expected in sessions:
        with pytest.raises(Exception) as e:
            eval(source, {"tg": tg})
        assert f"{type(e.value).__name__}: {e.value}" == expected, f"docs/errors.md is out of date: {source}"


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_a_checkpoint_whose_state_does_not_fit_is_one_line(capsys, tmp_path, run_dir):
    from tinygrad_cnn.training import load_checkpoint
    from tinygrad_cnn.training.checkpoint import save_checkpoint

    state = load_checkpoint(run_dir / "last.npz")
    state.pop("format")
    state["rng"] = {"global": state["rng"]["global"]}                  # the loader's state is gone
    (tmp_path / "run").mkdir()
    save_checkpoint(state, tmp_path / "run" / "last.npz")
    assert main(["train", "--resume", str(tmp_path / "run")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "does not hold a state this run can continue from: KeyError: 'loader'" in err
    state["model"] = {"0.weight": state["model"]["0.weight"]}
    save_checkpoint(state, tmp_path / "w.npz")
    assert main(["evaluate", "--checkpoint", str(tmp_path / "w.npz")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "its weights do not fit kajda-mnist" in err and "Missing key" in err


def test_demo_never_replaces_an_earlier_demo(tmp_path):
    from tinygrad_cnn.cli.demo import free_run_directory

    base = tmp_path / "demo"
    assert free_run_directory(str(base)) == str(base)               # new
    base.mkdir()
    assert free_run_directory(str(base)) == str(base)               # empty: usable
    (base / "last.npz").write_bytes(b"")
    (tmp_path / "demo-2").mkdir()
    (tmp_path / "demo-2" / "metrics.csv").write_text("")
    assert free_run_directory(str(base)) == f"{base}-3"
