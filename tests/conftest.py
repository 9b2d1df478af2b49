import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES_DIR = ROOT / "tests" / "cases"
CASES = sorted(p for p in CASES_DIR.iterdir() if (p / "case.toml").is_file())
FILE_CASES = [p for p in CASES if (p / "before.py").is_file()]  # one file each; the others are project trees


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


def trainfix_exe() -> str:
    exe = Path(sys.executable).parent / "trainfix"
    return str(exe) if exe.exists() else shutil.which("trainfix") or "trainfix"


@pytest.fixture
def run_trainfix():
    """Run the installed `trainfix` command in a real subprocess."""

    def run(*args, cwd=None, input=None, env=None):
        return subprocess.run([trainfix_exe(), *map(str, args)], cwd=cwd, input=input, capture_output=True,
                              env=env)

    return run


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
