"""One configuration resolver: the CLI (walk, named file, stdin), the LibCST codemods and the
library API find the same `[tool.trainfix]` for every file of one tree, a symlinked file
included, and so report the same findings."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import BUGGY, run_trainfix
from trainfix import fix_source
from trainfix import config as config_module

TEXT = BUGGY + "\n\ndef score(x):\n    return model(x)\n"
TRAIN_LINE, SCORE_LINE = 10, TEXT.count("\n")
CONFIGS = {
    "proj": '[tool.trainfix]\nextend-eval-functions = ["score"]\n',  # TRN001 and TRN003
    "proj/sub": "[tool.trainfix]\n",  # TRN001 only
    "outside": '[tool.trainfix]\nignore = ["TRN001"]\n',  # nothing
}


@pytest.fixture
def tree(tmp_path):
    for folder, table in CONFIGS.items():
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
        (tmp_path / folder / "pyproject.toml").write_text(table)
    for name in ("proj/a.py", "proj/sub/b.py", "proj/sub/deeper/c.py", "outside/real.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(TEXT)
    # a file is configured where it is named, as ruff does: the link by proj's table, not outside's
    (tmp_path / "proj" / "link.py").symlink_to(tmp_path / "outside" / "real.py")
    return tmp_path


FILES = ["proj/a.py", "proj/link.py", "proj/sub/b.py", "proj/sub/deeper/c.py"]
EXPECTED = {
    ("proj/a.py", "TRN001", TRAIN_LINE), ("proj/a.py", "TRN003", SCORE_LINE),
    ("proj/link.py", "TRN001", TRAIN_LINE), ("proj/link.py", "TRN003", SCORE_LINE),
    ("proj/sub/b.py", "TRN001", TRAIN_LINE), ("proj/sub/deeper/c.py", "TRN001", TRAIN_LINE),
}


def _trainfix(*args, cwd, input=None):
    p = run_trainfix("--check", "--no-cache", "--output-format", "json", *args, cwd=cwd, input=input, text=True)
    assert p.returncode == 1, p.stderr
    return {(r["filename"], r["code"], r["line"]) for r in json.loads(p.stdout)}


def test_cli_codemods_stdin_and_api_find_the_same_config(tree):
    walked = _trainfix("proj", cwd=tree)
    named = _trainfix(*FILES, cwd=tree)
    piped = set()
    for name in FILES:
        piped |= _trainfix("--stdin-filename", name, "-", cwd=tree, input=TEXT)

    codemod = subprocess.run([sys.executable, "-m", "libcst.tool", "codemod", "--hide-progress", "--no-format",
                              "-x", "trainfix.codemods.CheckTrainingArgument", "proj"],
                             cwd=tree, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in codemod.stderr, codemod.stderr
    codemods = {(m[1], m[3], int(m[2])) for m in re.finditer(r"(proj/\S+\.py):(\d+):\d+: (TRN\d+)", codemod.stderr)}

    api = set()
    for name in FILES:
        config = config_module.load(tree / name)
        api |= {(name, f.code, f.line) for f in fix_source((tree / name).read_text(), config=config).findings}

    assert walked == EXPECTED
    assert named == EXPECTED
    assert piped == EXPECTED
    assert codemods == EXPECTED
    assert api == EXPECTED


class _PathLike:
    def __init__(self, path):
        self.path = path

    def __fspath__(self):
        return str(self.path)


@pytest.mark.parametrize("kind", [str, Path, _PathLike])
def test_config_functions_take_str_and_pathlike(tree, kind, monkeypatch):
    monkeypatch.chdir(tree)
    for where in (tree / "proj" / "sub" / "deeper", "proj/sub/deeper", "proj/link.py"):
        arg = kind(where) if kind is not _PathLike else _PathLike(where)
        assert config_module.load(arg).source.parent.name in ("sub", "proj")
        found = config_module.find_pyproject(arg)
        assert found is not None and Path(found).name == "pyproject.toml"
    assert config_module.load(kind("proj/a.py")).eval_functions[-1] == "score"
    assert config_module.has_table(kind("proj/pyproject.toml"))
    assert config_module.load_pyproject(kind("outside/pyproject.toml")).ignore == ("TRN001",)
