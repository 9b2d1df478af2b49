"""Which files can hold a context at all, decided on their bytes before any parse.

Kept apart from the engine so a run whose files are all cached or all rejected
here never imports the analysis.
"""
from __future__ import annotations

import functools
import re

from .config import Config


# Keras 3 on PyTorch (`loss.backward()`) and JAX (`jax.value_and_grad`, `jax.grad`) train without a tape
_BACKENDS = ("GradientTape", ".backward(", "value_and_grad", "jax.grad")


def may_have_findings(text: str, config: Config) -> bool:
    """Exact prefilter: a finding needs a GradientTape, a backend training loop or a configured step function
    (or, with TRN100 selected, a suppression comment naming trainfix or a TRN code)."""
    return any(word in text for word in _BACKENDS) or _step_def(config.step_names).search(text) is not None or \
        (_suppressions_wanted(config) and ("trainfix" in text or "TRN" in text))


def _suppressions_wanted(config: Config) -> bool:
    return config.enabled("TRN100")


# Python's whitespace between tokens, including a backslash continuation
_GAP = r"(?:[ \t\f]|\\(?:\r\n|\r|\n))"


@functools.lru_cache(maxsize=64)
def _step_def(names: tuple[str, ...]) -> re.Pattern[str]:
    # one pass over the text (the literal `def` lets the regex engine skip ahead); `[` for 3.12 generics
    return re.compile(r"def%s+(?:%s)%s*[(\[]" % (_GAP, "|".join(map(re.escape, names)) or "(?!)", _GAP))


def may_have_findings_bytes(raw: bytes, config: Config) -> bool:
    """The same prefilter on undecoded bytes (source encodings are ASCII supersets)."""
    return any(word in raw for word in _BACKENDS_BYTES) or _step_def_bytes(config.step_names).search(raw) is not None \
        or (_suppressions_wanted(config) and (b"trainfix" in raw or b"TRN" in raw))


_BACKENDS_BYTES = tuple(word.encode() for word in _BACKENDS)


@functools.lru_cache(maxsize=64)
def _step_def_bytes(names: tuple[str, ...]) -> re.Pattern[bytes]:
    return re.compile(_step_def(names).pattern.encode())
