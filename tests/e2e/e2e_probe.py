"""Measurement harness shared by the runnable scripts in tests/e2e/scripts/.

A script run as ``python SCRIPT --probe OUT.json`` builds its models, then calls
:func:`measure` with zero-argument callables that run ONE training step and ONE
evaluation step of the script's own code on a fixed tiny batch.  ``measure``
records, per network:

* the largest ``|delta moving_mean|`` over all its BatchNormalization layers
  across the training step and across the evaluation step;
* whether dropout was active: the step is run a second time from the same
  weights (restored) on the same batch; its outputs differ only if some random
  layer (Dropout) was in training mode.  In inference mode the two passes are
  bit-identical.

The result is written as JSON and echoed on stdout.  This module is imported by
the scripts (tests/e2e/ is put on PYTHONPATH by tests/e2e/test_e2e.py); it is
never rewritten by trainfix.
"""

from __future__ import annotations

import json
import sys

import numpy as np


def _sublayers(layer):
    # Keras 3 and tf_keras both expose direct sub-layers as ``.layers`` on
    # models; plain layers have none.  Walk recursively, each layer once.
    seen: set[int] = set()
    stack = [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        stack.extend(getattr(current, "layers", None) or [])


def bn_layers(model) -> list:
    return [
        layer
        for layer in _sublayers(model)
        if type(layer).__name__.startswith("BatchNormalization")
        and getattr(layer, "moving_mean", None) is not None
    ]


def moving_means(model) -> list[np.ndarray]:
    return [np.array(layer.moving_mean.numpy(), copy=True) for layer in bn_layers(model)]


def max_abs_delta(before: list[np.ndarray], after: list[np.ndarray]) -> float:
    if not before:
        return 0.0
    return float(max(np.max(np.abs(a - b)) for a, b in zip(before, after)))


def _save(nets: dict) -> dict:
    # ``weights`` (not ``variables``): in Keras 3 ``variables`` also holds the
    # dropout seed-generator state, and restoring it would replay the same
    # dropout mask.
    return {name: [np.array(w.numpy(), copy=True) for w in m.weights] for name, m in nets.items()}


def _restore(nets: dict, saved: dict) -> None:
    for name, m in nets.items():
        for w, value in zip(m.weights, saved[name]):
            w.assign(value)


def _flat(result) -> np.ndarray:
    if isinstance(result, dict):
        result = [result[k] for k in sorted(result)]
    if isinstance(result, (list, tuple)):
        return np.concatenate([_flat(r) for r in result]) if result else np.zeros(0)
    if hasattr(result, "numpy"):
        result = result.numpy()
    return np.asarray(result, dtype="float64").ravel()


def _keras_package(model) -> str:
    for cls in type(model).__mro__:
        top = cls.__module__.split(".")[0]
        if top in ("keras", "tf_keras", "tensorflow"):
            return top
    return "?"


def _step(fn, nets):
    """Run ``fn`` twice from the same weights; return (bn delta per net, random?)."""
    saved = _save(nets)
    before = {n: moving_means(m) for n, m in nets.items()}
    first = _flat(fn())
    delta = {n: max_abs_delta(before[n], moving_means(m)) for n, m in nets.items()}
    _restore(nets, saved)
    second = _flat(fn())
    _restore(nets, saved)
    random_active = bool(first.shape != second.shape or np.any(first != second))
    return delta, random_active


def measure(out_path, *, train, evaluate, trained: dict, frozen: dict | None = None) -> dict:
    """Measure one training step and one evaluation step; write JSON to out_path.

    trained: networks the training step is meant to train (name -> model).
    frozen:  networks used by the step but not trained (e.g. a distillation
             teacher); their statistics must never move.
    """
    import tensorflow as tf

    frozen = dict(frozen or {})
    nets = {**trained, **frozen}
    for name, m in nets.items():
        if not bn_layers(m):
            raise SystemExit(f"probe: network {name!r} has no built BatchNormalization layer")
    train_delta, train_random = _step(train, nets)
    eval_delta, eval_random = _step(evaluate, nets)
    try:
        keras_version = __import__("keras").__version__
    except Exception:  # pragma: no cover - keras always ships with TF >= 2.16
        keras_version = None
    tf_keras = sys.modules.get("tf_keras")
    report = {
        "tensorflow": tf.__version__,
        "keras": keras_version,
        "tf_keras": getattr(tf_keras, "__version__", None),
        "keras_of_models": sorted({_keras_package(m) for m in nets.values()}),
        "trained": sorted(trained),
        "frozen": sorted(frozen),
        "bn_layers": {n: len(bn_layers(m)) for n, m in nets.items()},
        "train_bn_delta": train_delta,
        "eval_bn_delta": eval_delta,
        "train_dropout_active": train_random,
        "eval_dropout_active": eval_random,
    }
    text = json.dumps(report, indent=2, sort_keys=True)
    with open(out_path, "w", encoding="utf-8") as fh:
        fh.write(text + "\n")
    print("probe:", json.dumps(report, sort_keys=True))
    sys.stdout.flush()
    return report
