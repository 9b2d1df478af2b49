"""TRN005 predict-inside-tape

## What it does
Checks for `.predict(...)` (or `.predict_on_batch(...)`) called on the trained
model inside a gradient tape.

## Why is this bad?
`predict` runs its own inference loop and returns NumPy arrays: nothing it
computes is recorded by the tape, so the gradients are `None` and the model
does not learn.

## Example
```python
import keras
import tensorflow as tf

policy = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(4, activation="softmax")])
optimizer = keras.optimizers.Adam()


def update(states, actions, returns):
    with tf.GradientTape() as tape:
        probs = policy.predict(states, verbose=0)
        chosen = tf.gather(probs, actions, batch_dims=1)
        loss = -tf.reduce_mean(tf.math.log(chosen) * returns)
    grads = tape.gradient(loss, policy.trainable_variables)
    optimizer.apply_gradients(zip(grads, policy.trainable_variables))
```

## Use instead
```python
import keras
import tensorflow as tf

policy = keras.Sequential([keras.layers.Dense(64, activation="relu"), keras.layers.Dense(4, activation="softmax")])
optimizer = keras.optimizers.Adam()


def update(states, actions, returns):
    with tf.GradientTape() as tape:
        probs = policy(states, training=True)
        chosen = tf.gather(probs, actions, batch_dims=1)
        loss = -tf.reduce_mean(tf.math.log(chosen) * returns)
    grads = tape.gradient(loss, policy.trainable_variables)
    optimizer.apply_gradients(zip(grads, policy.trainable_variables))
```

## Fix safety
No fix is offered: replacing `predict` by a call changes return types
(NumPy to tensors) that the code around it may depend on.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Example, FixAvailability, Rule, Source, Violation

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


INVALID: list[Example] = [
    (
        "import tensorflow as tf\nimport keras\n\npolicy = keras.Sequential([keras.layers.Dense(2)])\n\n"
        "def update(s):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_sum(policy.predict(s))\n"
        "    return tape.gradient(loss, policy.trainable_variables)\n",
        None,
    ),
]
VALID: list[str] = [
    "import keras\n\npolicy = keras.Sequential([keras.layers.Dense(2)])\n\n"
    "def act(s):\n    return policy.predict(s)\n",
]


def check(site: CallSite, source: Source) -> Violation | None:
    if not site.method:
        return None
    return Violation(f"`{site.callee}(...)` inside a gradient tape returns NumPy: no gradient flows")


RULE = Rule(
    code="TRN005",
    name="predict-inside-tape",
    summary="`.predict()` on the trained model inside a gradient tape",
    fix=FixAvailability.NEVER,
    doc=__doc__ or "",
    module=__name__,
    check=check,
    invalid=tuple(INVALID),
    valid=tuple(VALID),
)
