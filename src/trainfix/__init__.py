"""trainfix: find and fix Keras models called with the wrong `training` flag.

Library use::

    from trainfix import fix_source
    result = fix_source(text)          # findings + new text (safe fixes applied)
    result.findings, result.new_source
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .config import Config, ConfigError
from .errors import SourceError
from .version import __version__

if TYPE_CHECKING:
    from .engine import Result, fix_source

__all__ = ["Config", "ConfigError", "Result", "SourceError", "fix_source", "__version__"]


def __getattr__(name: str) -> object:
    # the engine (and with it the analysis) is imported on first use: a CLI run whose
    # files are all cached or all rejected by the prefilter never needs it
    if name in ("Result", "fix_source"):
        from . import engine

        return getattr(engine, name)
    raise AttributeError(f"module 'trainfix' has no attribute {name!r}")
