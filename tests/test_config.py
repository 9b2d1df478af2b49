"""Configuration: `[tool.trainfix]` and `--config`, their errors, the options' effects, and one
resolver: the CLI (walk, named file, stdin), the LibCST codemods and the library API find the
same `[tool.trainfix]` for every file of one tree, a symlinked file included, and so report the
same findings."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import BUGGY, MIXED, invoke, run_trainfix, write
from trainfix.cli import cli
from trainfix import fix_source
from trainfix import config as config_module

TEXT = BUGGY + "\n\ndef score(x):\n    return model(x)\n"
TRAIN_LINE, SCORE_LINE = 10, TEXT.count("\n")
CONFIGS = {
    "proj": '[tool.trainfix]\nextend-eval-functions = ["score"]\n',  # TRN001 and TRN003
    "proj/sub": "[tool.trainfix]\n",  # TRN001 only
    "outside": '[tool.trainfix]\nignore = ["TRN001"]\n',  # nothing
}


@pytest.fixture
def tree(tmp_path):
    for folder, table in CONFIGS.items():
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "pyproject.toml").write_text(table)
    for name in ("proj/a.py", "proj/sub/b.py", "proj/sub/deeper/c.py", "outside/real.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(TEXT)
    # a file is configured where it is named, as ruff does: the link by proj's table, not outside's
    (tmp_path / "proj" / "link.py").symlink_to(tmp_path / "outside" / "real.py")
    return tmp_path


FILES = ["proj/a.py", "proj/link.py", "proj/sub/b.py", "proj/sub/deeper/c.py"]
EXPECTED = {
    ("proj/a.py", "TRN001", TRAIN_LINE), ("proj/a.py", "TRN003", SCORE_LINE),
    ("proj/link.py", "TRN001", TRAIN_LINE), ("proj/link.py", "TRN003", SCORE_LINE),
    ("proj/sub/b.py", "TRN001", TRAIN_LINE), ("proj/sub/deeper/c.py", "TRN001", TRAIN_LINE),
}


def _trainfix(*args, cwd, input=None):
    p = run_trainfix("--check", "--no-cache", "--output-format", "json", *args, cwd=cwd, input=input, text=True)
    assert p.returncode == 1, p.stderr
    return {(r["filename"], r["code"], r["line"]) for r in json.loads(p.stdout)}


def test_cli_codemods_stdin_and_api_find_the_same_config(tree):
    walked = _trainfix("proj", cwd=tree)
    named = _trainfix(*FILES, cwd=tree)
    piped = set()
    for name in FILES:
        piped |= _trainfix("--stdin-filename", name, "-", cwd=tree, input=TEXT)

    codemod = subprocess.run([sys.executable, "-m", "libcst.tool", "codemod", "--hide-progress", "--no-format",
                              "-x", "trainfix.codemods.CheckTrainingArgument", "proj"],
                             cwd=tree, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in codemod.stderr, codemod.stderr
    codemods = {(m[1], m[3], int(m[2])) for m in re.finditer(r"(proj/\S+\.py):(\d+):\d+: (TRN\d+)", codemod.stderr)}

    api = set()
    for name in FILES:
        config = config_module.load(tree / name)
        api |= {(name, f.code, f.line) for f in fix_source((tree / name).read_text(), config=config).findings}

    assert walked == EXPECTED
    assert named == EXPECTED
    assert piped == EXPECTED
    assert codemods == EXPECTED
    assert api == EXPECTED


class _PathLike:
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return str(self.path)


@pytest.mark.parametrize("kind", [str, Path, _PathLike])
def test_config_functions_take_str_and_pathlike(tree, kind, monkeypatch):
    monkeypatch.chdir(tree)
    for where in (tree / "proj" / "sub" / "deeper", "proj/sub/deeper", "proj/link.py"):
        arg = kind(where) if kind is not _PathLike else _PathLike(where)
        assert config_module.load(arg).source.parent.name in ("sub", "proj")
        found = config_module.find_pyproject(arg)
        assert found is not None and Path(found).name == "pyproject.toml"
    assert config_module.load(kind("proj/a.py")).eval_functions[-1] == "score"
    assert config_module.has_table(kind("proj/pyproject.toml"))
    assert config_module.load_pyproject(kind("outside/pyproject.toml")).ignore == ("TRN001",)


# -- options and their errors, through the CLI -------------------------------------------------
BAD_VALUES = [
    ("train-functions", "'train_step'"), ("extend-train-functions", "[1]"), ("eval-functions", "true"),
    ("extend-eval-functions", "'x'"), ("predict-functions", "{a = 1}"), ("extend-predict-functions", "3"),
    ("model-factories", "'lib.build'"), ("extend-model-factories", "[['x']]"), ("select", "'TRN001'"),
    ("select", "['TRN999']"), ("extend-select", "['XYZ']"), ("ignore", "['TRN9']"), ("extend-ignore", "1"),
    ("exclude", "'build'"), ("extend-exclude", "[true]"), ("unsafe-fixes", "'yes'"), ("respect-gitignore", "1"),
    ("force-exclude", "'no'"), ("cache", "0"), ("output-format", "'xml'"), ("output-format", "['json']"),
    ("train-function", "['x']"), ("extend-unsafe-fixes", "true"),
]


@pytest.mark.parametrize("key,value", BAD_VALUES, ids=[f"{k}={v}" for k, v in BAD_VALUES])
def test_bad_config_exits_2_naming_the_key(tmp_path, key, value):
    write(tmp_path / "pyproject.toml", f"[tool.trainfix]\n{key} = {value}\n")
    write(tmp_path / "train.py", BUGGY)
    p = run_trainfix("check", "train.py", cwd=tmp_path)
    assert p.returncode == 2
    assert f"[tool.trainfix] {key}" in p.err
    assert "Traceback" not in p.err


def test_nearest_pyproject_upward_wins(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nignore = ['TRN001']\n")
    write(tmp_path / "a" / "train.py", BUGGY)
    write(tmp_path / "b" / "pyproject.toml", "[tool.trainfix]\nselect = ['TRN001']\n")
    write(tmp_path / "b" / "c" / "train.py", BUGGY)
    write(tmp_path / "d" / "pyproject.toml", "[project]\nname = 'd'\n")  # no [tool.trainfix]: keep looking up
    write(tmp_path / "d" / "train.py", BUGGY)
    p = run_trainfix("check", "--output-format", "concise", ".", cwd=tmp_path)
    assert p.returncode == 1
    assert [line.split(":")[0] for line in p.out.splitlines() if "TRN001" in line] == ["b/c/train.py"]


def test_cli_flags_override_the_config(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nselect = ['TRN003']\noutput-format = 'json'\n"
                                       "unsafe-fixes = true\n")
    f = write(tmp_path / "mixed.py", MIXED)
    p = run_trainfix("check", "mixed.py", cwd=tmp_path)
    assert p.returncode == 0 and json.loads(p.out) == []  # config: json, only TRN003
    p = run_trainfix("check", "--select", "TRN001,TRN002", "--output-format", "concise", "mixed.py", cwd=tmp_path)
    assert p.returncode == 1
    assert re.search(r"TRN002 .*\[\*\]$", p.out, re.M)  # unsafe-fixes = true from the config
    p = run_trainfix("check", "--select", "TRN002", "--no-unsafe-fixes", "--output-format", "concise", "mixed.py",
                 cwd=tmp_path)
    assert not re.search(r"\[\*\]$", p.out, re.M) and "more fix available with `--unsafe-fixes`" in p.out
    assert f.read_text() == MIXED


STEP_SOURCE = """import keras


class Net(keras.Model):
    def {name}(self, x):
        return self(x)
"""


@pytest.mark.parametrize("table,name,expected", [
    ("", "predict_step", "TRN003"),
    ("predict-functions = ['forward']", "predict_step", None),
    ("predict-functions = ['forward']", "forward", "TRN003"),
    ("extend-predict-functions = ['forward']", "predict_step", "TRN003"),
    ("eval-functions = ['score']", "test_step", None),
    ("extend-eval-functions = ['score']", "score", "TRN003"),
    ("train-functions = ['fit_batch']", "train_step", None),
    ("extend-train-functions = ['fit_batch']", "fit_batch", "TRN001"),
])
def test_step_function_options(tmp_path, table, name, expected):
    write(tmp_path / "pyproject.toml", f"[tool.trainfix]\n{table}\n")
    write(tmp_path / "m.py", STEP_SOURCE.format(name=name))
    p = run_trainfix("check", "--output-format", "json", "m.py", cwd=tmp_path)
    assert [r["code"] for r in json.loads(p.out)] == ([expected] if expected else []), p.err


def test_model_factories_and_extend(tmp_path):
    src = ("import tensorflow as tf\nfrom nets import build, build_other\n\nnet = build()\nother = build_other()\n\n\n"
           "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_sum(net(x) + other(x))\n"
           "    return tape.gradient(loss, net.trainable_variables + other.trainable_variables)\n")
    write(tmp_path / "m.py", src)
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nmodel-factories = ['nets.build']\n"
                                       "extend-model-factories = ['nets.build_other']\n")
    p = run_trainfix("apply", "m.py", cwd=tmp_path)
    assert p.returncode == 0, p.out + p.err
    assert "net(x, training=True) + other(x, training=True)" in (tmp_path / "m.py").read_text()


def test_stdin_uses_the_config_of_the_named_file(tmp_path):
    write(tmp_path / "pkg" / "pyproject.toml", "[tool.trainfix]\nignore = ['TRN001']\nexclude = ['skip_me.py']\n")
    p = run_trainfix("check", "-", "--stdin-filename", "pkg/train.py", cwd=tmp_path, input=BUGGY.encode())
    assert p.returncode == 0, p.out
    # --force-exclude with an excluded name: apply passes the text through unchanged
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nexclude = ['skip_me.py']\n")
    p = run_trainfix("apply", "--force-exclude", "-", "--stdin-filename", "skip_me.py", cwd=tmp_path,
                 input=BUGGY.encode())
    assert p.returncode == 0 and p.out == BUGGY
    p = run_trainfix("check", "--force-exclude", "-", "--stdin-filename", "skip_me.py", cwd=tmp_path,
                 input=BUGGY.encode())
    assert p.returncode == 0 and "TRN001" not in p.out


def test_output_format_from_config(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\noutput-format = 'github'\n")
    write(tmp_path / "train.py", BUGGY)
    assert run_trainfix("check", ".", cwd=tmp_path).out.startswith("::error ")


def test_config_errors_name_the_key(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\ntrain-functionz = ['x']\n")
    f = write(tmp_path / "train.py", BUGGY)
    result = CliRunner().invoke(cli, ["check", str(f)])
    assert result.exit_code == 2 and "train-functionz" in result.output
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\ntrain-functions = 'fit_step'\n")
    result = CliRunner().invoke(cli, ["check", str(f)])
    assert result.exit_code == 2 and "train-functions" in result.output


def test_config_extends_train_functions(tmp_path):
    src = BUGGY.replace("with tf.GradientTape() as tape:\n        loss = tf.reduce_mean(model(x))\n    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))\n",
                        "return model(x)\n").replace("def train_step", "def score_batch")
    f = write(tmp_path / "evals.py", src)
    assert CliRunner().invoke(cli, ["check", str(f)]).exit_code == 0
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nextend-eval-functions = ['score_batch']\n")
    result = CliRunner().invoke(cli, ["check", str(f)])
    assert result.exit_code == 1 and "TRN003" in result.output


def test_config_file_and_overrides(tmp_path):
    src = BUGGY.replace("def train_step", "def fit_batch").replace(
        "with tf.GradientTape() as tape:\n        loss = tf.reduce_mean(model(x))\n    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))\n",
        "return model(x)\n")
    f = write(tmp_path / "evals.py", src)
    assert invoke("check", "--no-cache", f).exit_code == 0
    toml = write(tmp_path / "conf" / "trainfix.toml", "eval-functions = ['fit_batch']\n")
    assert invoke("check", "--config", toml, "--no-cache", f).exit_code == 1
    pyproject = write(tmp_path / "conf" / "pyproject.toml", "[tool.trainfix]\neval-functions = ['fit_batch']\n")
    assert invoke("check", "--config", pyproject, "--no-cache", f).exit_code == 1
    assert invoke("check", "--config", "eval-functions = ['fit_batch']", "--no-cache", f).exit_code == 1
    assert invoke("check", "--config", toml, "--config", "ignore = ['TRN003']", "--no-cache", f).exit_code == 0


def test_unknown_keys_get_a_suggestion(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    result = invoke("check", "--config", "train-function = ['x']", f)
    assert result.exit_code == 2 and "did you mean `train-functions`?" in result.output
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nextend-eval-function = ['x']\n")
    result = invoke("check", f)
    assert result.exit_code == 2 and "did you mean `extend-eval-functions`?" in result.output


def test_per_file_ignores(tmp_path):
    write(tmp_path / "pyproject.toml", "[tool.trainfix.per-file-ignores]\n\"legacy/*.py\" = [\"TRN001\"]\n")
    write(tmp_path / "legacy" / "old.py", BUGGY)
    write(tmp_path / "new.py", BUGGY)
    result = invoke("check", "--output-format", "concise", "--no-cache", tmp_path)
    assert "new.py:10:31: TRN001" in result.output and "old.py" not in result.output
