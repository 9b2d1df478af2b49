"""TRN006 helper-shared-by-train-and-eval

## What it does
Checks for a model called without `training` inside a helper function that
both a training step and an evaluation step call.

## Why is this bad?
The helper runs the model in whatever mode Keras resolves a missing
`training` to, which is inference outside `Model.fit`: during training
BatchNormalization never updates its statistics and Dropout never drops.
No literal is right for both callers: `training=True` would switch
BatchNormalization and Dropout to training mode during evaluation.

## Example
```python
import keras
import tensorflow as tf

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam()


def forward(model, x):
    return model(x)


def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, forward(model, x))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))


def test_step(x, y):
    return loss_fn(y, forward(model, x))
```

## Use instead
```python
import keras
import tensorflow as tf

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam()


def forward(model, x, training):
    return model(x, training=training)


def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, forward(model, x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))


def test_step(x, y):
    return loss_fn(y, forward(model, x, training=False))
```

## Fix safety
There is no automatic fix: the helper needs a `training` parameter that each
caller passes, which changes its signature and every call of it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Example, FixAvailability, Rule, Source, Violation

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


INVALID: list[Example] = [
    (
        "import tensorflow as tf\nimport keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def forward(model, x):\n    return model(x)\n\ndef train_step(x):\n    with tf.GradientTape() as tape:\n"
        "        loss = tf.reduce_mean(forward(model, x))\n    return tape.gradient(loss, model.trainable_variables)\n\n"
        "def test_step(x):\n    return forward(model, x)\n",
        None,
    ),
]
VALID: list[str] = [
    # the helper forwards a `training` parameter: each caller decides
    "import tensorflow as tf\nimport keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
    "def forward(model, x, training):\n    return model(x, training=training)\n\ndef train_step(x):\n"
    "    with tf.GradientTape() as tape:\n        loss = tf.reduce_mean(forward(model, x, training=True))\n"
    "    return tape.gradient(loss, model.trainable_variables)\n\n"
    "def test_step(x):\n    return forward(model, x, training=False)\n",
]


def check(site: CallSite, source: Source) -> Violation | None:
    if site.context.kind != "shared" or site.state not in ("missing", "none"):
        return None
    return Violation(f"Model `{site.callee}` called without `training` in a helper shared by train and eval "
                     "steps; add a `training` parameter and forward it")


RULE = Rule(
    code="TRN006",
    name="helper-shared-by-train-and-eval",
    summary="Model called without `training` in a helper shared by train and eval steps",
    fix=FixAvailability.NEVER,
    doc=__doc__ or "",
    module=__name__,
    check=check,
    invalid=tuple(INVALID),
    valid=tuple(VALID),
)
