"""TRN100 unused-suppression

## What it does
Checks for `# trainfix: ignore[...]` and `# noqa: TRN...` comments that
suppress nothing: the named rule reports no finding on that line. Opt-in, like
ruff's RUF100: enable it with `extend-select = ["TRN100"]` or
`--extend-select TRN100`.

## Why is this bad?
A suppression outlives the code it was written for. Once the call is fixed or
moved, the comment silences nothing today and hides a real finding tomorrow.

## Example
```python
import keras

model = keras.Sequential([keras.layers.Dense(64), keras.layers.Dropout(0.5), keras.layers.Dense(10)])


def val_step(x):
    return model(x, training=False)  # trainfix: ignore[TRN003]
```

## Use instead
```python
import keras

model = keras.Sequential([keras.layers.Dense(64), keras.layers.Dropout(0.5), keras.layers.Dense(10)])


def val_step(x):
    return model(x, training=False)
```

## Fix safety
Always safe: the fix removes the unused codes from the comment, or the
suppression when no code is left (other text in the comment is kept), and
changes no code. Codes of other tools (`# noqa: E501`), a bare `# noqa`, and
codes of rules not selected in the run are never reported.
"""
from __future__ import annotations

from .base import Example, FixAvailability, Rule

_HEAD = "import keras\n\nmodel = keras.Sequential([keras.layers.Dense(1)])\n\n"
INVALID: list[Example] = [
    (_HEAD + "def test_step(x):\n    return model(x, training=False)  # noqa: TRN003\n",
     _HEAD + "def test_step(x):\n    return model(x, training=False)\n"),
    (_HEAD + "def test_step(x):\n    return model(x, training=False)  # trainfix: ignore[TRN003, TRN004]  # why\n",
     _HEAD + "def test_step(x):\n    return model(x, training=False)  # why\n"),
    (_HEAD + "def test_step(x):\n    return model(x)  # trainfix: ignore[TRN003, TRN004]\n",
     _HEAD + "def test_step(x):\n    return model(x)  # trainfix: ignore[TRN003]\n"),
    (_HEAD + "def test_step(x):\n    return model(x, training=False)  # noqa: E501, TRN003\n",
     _HEAD + "def test_step(x):\n    return model(x, training=False)  # noqa: E501\n"),
]
VALID: list[str] = [
    _HEAD + "def test_step(x):\n    return model(x)  # trainfix: ignore[TRN003]\n",
    _HEAD + "def test_step(x):\n    return model(x)  # noqa: TRN003\n",
    _HEAD + "def test_step(x):\n    return model(x, training=False)  # noqa: E501\n",
    _HEAD + "def test_step(x):\n    return model(x, training=False)  # noqa\n",
]


RULE = Rule(
    code="TRN100",
    name="unused-suppression",
    summary="Suppression comment that suppresses nothing",
    fix=FixAvailability.ALWAYS,
    doc=__doc__ or "",
    module=__name__,
    check=None,  # not per call: the engine reports it from the comments once every call is checked
    invalid=tuple(INVALID),
    valid=tuple(VALID),
    opt_in=True,
)
