import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from trainfix.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "case.toml").is_file())
FILE_CASES = [p for p in CASES if (p / "before.py").is_file()]  # one file each; the others are project trees
NOTEBOOKS = ROOT / "tests" / "notebooks"


# a custom training loop that forgets training=True, and its fix: the CLI tests' common file
BUGGY = """import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()])
opt = keras.optimizers.Adam()


def train_step(x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x))
    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
"""
CALL, FIXED_CALL = "model(x))", "model(x, training=True))"
FIXED = BUGGY.replace(CALL, FIXED_CALL)

# unresolved gradient sources: TRN001 and TRN002 with unsafe fixes; and a display-only TRN005
MIXED = """import tensorflow as tf
import keras

net = keras.Sequential([keras.layers.Dense(2)])
opt = keras.optimizers.Adam()


def train_step(x, params):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(net(x)) + tf.reduce_sum(net(x, training=False))
    opt.apply_gradients(zip(tape.gradient(loss, params), params))


def fit(x):
    train_step(x, net.trainable_variables)


def update(s):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(net.predict(s))
    return tape.gradient(loss, net.trainable_variables)
"""


def write(path: Path, data: str | bytes) -> Path:
    """Write a file, and the folders it needs."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data) if isinstance(data, str) else path.write_bytes(data)
    return path


def invoke(*args, env=None) -> Result:
    """The CLI in-process, through click's CliRunner."""
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def strip_training(tree: ast.AST) -> str:
    """The tree, dumped, with every `training=` keyword and positional boolean training argument
    removed: a fix must leave the two sides equal (the tests' own check, apart from the engine's)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            node.keywords = [k for k in node.keywords if k.arg != "training"]
            if len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, bool):
                node.args = node.args[:1]
    return ast.dump(tree, include_attributes=False)


def trainfix_exe() -> str:
    exe = Path(sys.executable).parent / "trainfix"
    return str(exe) if exe.exists() else shutil.which("trainfix") or "trainfix"


def plain_env() -> dict[str, str]:
    """The environment of a run that sets none: the current one, less what would colour the output."""
    return {k: v for k, v in os.environ.items() if k not in ("FORCE_COLOR", "NO_COLOR")}


class Ran(subprocess.CompletedProcess):
    """A finished `trainfix` process; `out` and `err` are its output as text."""

    @property
    def out(self) -> str:
        return self.stdout if isinstance(self.stdout, str) else self.stdout.decode()

    @property
    def err(self) -> str:
        return self.stderr if isinstance(self.stderr, str) else self.stderr.decode()


def run_trainfix(*args, cwd=None, input=None, env=None, timeout=300, prefix=(), text=False, **popen) -> Ran:
    """Run the installed `trainfix` command in a real subprocess, as users and CI do, and wait for it.

    `prefix` goes before the command (e.g. `setpriv ...`); without `input` stdin is empty, so a
    run never waits on the terminal; `popen` goes to subprocess.run as it is (e.g. preexec_fn).
    """
    p = subprocess.run([*prefix, trainfix_exe(), *map(str, args)], cwd=cwd, input=input,
                       stdin=subprocess.DEVNULL if input is None else None, capture_output=True,
                       env=plain_env() if env is None else env, timeout=timeout, text=text, **popen)
    return Ran(p.args, p.returncode, p.stdout, p.stderr)


# the CLI, then the names of the analysis modules it imported
PROBE = ("import sys\nfrom trainfix.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
         "print(sorted(m for m in sys.modules if m.startswith(('trainfix.engine', 'trainfix.analysis'))))")


def probe(cwd, *args) -> tuple[str, str]:
    """Output of one CLI run in a subprocess, and the analysis modules it imported (the proof a
    file was analysed): the installed command cannot tell, so this runs `main` under PROBE."""
    p = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, text=True, check=True)
    *out, modules = p.stdout.splitlines()
    return "\n".join(out), modules


@pytest.fixture(name="run_trainfix")
def _run_trainfix_fixture():
    """`run_trainfix` for the tests that take it as a fixture."""
    return run_trainfix


# -- the e2e summary table (rows come from tests/e2e's `e2e_results` fixture) ------------------------
# Here rather than in tests/e2e/conftest.py: this file is loaded also by the process that reports a
# parallel (pytest-xdist) run, which collects no tests itself.
E2E_ROW = "trainfix-e2e-row"
_LABELS = ("(before)", "(after)", "(inverted fix)")


class _E2ESummary:
    def __init__(self):
        self.rows: list[str] = []

    def pytest_runtest_logreport(self, report):
        if report.when == "call":
            self.rows.extend(value for name, value in report.user_properties if name == E2E_ROW)

    def pytest_terminal_summary(self, terminalreporter):
        if not self.rows:
            return
        terminalreporter.section("trainfix e2e: measured statistics")
        versions = [row for row in dict.fromkeys(self.rows) if row.startswith("versions: ")]
        figures = [row for row in self.rows if not row.startswith("versions: ")]
        # one script's rows together, in the order before, after, inverted, whatever order the tests ran in
        figures.sort(key=lambda row: (row.split()[0], [label in row for label in _LABELS].index(True)
                                      if any(label in row for label in _LABELS) else 3))
        for row in versions + figures:
            terminalreporter.write_line(row)


def pytest_configure(config):
    config.pluginmanager.register(_E2ESummary(), "trainfix-e2e-summary")


FENCE = re.compile(r"^(?P<indent>[ ]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


def code_blocks(markdown: str) -> list[tuple[str, str]]:
    """Fenced code blocks of a Markdown text as (info string, body); an indented fence (in a list item) is dedented."""
    blocks = []
    for m in FENCE.finditer(markdown):
        indent = m.group("indent")
        lines = m.group("body").splitlines(keepends=True)
        blocks.append((m.group("info").strip(), "".join(line[len(indent):] if line.startswith(indent) else
                                                        line.lstrip(" ") for line in lines)))
    return blocks
