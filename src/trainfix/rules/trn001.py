"""TRN001 trained-model-without-training

## What it does
Checks for a model that a training step trains, called without `training`
(or with `training=None`) inside a `tf.GradientTape` or a train step.

## Why is this bad?
Outside `Model.fit`, Keras resolves a missing `training` to inference mode:
BatchNormalization never updates its moving statistics and Dropout never
drops. The model trains, no error is raised, and it generalises worse.

## Example
```python
import keras
import tensorflow as tf

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam()


def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x)
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
The fix is safe when the model's variables are the tape's gradient sources
(or it is `self` or an unfrozen sub-layer of `self` and the sources are
`self.trainable_variables`, or `self` in a train step without a tape). It is
unsafe when the gradient sources can't be resolved (a parameter, a call
result): the model may be a teacher or a target network. It is unsafe too
for a model built from pretrained weights (`keras.applications.*` without
`weights=None`, `from_preset`, `from_pretrained`, `load_model`,
`hub.KerasLayer`), whose BatchNorm statistics fine-tuning usually keeps.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import (PRETRAINED_REASON, Example, FixAvailability, Rule, Source, Violation, pretrained_note, trained_fix,
                   trained_subject)

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


INVALID: list[Example] = [
    (
        "import tensorflow as tf\nfrom tensorflow import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_mean(model(x))\n"
        "    return tape.gradient(loss, model.trainable_variables)\n",
        "import tensorflow as tf\nfrom tensorflow import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def train_step(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_mean(model(x, training=True))\n"
        "    return tape.gradient(loss, model.trainable_variables)\n",
    ),
]
VALID: list[str] = [
    # a loss object is not a model: adding training= would raise TypeError
    "import tensorflow as tf\nimport keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n"
    "loss_fn = keras.losses.MeanSquaredError()\n\ndef train_step(x, y):\n    with tf.GradientTape() as tape:\n"
    "        loss = loss_fn(y, model(x, training=True))\n    return tape.gradient(loss, model.trainable_variables)\n",
    # the teacher's weights are not differentiated: it is not trained here
    "import tensorflow as tf\nimport keras\n\nteacher = keras.Sequential([keras.layers.Dense(1)])\n"
    "student = keras.Sequential([keras.layers.Dense(1)])\n\ndef train_step(x):\n    with tf.GradientTape() as tape:\n"
    "        loss = tf.reduce_mean(student(x, training=True) - teacher(x))\n"
    "    return tape.gradient(loss, student.trainable_variables)\n",
]


def check(site: CallSite, source: Source) -> Violation | None:
    if site.context.kind != "train" or site.method or site.trained is False or site.state not in ("missing", "none"):
        return None
    return Violation(f"{trained_subject(site)} called without `training=True`{pretrained_note(site)}",
                     trained_fix(site, "Add" if site.state == "missing" else "Replace with", False,
                                 PRETRAINED_REASON if site.pretrained else ""))


RULE = Rule(
    code="TRN001",
    name="trained-model-without-training",
    summary="Trained model called without `training=True`",
    fix=FixAvailability.SOMETIMES,
    doc=__doc__ or "",
    module=__name__,
    check=check,
    invalid=tuple(INVALID),
    valid=tuple(VALID),
)
