"""Claims the docs make in prose, each read from its page and checked against the real tool."""
import json
import re
import shutil
import tomllib

from conftest import NOTEBOOKS, ROOT, code_blocks, run_trainfix
from trainfix.files import SUFFIXES

DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = sorted(p for p in DOCS.glob("*.md")) + [README]
NOTEBOOK = NOTEBOOKS / "training_loop.ipynb"
EXAMPLE = ROOT / "examples" / "train_custom_loop.py"
ANSI = "\x1b["


def run(*args, cwd, env=None):
    """trainfix as a user's fresh shell runs it: the system PATH, their own HOME."""
    return run_trainfix(*args, cwd=cwd, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), **(env or {})})


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


def test_a_notebook_of_another_language_is_what_notebooks_md_says(tmp_path):
    page = DOCS / "notebooks.md"
    errors = section(page, "## Notebooks that can't be processed")
    assert "kernel language" not in errors, "the error table lists a case that is not an error"
    claim = paragraph(page.read_text(), "A notebook whose kernel language is not Python")
    assert "skipped" in claim and "exit 0" in claim, claim
    data = json.loads(NOTEBOOK.read_text())
    data["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    data["metadata"]["language_info"] = {"name": "R"}
    nb = tmp_path / "r.ipynb"
    nb.write_text(json.dumps(data, indent=1))
    before = nb.read_bytes()
    for command in ("check", "apply"):
        p = run(command, nb.name, cwd=tmp_path)
        assert p.returncode == 0 and "error" not in p.stderr, (command, p.stderr)
        assert nb.read_bytes() == before


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


# -- usage.md ---------------------------------------------------------------------------------------


def test_colour_is_where_usage_md_says(tmp_path):
    claim = paragraph((DOCS / "usage.md").read_text(), "Text output is coloured")
    assert "only on a terminal" in claim and "NO_COLOR" in claim and "FORCE_COLOR" in claim, claim
    shutil.copyfile(EXAMPLE, tmp_path / "train.py")
    piped = run("check", "train.py", cwd=tmp_path)
    assert "TRN001" in piped.stdout and ANSI not in piped.stdout  # not a terminal: plain
    forced = run("check", "train.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert "TRN001" in forced.stdout and ANSI in forced.stdout
    off = run("check", "train.py", cwd=tmp_path, env={"FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert "TRN001" in off.stdout and ANSI not in off.stdout
    diff = run("apply", "--diff", "train.py", cwd=tmp_path, env={"FORCE_COLOR": "1"})
    assert ANSI in diff.stdout


def test_walked_suffixes_are_those_usage_md_names():
    claim = paragraph((DOCS / "usage.md").read_text(), "Folders are walked for")
    named = claim.split(" files", 1)[0]
    assert sorted(re.findall(r"`(\.\w+)`", named)) == sorted(SUFFIXES), claim


# -- install and copyable commands -----------------------------------------------------------------


def _shell_lines():
    """(page, line) for each command a reader may copy: sh blocks and `$ ` lines of console blocks."""
    for page in PAGES:
        for info, body in code_blocks(page.read_text()):
            kind = info.split(" ")[0]
            for line in body.splitlines():
                if kind == "sh" and line.strip() and not line.startswith("#"):
                    yield page, line
                elif kind == "console" and line.startswith("$ "):
                    yield page, line[2:]


def test_no_page_installs_trainfix_from_a_package_index():
    """trainfix is not released on PyPI: every page installs it from a clone or a git URL."""
    for page in PAGES:
        for m in re.finditer(r"pip install ([^\n`]*)", page.read_text()):
            words = re.findall(r"'[^']*'|\"[^\"]*\"|[^\s#]+|#.*", m[1])
            targets = [w.strip("'\"") for w in words if not w.startswith(("-", "#"))]
            for target in targets:
                if "trainfix" in target or target.startswith("."):
                    assert "git+" in target or target.startswith((".", "/")), (page.name, m[0])
    usage = (DOCS / "usage.md").read_text()
    assert "'trainfix @ git+<url>@<rev>'" in usage and "git clone <url>" in usage


def test_commands_to_copy_use_the_venv_prefix():
    """The README installs into .venv; every command shown afterwards runs from it the same way."""
    bare = re.compile(r"(^|&&\s*|\|\s*)(trainfix|python3?|pip|pytest)\b")
    offenders = []
    for page, line in _shell_lines():
        if line.startswith("python3 -m venv .venv"):
            line = line.split("&&", 1)[1] if "&&" in line else ""
        line = re.sub(r"^(\w+=\S+\s+)+", "", line)  # VAR=value before the command
        if bare.search(line):
            offenders.append(f"{page.name}: {line}")
    assert offenders == []


def test_readme_says_what_the_test_command_installs():
    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]["test"]
    assert any(d.startswith("tensorflow") for d in extra)
    claim = paragraph(README.read_text(), "The test command")
    assert "TensorFlow" in claim and "2 GB" in claim and "minutes" in claim, claim
