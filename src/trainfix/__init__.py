"""trainfix: find and fix Keras models called with the wrong `training` flag.

Library use::

    from trainfix import fix_source
    result = fix_source(text)          # findings + new text (safe fixes applied)
    result.findings, result.new_source
"""
from __future__ import annotations

__version__ = "0.1.0"

from .config import Config, ConfigError
from .engine import Result, SourceError, fix_source

__all__ = ["Config", "ConfigError", "Result", "SourceError", "fix_source", "__version__"]
