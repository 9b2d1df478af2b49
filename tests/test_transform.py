"""Text transforms: the `training` edits spliced into the source (several in one pass, nested
ones included) and the verification that gates every write."""
import pytest
from click.testing import CliRunner

from conftest import BUGGY, CALL, FIXED, write
from trainfix import Config
from trainfix.cli import cli
from trainfix.engine import SourceError, verify


def test_verify_rejects_every_kind_of_bad_fix():
    """engine.verify, the last gate before a write: output that does not parse, that changes more
    than `training`, or that a second pass would change again, is refused."""
    config = Config()
    verify(BUGGY, FIXED, config, False)  # the real fix passes
    bad_outputs = {
        "does not parse": BUGGY.replace(CALL, "model(x training=True))"),
        "changed more": BUGGY.replace(CALL, "model(y, training=True))"),
        "changed more (dropped code)": FIXED.replace("    opt.apply_gradients", "    pass  # opt.apply_gradients"),
        "second pass": BUGGY.replace(CALL, "model(x, training=None))"),
    }
    for what, new in bad_outputs.items():
        with pytest.raises(SourceError, match="verification failed"):
            verify(BUGGY, new, config, False)
            pytest.fail(f"verify accepted an output that {what}")


def test_nested_fixes_land_in_one_pass(tmp_path):
    src = """import tensorflow as tf
import keras

g = keras.Sequential([keras.layers.Dense(2)])
d = keras.Sequential([keras.layers.Dense(1)])


def train_step(z):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(d(g(z)))
    return tape.gradient(loss, g.trainable_variables + d.trainable_variables)
"""
    f = write(tmp_path / "gan.py", src)
    result = CliRunner().invoke(cli, ["apply", str(f)])
    assert result.exit_code == 0, result.output
    assert "d(g(z, training=True), training=True)" in f.read_text()
