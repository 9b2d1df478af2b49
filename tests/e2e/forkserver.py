"""Run e2e programs in processes forked from one that has already imported TensorFlow.

Importing TensorFlow and Keras costs about 4 s of CPU; running one of the e2e
scripts costs a fraction of a second more. This server imports them once, then
forks a child for every run: each program still runs in a process of its own
(its own globals, Keras state, random seeds, exit code, stdout and stderr), as
``python SCRIPT ARGS`` would run it, minus the import. Nothing else has run in
the parent before the fork: no op, no model, no session.

Protocol, one JSON object per line: the client writes
``{"argv": [SCRIPT, ARGS...], "cwd": DIR, "stdout": FILE, "stderr": FILE}``; the
server answers ``{"pid": PID}`` when the child starts and ``{"returncode": N}``
when it ends. The server ends when its stdin closes.
"""

from __future__ import annotations

import json
import os
import sys

PRELOAD = ("numpy", "tensorflow", "keras")


def _child(request: dict) -> int:
    """In the forked child: run the script as `python SCRIPT ARGS` would; returns the exit code."""
    import runpy
    import traceback

    for fd, name in ((1, "stdout"), (2, "stderr")):
        target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, fd)
        os.close(target)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)  # the parent's stdin carries the requests
    os.close(devnull)
    sys.stdout = open(1, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    sys.stdin = open(0, encoding="utf-8", closefd=False)
    script = request["argv"][0]
    os.chdir(request["cwd"])
    sys.argv = list(request["argv"])
    sys.path[0] = os.path.dirname(os.path.abspath(script))  # what `python SCRIPT` puts first
    try:
        runpy.run_path(script, run_name="__main__")
        code = 0
    except SystemExit as exc:
        if exc.code is None:
            code = 0
        elif isinstance(exc.code, int):
            code = exc.code
        else:
            print(exc.code, file=sys.stderr)
            code = 1
    except BaseException:  # what the interpreter does with an uncaught exception
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def serve() -> None:
    for name in PRELOAD:
        __import__(name)
    out = sys.stdout
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = _child(request)
            finally:
                os._exit(code & 0xFF)
        out.write(json.dumps({"pid": pid}) + "\n")
        out.flush()
        _, status = os.waitpid(pid, 0)
        out.write(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}) + "\n")
        out.flush()


if __name__ == "__main__":
    serve()
