"""TRN003 eval-model-without-training

## What it does
Checks for a Keras model called without `training` (or with
`training=None`) in an evaluation or prediction step (`test_step`,
`val_step`, `predict_step`, ...).

## Why is this bad?
Whether the call runs in inference mode then depends on the call default
and on Keras' global learning phase; an explicit `training=False` states
that BatchNormalization uses its moving statistics and Dropout is off.

## Example
```python
import keras

model = keras.Sequential([keras.layers.Dense(64), keras.layers.Dropout(0.5), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def val_step(x, y):
    logits = model(x)
    return loss_fn(y, logits)
```

## Use instead
```python
import keras

model = keras.Sequential([keras.layers.Dense(64), keras.layers.Dropout(0.5), keras.layers.Dense(10)])
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)


def val_step(x, y):
    logits = model(x, training=False)
    return loss_fn(y, logits)
```

## Fix safety
Always safe: the callee is certainly a Keras model or layer, which accepts
`training=False`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..findings import Fix
from .base import Example, FixAvailability, Rule, Source, Violation, training_value

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


INVALID: list[Example] = [
    (
        "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def test_step(x):\n    return model(x)\n",
        "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
        "def test_step(x):\n    return model(x, training=False)\n",
    ),
]
VALID: list[str] = [
    "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\nmetric = keras.metrics.Mean()\n\n"
    "def test_step(x):\n    metric(model(x, training=False))\n",
]


def check(site: CallSite, source: Source) -> Violation | None:
    if site.context.kind not in ("eval", "predict") or site.method or site.state not in ("missing", "none"):
        return None
    value = training_value(site, "False")
    verb = "Add" if site.state == "missing" else "Replace with"
    fix = Fix("safe", f"{verb} `training={value}`", value) if site.fixable else None
    return Violation(f"Model `{site.callee}` called without `training=False` in an evaluation step", fix)


RULE = Rule(
    code="TRN003",
    name="eval-model-without-training",
    summary="Model called without `training=False` in an evaluation step",
    fix=FixAvailability.ALWAYS,
    doc=__doc__ or "",
    module=__name__,
    check=check,
    invalid=tuple(INVALID),
    valid=tuple(VALID),
)
