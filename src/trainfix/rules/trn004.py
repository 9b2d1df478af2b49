"""TRN004 eval-model-training-true

## What it does
Checks for a Keras model called with `training=True` in an evaluation or
prediction step.

## Why is this bad?
In training mode BatchNormalization updates its moving statistics with the
validation data and Dropout makes the metrics noisy, so evaluating a model
changes it and its scores differ from run to run.

## Example
```python
import keras

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
val_loss = keras.metrics.Mean()


def test_step(x, y):
    logits = model(x, training=True)
    val_loss.update_state(loss_fn(y, logits))
```

## Use instead
```python
import keras

model = keras.Sequential([keras.layers.Dense(64), keras.layers.BatchNormalization(), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
val_loss = keras.metrics.Mean()


def test_step(x, y):
    logits = model(x, training=False)
    val_loss.update_state(loss_fn(y, logits))
```

## Fix safety
Safe in an eval-function (`test_step`, `val_step`, ...). Unsafe in a
predict-function (`predict_step`, `inference_step`), inside a loop or
comprehension (repeated stochastic passes), or where a comment on the call's
line or the line above mentions dropout, MC/Monte Carlo, uncertainty or
intent: Monte-Carlo dropout calls the model in training mode on purpose.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import INTENT, Finding, Fix, Source, training_value

if TYPE_CHECKING:
    from ..analysis.contexts import CallSite

CODE = "TRN004"
NAME = "eval-model-training-true"
SUMMARY = "Model called with `training=True` in an evaluation step"
FIX_SAFETY = "sometimes unsafe"  # safe | sometimes unsafe | display only (read by `trainfix rules` and the docs)

INVALID = [
    (
        "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def test_step(x):\n    return model(x, training=True)\n",
        "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def test_step(x):\n    return model(x, training=False)\n",
    ),
]
VALID = [
    "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
    "def test_step(x):\n    return model(x, training=False)\n",
]


def check(site: CallSite, source: Source) -> Finding | None:
    if site.context.kind not in ("eval", "predict") or site.method or site.state != "true":
        return None
    reason = ("a predict step may call the model in training mode on purpose (Monte-Carlo dropout)"
              if site.context.kind == "predict" else
              "inside a loop or comprehension: repeated stochastic passes may be deliberate" if site.in_loop else
              "a comment on the call or the line above mentions dropout, Monte Carlo, uncertainty or intent"
              if INTENT.search(source.comment_near(site.call)) else "")
    value = training_value(site, "False")
    fix = Fix("unsafe" if reason else "safe", f"Replace with `training={value}`", value, reason) \
        if site.fixable else None
    return Finding(CODE, f"Model `{site.callee}` called with `training=True` in an evaluation step", 0, 0, 0, 0, fix)
