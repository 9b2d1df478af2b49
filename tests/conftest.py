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
