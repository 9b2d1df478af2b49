"""One file in, one `FileOutcome` out: read, decode, fix, verify, write."""
from __future__ import annotations

from pathlib import Path

from .config import Config
from .engine import SourceError, fix_source
from .files import decode, write_atomic
from .report import FileOutcome


def _error(shown: str, exc: SourceError) -> str:
    where = shown
    if exc.line:
        where += f":{exc.line}"
        if exc.column:
            where += f":{exc.column}"
    return f"{where}: error: {exc.reason}"


def process_text(shown: str, raw: bytes, config: Config, unsafe: bool) -> tuple[FileOutcome, bytes | None]:
    """Analyse raw file bytes; returns the outcome and the new bytes (None when unchanged)."""
    outcome = FileOutcome(shown)
    try:
        decoded = decode(raw)
        result = fix_source(decoded.text, config, unsafe=unsafe)
    except SourceError as exc:
        outcome.error = _error(shown, exc)
        return outcome, None
    except Exception as exc:  # never let one file stop the run
        outcome.error = f"{shown}: error: internal error: {type(exc).__name__}: {exc}"
        return outcome, None
    outcome.findings, outcome.skipped = result.findings, result.skipped
    outcome.old, outcome.new = result.source, result.new_source
    if not result.changed:
        return outcome, None
    return outcome, result.new_source.encode(decoded.encoding)


def process_file(path: Path, shown: str, config: Config, unsafe: bool, write: bool) -> FileOutcome:
    try:
        raw = path.read_bytes()
    except IsADirectoryError:
        return FileOutcome(shown, error=f"{shown}: error: is a directory")
    except OSError as exc:
        return FileOutcome(shown, error=f"{shown}: error: cannot read: {exc.strerror or exc}")
    if path.suffix == ".ipynb":
        from .notebook_runner import process_notebook

        return process_notebook(path, shown, raw, config, unsafe, write)
    outcome, new = process_text(shown, raw, config, unsafe)
    if new is not None and write:
        import hashlib

        try:
            write_atomic(path, new, hashlib.sha256(raw).hexdigest())
            outcome.written = True
        except SourceError as exc:
            outcome.error = _error(shown, exc)
        except OSError as exc:
            outcome.error = f"{shown}: error: cannot write: {exc.strerror or exc}"
    return outcome
