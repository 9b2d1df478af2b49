"""TRN002 trained-model-training-false

## What it does
Checks for a model that a training step trains, called with
`training=False` (keyword or Keras 2 positional boolean).

## Why is this bad?
An inference snippet pasted into a training step freezes BatchNormalization
statistics and switches Dropout off while the model's weights are being
trained, so training and inference behave differently without any error.

## Example
```python
import keras
import tensorflow as tf

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam()


def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=False)
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss
```

## Use instead
```python
import keras
import tensorflow as tf

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam()


def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss
```

## Fix safety
Safe only when the model's own variables are the tape's explicit gradient
sources and those gradients reach an optimizer in the same function.
Otherwise (sources that can't be resolved, a sub-layer trained only through
`self.trainable_variables`, a train step without a tape, gradients returned
for another purpose such as an explanation) the explicit `False` may be
deliberate, so the fix is unsafe. It is unsafe as well when the same model is
also called with `training=True` in that tape (a second, inference-mode pass
as in AdaMatch), or when a comment on the call or the line above mentions
BatchNorm, inference, frozen statistics, no update, dropout or intent, and
when the model is built from pretrained weights (`keras.applications.*`
without `weights=None`, `from_preset`, `from_pretrained`, `load_model`,
`hub.KerasLayer`): keeping a pretrained backbone's BatchNorm in inference mode
while fine-tuning it is the Keras idiom.
A positional `False` is rewritten as the
keyword: Keras 3 rejects positional booleans.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (KEEP_INFERENCE, PRETRAINED_REASON, Example, FixAvailability, Rule, Source, Violation, pretrained_note,
                   trained_fix, trained_subject)

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


INVALID: list[Example] = [
    (
        "import tensorflow as tf\n\nnet = tf.keras.Sequential([tf.keras.layers.Dense(2)])\nopt = tf.keras.optimizers.SGD()\n\n"
        "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_sum(net(x, False))\n"
        "    opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))\n",
        "import tensorflow as tf\n\nnet = tf.keras.Sequential([tf.keras.layers.Dense(2)])\nopt = tf.keras.optimizers.SGD()\n\n"
        "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_sum(net(x, training=True))\n"
        "    opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))\n",
    ),
]
VALID: list[str] = [
    # a frozen teacher keeps its explicit training=False
    "import tensorflow as tf\nimport keras\n\nteacher = keras.Sequential([keras.layers.Dense(1)])\n"
    "student = keras.Sequential([keras.layers.Dense(1)])\n\ndef distill_step(x):\n    with tf.GradientTape() as tape:\n"
    "        loss = tf.reduce_mean(student(x, training=True) - teacher(x, training=False))\n"
    "    return tape.gradient(loss, student.trainable_variables)\n",
]


def check(site: CallSite, source: Source) -> Violation | None:
    if site.context.kind != "train" or site.method or site.trained is False or site.state != "false":
        return None
    # the same model also called with training=True here, or a comment giving the reason: on purpose
    deliberate = ("the same model is also called with `training=True` in this tape" if site.also_true else
                  PRETRAINED_REASON if site.pretrained else
                  "a comment on the call or the line above gives a reason for `training=False`"
                  if KEEP_INFERENCE.search(source.comment_near(site.call)) else "")
    return Violation(f"{trained_subject(site)} called with `training=False`{pretrained_note(site)}",
                     trained_fix(site, "Replace with", True, deliberate))


RULE = Rule(
    code="TRN002",
    name="trained-model-training-false",
    summary="Trained model called with `training=False`",
    fix=FixAvailability.SOMETIMES,
    doc=__doc__ or "",
    module=__name__,
    check=check,
    invalid=tuple(INVALID),
    valid=tuple(VALID),
)
