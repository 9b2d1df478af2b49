"""The docs can't drift: generated pages match the code, and every example is run.

Conventions for code blocks in docs/*.md and README.md:
- a rule page's *Example* must give exactly that rule's finding, its fix (unsafe
  ones included) must turn it into *Use instead*, which has no finding at all;
- ```python before / ```python after: a pair, the first fixed by `trainfix apply`
  into the second, which is clean;
- ```python run: executed (library API examples with asserts);
- other ```python blocks must parse;
- ```console: every `$ .venv/bin/trainfix ...` command (the README's venv) runs, in order, in a
  temporary copy of examples/; the lines after a command are its exact standard output;
- ```toml: a [tool.trainfix] table must be a valid configuration (```toml languages.toml: Helix's, must parse);
- ```yaml: must parse; a pre-commit config names hooks of .pre-commit-hooks.yaml,
  a LibCST config names importable modules.
"""
import shlex
import shutil
import tomllib

import pytest
import yaml

from conftest import ROOT, code_blocks, run_trainfix
from trainfix import Config, fix_source
from trainfix.config import BOOL_OPTIONS, LIST_OPTIONS, STR_OPTIONS, from_table
from trainfix.docs import SECTIONS, main, pages, sections
from trainfix.rules import KNOWN_CODES, RULES

DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]
BLOCKS = [(page, i, info, body) for page in PAGES for i, (info, body) in enumerate(code_blocks(page.read_text()))]


def blocks(kind: str):
    found = [(p, i, info, body) for p, i, info, body in BLOCKS if info.split(" ")[0] == kind]
    return pytest.mark.parametrize("page,index,info,body", found,
                                   ids=[f"{p.relative_to(ROOT)}#{i}" for p, i, _, _ in found])


def test_generated_rule_pages_are_up_to_date():
    for rel, text in pages().items():
        path = DOCS / rel
        assert path.is_file(), f"{rel} is missing: run `python -m trainfix.docs`"
        assert path.read_text() == text, f"{rel} is out of date: run `python -m trainfix.docs`"
    assert main(["--check", "--docs", str(DOCS)]) == 0
    generated = {DOCS / rel for rel in pages()}
    assert set((DOCS / "rules").glob("*.md")) == generated  # no page for a rule that is gone


def test_docs_check_flags_a_stale_page(tmp_path):
    assert main(["--docs", str(tmp_path)]) == 0
    page = tmp_path / "rules" / "TRN001.md"
    page.write_text(page.read_text().replace("training", "trainning"))
    assert main(["--check", "--docs", str(tmp_path)]) == 1


def example_pair(rule):
    """The rule's *Example* and *Use instead* code."""
    s = sections(rule)
    [(_, before)] = code_blocks(s["Example"])
    [(_, after)] = code_blocks(s["Use instead"])
    return before, after


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_page_examples(rule):
    assert set(SECTIONS) <= set(sections(rule))
    page = (DOCS / "rules" / f"{rule.code}.md").read_text()
    before, after = example_pair(rule)
    assert f"```python\n{before}```" in page and f"```python\n{after}```" in page
    config = Config(select=KNOWN_CODES) if rule.opt_in else None  # TRN100 runs when selected
    result = fix_source(before, config=config, unsafe=True)
    assert [f.code for f in result.findings] == [rule.code]
    if result.findings[0].fix is not None:
        assert result.new_source == after
    else:  # display only: the fix is a change by hand
        assert result.new_source == before
    assert fix_source(after, config=config, unsafe=True).findings == []


def test_before_after_pairs():
    pairs = 0
    for page in PAGES:
        found = [(info.split()[1], body) for info, body in code_blocks(page.read_text())
                 if info.split()[:1] == ["python"] and info.split()[1:2] in (["before"], ["after"])]
        assert [kind for kind, _ in found] == ["before", "after"] * (len(found) // 2), page
        for (_, before), (_, after) in zip(found[::2], found[1::2]):
            result = fix_source(before)
            assert result.findings and result.new_source == after, page
            assert fix_source(after).findings == []
            pairs += 1
    assert pairs >= 1


@blocks("python")
def test_python_blocks(page, index, info, body, tmp_path, monkeypatch):
    compile(body, f"{page.name}#{index}", "exec")
    if "run" in info.split():
        monkeypatch.chdir(tmp_path)
        exec(compile(body, f"{page.name}#{index}", "exec"), {"__name__": "__docs__"})


def _console(body: str):
    """[(argv, expected stdout lines or None)] for the `$ trainfix` commands of a console block."""
    commands = []
    for line in body.splitlines():
        if line.startswith("$ "):
            commands.append([shlex.split(line[2:], comments=True), []])
        elif commands:
            commands[-1][1].append(line)
    return commands


@blocks("console")
def test_console_blocks(page, index, info, body, tmp_path):
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "notebooks").mkdir()  # the notebook page's example is the test suite's notebook
    shutil.copyfile(ROOT / "tests" / "notebooks" / "training_loop.ipynb", tmp_path / "notebooks" / "mnist.ipynb")
    commands = _console(body)
    assert commands and all(argv[0] == ".venv/bin/trainfix" for argv, _ in commands), \
        "console blocks run trainfix only, from the README's .venv"
    missing = sorted({a for argv, _ in commands for a in argv[1:] if "/" in a and not a.startswith("-")
                      and not (tmp_path / a).exists()})
    if missing:
        pytest.skip(f"names {', '.join(missing)}, which examples/ does not hold")
    for argv, expected in commands:
        p = run_trainfix(*argv[1:], cwd=tmp_path, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
        assert p.returncode in (0, 1), p.stderr
        if expected:
            assert p.stdout.splitlines() == expected, f"{page.name}: $ {shlex.join(argv)}"


@blocks("toml")
def test_toml_blocks(page, index, info, body):
    data = tomllib.loads(body)
    if "languages.toml" in info.split():  # Helix's editor config (docs/editors.md): tested in test_lsp.py
        return
    table = data["tool"]["trainfix"]
    from_table(table)  # raises ConfigError on a bad key or value


@blocks("yaml")
def test_yaml_blocks(page, index, info, body):
    import importlib

    data = yaml.safe_load(body)
    if "repos" in data:
        hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
        for repo in data["repos"]:
            assert {h["id"] for h in repo["hooks"]} <= hooks
    if "modules" in data:
        for module in data["modules"]:
            importlib.import_module(module)


def test_every_option_is_documented():
    reference = (DOCS / "configuration.md").read_text()
    for key in [*LIST_OPTIONS, *BOOL_OPTIONS, *STR_OPTIONS]:
        assert f"### `{key}`" in reference, key
    for key in LIST_OPTIONS:
        assert f"extend-{key}" in reference or key in ("select",), key
    from trainfix.cli import apply, check

    usage = (DOCS / "usage.md").read_text()
    for param in [*apply.params, *check.params]:
        for flag in [*param.opts, *param.secondary_opts]:
            if flag.startswith("--"):
                assert f"`{flag}" in usage, flag


def test_api_page_names_the_public_api():
    import trainfix

    api = (DOCS / "api.md").read_text()
    for name in ("fix_source", "Result", "Finding", "Config", "SourceError", "ConfigError"):
        assert name in api
        assert hasattr(trainfix, name) or name == "Finding"
    import inspect

    params = inspect.signature(trainfix.fix_source).parameters.values()
    shown = ", ".join(p.name if p.default is p.empty else f"{p.name}={p.default!r}" for p in params)
    assert f"`fix_source({shown.replace('text, ', 'text, *, ', 1)}) -> Result`" in api
