"""The architecture's rules, checked by the tools that define them (issue 12).

mypy --strict over the package, import-linter's contracts in pyproject.toml (no
import cycle, layers), and radon: no function graded D or worse, no module over
600 lines.
"""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "trainfix"
BIN = Path(sys.executable).parent


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)


@pytest.mark.xdist_group("mypy")
def test_mypy_strict_passes_on_the_package():
    done = _run(sys.executable, "-m", "mypy", "--no-incremental")  # files and strictness: [tool.mypy]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout


def test_import_contracts_are_kept():
    done = _run(str(BIN / "lint-imports"), "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_function_is_graded_d_or_worse():
    from radon.complexity import cc_rank, cc_visit

    worse = [f"{path.relative_to(ROOT)}:{block.lineno} {block.fullname} {cc_rank(block.complexity)} ({block.complexity})"
             for path in sorted(PACKAGE.rglob("*.py"))
             for block in cc_visit(path.read_text(encoding="utf-8"))
             if cc_rank(block.complexity) >= "D"]
    assert worse == []


def test_no_module_is_over_600_lines():
    long = [f"{path.relative_to(ROOT)}: {n}" for path in sorted(PACKAGE.rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > 600]
    assert long == []


# functions allowed over 60 lines, and why
LONG_FUNCTIONS = {"lsp/server.py:make_server": "the table of the server's LSP handlers, one short closure each"}


def test_no_function_is_over_60_lines_without_reason():
    long = {f"{path.relative_to(PACKAGE)}:{node.name}"
            for path in sorted(PACKAGE.rglob("*.py"))
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60}
    assert long == set(LONG_FUNCTIONS)
