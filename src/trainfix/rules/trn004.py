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

from ..findings import Fix
from .base import INTENT, Example, FixAvailability, Rule, Source, Violation, training_value

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


INVALID: list[Example] = [
    (
        "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def test_step(x):\n    return model(x, training=True)\n",
        "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def test_step(x):\n    return model(x, training=False)\n",
    ),
]
VALID: list[str] = [
    "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
    "def test_step(x):\n    return model(x, training=False)\n",
]


def check(site: CallSite, source: Source) -> Violation | None:
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
    return Violation(f"Model `{site.callee}` called with `training=True` in an evaluation step", fix)


RULE = Rule(
    code="TRN004",
    name="eval-model-training-true",
    summary="Model called with `training=True` in an evaluation step",
    fix=FixAvailability.SOMETIMES,
    doc=__doc__ or "",
    module=__name__,
    check=check,
    invalid=tuple(INVALID),
    valid=tuple(VALID),
)
