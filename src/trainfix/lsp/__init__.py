"""`trainfix server`: a language server over stdio (diagnostics, quick fixes, rule docs on hover).

pygls and lsprotocol come with the optional extra (`pip install 'trainfix[lsp]'`);
they are imported only here, when the server starts, so the CLI never needs them.
"""
from __future__ import annotations

import sys

INSTALL_HINT = "pip install 'trainfix[lsp]'"
NEEDED = ("pygls", "lsprotocol", "cattrs", "attrs")


def main() -> int:
    """Serve over stdin/stdout until the client says exit; 2 when the extra is missing."""
    try:
        from .server import serve
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in NEEDED:
            raise
        print(f"trainfix: error: the language server needs the `lsp` extra ({exc.name} is not installed); "
              f"install it with: {INSTALL_HINT}", file=sys.stderr)
        return 2
    return serve()
