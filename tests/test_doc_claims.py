"""Claims the docs make in prose, each read from its page and checked against the real tool."""
import json
import re
import shutil
import subprocess
import tomllib

from conftest import ROOT, trainfix_exe
from trainfix.docs import code_blocks
from trainfix.files import SUFFIXES

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(p for p in DOCS.glob("*.md")) + [README]
NOTEBOOK = ROOT / "tests" / "notebooks" / "training_loop.ipynb"
EXAMPLE = ROOT / "examples" / "train_custom_loop.py"
ANSI = "\x1b["


def run(*args, cwd, env=None):
    return subprocess.run([trainfix_exe(), *map(str, args)], cwd=cwd, capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **(env or {})})


def section(page, heading: str) -> str:
    text = page.read_text()
    start = text.index(heading)
    end = text.find("\n#", start + len(heading))
    return text[start:end if end != -1 else None]


def paragraph(text: str, start: str) -> str:
    """The paragraph, or list item, that begins with `start`, on one line."""
    at = text.index(start)
    ends = [e for e in (text.find("\n\n", at), text.find("\n- ", at)) if e != -1]
    return " ".join(text[at:min(ends) if ends else None].split())


# -- notebooks.md ---------------------------------------------------------------------------------


def test_sarif_properties_are_those_notebooks_md_names(tmp_path):
    claim = paragraph((DOCS / "notebooks.md").read_text(), "- **sarif**")
    named = re.search(r"`properties`: (.*?)\.", claim)[1]
    keys = re.findall(r"`(\w+)`", named)
    assert keys == ["cell", "cellLine", "cellColumn"], claim
    shutil.copyfile(NOTEBOOK, tmp_path / "nb.ipynb")
    texts = run("check", "--output-format", "json", "nb.ipynb", cwd=tmp_path)
    sarif = run("check", "--output-format", "sarif", "nb.ipynb", cwd=tmp_path)
    records = json.loads(texts.stdout)
    results = json.loads(sarif.stdout)["runs"][0]["results"]
    assert len(results) == len(records) == 2
    for record, result in zip(records, results):
        props = result["properties"]
        assert (props["cell"], props["cellLine"], props["cellColumn"]) == \
            (record["cell"], record["line"], record["column"])
