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
with tf.GradientTape() as tape:
    logits = classifier(x, training=False)
    loss = loss_fn(y, logits)
grads = tape.gradient(loss, classifier.trainable_variables)
```

## Use instead
```python
with tf.GradientTape() as tape:
    logits = classifier(x, training=True)
    loss = loss_fn(y, logits)
grads = tape.gradient(loss, classifier.trainable_variables)
```

## Fix safety
Safe only when the model's own variables are the tape's explicit gradient
sources. Otherwise (sources that can't be resolved, a sub-layer trained only
through `self.trainable_variables`, a train step without a tape) the explicit
`False` may be deliberate, so the fix is unsafe. A positional `False` is
rewritten as the keyword: Keras 3 rejects positional booleans.
"""
from __future__ import annotations

from ..analysis.contexts import CallSite
from .base import Finding, Source, trained_fix

CODE = "TRN002"
NAME = "trained-model-training-false"
SUMMARY = "Trained model called with `training=False`"

INVALID = [
    (
        "import tensorflow as tf\n\nnet = tf.keras.Sequential([tf.keras.layers.Dense(2)])\n\n"
        "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_sum(net(x, False))\n"
        "    return tape.gradient(loss, net.trainable_variables)\n",
        "import tensorflow as tf\n\nnet = tf.keras.Sequential([tf.keras.layers.Dense(2)])\n\n"
        "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_sum(net(x, training=True))\n"
        "    return tape.gradient(loss, net.trainable_variables)\n",
    ),
]
VALID = [
    # a frozen teacher keeps its explicit training=False
    "import tensorflow as tf\nimport keras\n\nteacher = keras.Sequential([keras.layers.Dense(1)])\n"
    "student = keras.Sequential([keras.layers.Dense(1)])\n\ndef distill_step(x):\n    with tf.GradientTape() as tape:\n"
    "        loss = tf.reduce_mean(student(x, training=True) - teacher(x, training=False))\n"
    "    return tape.gradient(loss, student.trainable_variables)\n",
]


def check(site: CallSite, source: Source) -> Finding | None:
    if site.context.kind != "train" or site.method or site.trained is False or site.state != "false":
        return None
    return Finding(CODE, f"Trained model `{site.callee}` called with `training=False`", 0, 0, 0, 0,
                   trained_fix(site, "Replace with", True))
