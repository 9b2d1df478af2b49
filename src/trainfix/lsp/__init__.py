"""`trainfix server`: a language server over stdio (diagnostics, quick fixes, rule docs on hover).

pygls and lsprotocol come with the optional `lsp` extra; they are imported
only here, when the server starts, so the CLI never needs them.
"""
from __future__ import annotations

import shlex
import sys
from importlib import metadata

NEEDED = ("pygls", "lsprotocol", "cattrs", "attrs")


def main() -> int:
    """Serve over stdin/stdout until the client says exit; 2 when the extra is missing."""
    try:
        from .server import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in NEEDED:
            raise
        print(f"trainfix: error: the language server needs the `lsp` extra ({exc.name} is not installed); "
              f"install it with: {install_hint()}", file=sys.stderr)
        return 2
    return serve()


def install_hint() -> str:
    """The command that installs the extra's packages next to this trainfix.

    trainfix is not on PyPI, so `pip install 'trainfix[lsp]'` would fetch nothing
    (or someone else's package): name the extra's own requirements instead.
    """
    try:
        requires = metadata.requires("trainfix") or []
    except metadata.PackageNotFoundError:
        requires = []
    wanted = [r.split(";")[0].strip() for r in requires if "extra == \"lsp\"" in r.replace("'", '"')]
    if not wanted:
        return "pip install './trainfix[lsp]' from a clone of trainfix"
    return " ".join([shlex.quote(sys.executable), "-m", "pip", "install", *map(shlex.quote, wanted)])
