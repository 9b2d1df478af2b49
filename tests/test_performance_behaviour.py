"""Speed features must not change behaviour: exact prefilter, process pool, parsing in pieces
(the cache: test_cache.py)."""
import ast
import json
import os
import shutil
import sys

import pytest

from conftest import FILE_CASES as CASES, FIXED, probe
from trainfix.analysis.contexts import analyze
from trainfix.config import Config
from trainfix.errors import SourceError
from trainfix.engine import may_have_findings, may_have_findings_bytes


def _without_contexts(text: str) -> str:
    text = text.replace("GradientTape", "RecordingScope").replace(".backward(", ".backwards(")
    text = text.replace("value_and_grad", "value_and_derivative").replace("jax.grad", "jax.derivative")
    for name in Config().step_names:
        text = text.replace(f"def {name}(", f"def {name}_impl(")
    return text


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_prefilter_is_exact(case):
    """A text the prefilter rejects has no context at all, so it can never produce a finding."""
    text = (case / "before.py").read_bytes().decode()
    sites = analyze(ast.parse(text), text, Config())
    assert not sites or may_have_findings(text, Config())
    stripped = _without_contexts(text)
    assert not may_have_findings(stripped, Config())
    # the byte test runs first and may only let more through, never fewer
    assert may_have_findings_bytes(text.encode(), Config())
    assert analyze(ast.parse(stripped), stripped, Config()) == []  # analysis run without the prefilter


STEP_SPELLINGS = [
    "def train_step(self, data):\n    pass\n",
    "def  train_step (self, data):\n    pass\n",
    "def\ttest_step\f(self, data):\n    pass\n",
    "def \\\n    train_step(self, data):\n    pass\n",
    "def train_step \\\r\n(self, data):\n    pass\n",
    "async def predict_step(self, data):\n    pass\n",
    "def train_step[T](self, data: T):\n    pass\n",  # 3.12 generics
]


@pytest.mark.parametrize("text", STEP_SPELLINGS)
def test_prefilter_accepts_every_spelling_of_a_step_definition(text):
    try:
        tree = ast.parse(text)
    except SyntaxError:
        pytest.skip("syntax newer than this Python")
    assert tree.body[0].name in Config().step_names
    assert may_have_findings(text, Config()) and may_have_findings_bytes(text.encode(), Config())


def test_prefilter_rejects_names_that_only_contain_a_step_name():
    for text in ("def train_steps(self):\n", "def my_train_step(self):\n", "train_step = 1\n", "x.train_step(1)\n"):
        assert not may_have_findings(text, Config()), text
    assert not may_have_findings("def train_step(self):\n", Config(train_functions=(), eval_functions=(),
                                                                       predict_functions=()))


PLAIN_CASES = [c for c in CASES if "config" not in (c / "case.toml").read_text()]


def _tree(tmp_path, copies=3):
    """Copies of every case, each its own project (a case's helpers and classes are not seen from another)."""
    for i in range(copies):
        for case in PLAIN_CASES:
            (tmp_path / f"{case.name}_{i}").mkdir()
            (tmp_path / f"{case.name}_{i}" / "setup.cfg").write_text("")
            shutil.copyfile(case / "before.py", tmp_path / f"{case.name}_{i}" / "case.py")
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    return tmp_path


def _json(run_trainfix, tmp_path, *args):
    p = run_trainfix("check", "--output-format", "json", *args, ".", cwd=tmp_path)
    assert p.returncode == 1, p.stderr.decode()
    return sorted(json.dumps(r, sort_keys=True) for r in json.loads(p.stdout))


def test_parallel_equals_serial_and_cache_equals_no_cache(tmp_path, run_trainfix):
    tree = _tree(tmp_path)
    serial = _json(run_trainfix, tree, "-j", "1", "--no-cache")
    assert len(serial) > 100
    assert _json(run_trainfix, tree, "-j", "2", "--no-cache") == serial
    assert _json(run_trainfix, tree, "--cache") == serial  # fills the cache (--cache: even under TRAINFIX_CACHE=0)
    assert (tree / ".trainfix_cache" / ".gitignore").is_file()
    assert _json(run_trainfix, tree, "--cache") == serial  # served from the cache


def test_a_big_candidate_goes_to_the_pool_with_the_same_result(tmp_path, run_trainfix):
    """A few files, one of them big: the pool starts on bytes, not on the number of files."""
    import trainfix.runner

    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    filler = "".join(f"def helper_{i}(x):\n    return x + {i}\n\n\n" for i in range(9000))
    (tmp_path / "big.py").write_text(filler + (PLAIN_CASES[0] / "before.py").read_text())
    assert (tmp_path / "big.py").stat().st_size > trainfix.runner.POOL_MIN_BYTES
    for case in PLAIN_CASES[1:4]:
        shutil.copyfile(case / "before.py", tmp_path / f"{case.name}.py")
    serial = _json(run_trainfix, tmp_path, "-j", "1", "--no-cache")
    assert any("big.py" in r for r in serial)
    assert _json(run_trainfix, tmp_path, "-j", "2", "--no-cache") == serial


def test_apply_in_parallel_matches_cases(tmp_path, run_trainfix):
    tree = _tree(tmp_path, copies=2)
    run_trainfix("apply", "-j", "2", ".", cwd=tree)
    for case in PLAIN_CASES:
        for i in range(2):
            assert (tree / f"{case.name}_{i}" / "case.py").read_bytes() == (case / "after.py").read_bytes(), case.name


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in open(f"/proc/{pid}/task/{pid}/children").read().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux /proc")
def test_pool_workers_stop_when_the_run_is_killed(tmp_path):
    """Killing trainfix (not its process group) must not leave workers writing files in the background."""
    import signal
    import subprocess
    import time

    from conftest import trainfix_exe

    _tree(tmp_path, copies=8)
    proc = subprocess.Popen([trainfix_exe(), "apply", "--no-cache", "-j", "2", "."], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[int] = []
    deadline = time.time() + 30
    while time.time() < deadline and proc.poll() is None and len(workers) < 2:
        workers = _children(proc.pid)
        time.sleep(0.005)
    if proc.poll() is not None:
        pytest.skip("the run finished before its workers could be seen")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    assert workers and not any(_alive(w) for w in workers)


def test_a_run_with_nothing_to_analyse_never_imports_the_analysis(tmp_path):
    """Start-up stays small: files the prefilter rejects, or cached clean ones, need no parser."""
    (tmp_path / "plain.py").write_text("def add(x, y):\n    return x + y\n")
    (tmp_path / "train.py").write_text(FIXED)
    assert probe(tmp_path, "check", "-q", "--no-cache", "plain.py")[1] == "[]"
    assert "trainfix.engine" in probe(tmp_path, "check", "-q", "--cache", "train.py")[1]  # analysed, cached clean
    assert probe(tmp_path, "check", "-q", "--cache", "train.py")[1] == "[]"


def test_an_analysed_module_leaves_no_garbage_cycles():
    """The CLI runs the cycle collector rarely; a module's syntax tree must be freed without it."""
    import gc

    from trainfix.engine import fix_source

    text = "\n\n".join((case / "before.py").read_text() for case in PLAIN_CASES[:10])
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        result = fix_source(text)
        assert result.findings
        del result
        gc.collect()
        # (ast.dump's recursive helper is a closure cycle of a few objects; no tree is in one)
        assert not [o for o in gc.garbage if isinstance(o, ast.AST) or type(o).__module__.startswith("trainfix")]
        assert {type(o).__name__ for o in gc.garbage} <= {"cell", "tuple", "function"}
        assert {o.__qualname__ for o in gc.garbage if callable(o)} <= {"dump.<locals>._format"}
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


PIECES_HAZARDS = [
    # cuts land before lines that start in column 0; each of these lines is inside a statement
    'DOC = """\nclass NotCode:\n    pass\n"""\n',
    "VALUES = [\n1,\n2,\n]\n",
    "TOTAL = 1 + \\\n2\n",
    "@decorator\ndef f():\n    pass\n",
    "if flag:\n    x = 1\nelse:\n    x = 2\n",
    "try:\n    pass\nexcept ValueError:\n    pass\nfinally:\n    pass\n",
    "def g():\n    a = 1\n# a comment in column 0\n    return a\n",
    "S = 'one \\\ntwo'\n",
    "x = f'{1 +\n2}'\n" if sys.version_info >= (3, 12) else "x = (1 +\n2)\n",
]


def _parse_counting(monkeypatch):
    """engine.parse with tiny pieces; returns it and the list of the lengths of the texts ast.parse got."""
    import trainfix.engine as engine

    monkeypatch.setattr(engine, "PIECE_CHARS", 40)  # cut (or try to) before nearly every top-level line
    calls = []
    real = engine._ast_parse
    monkeypatch.setattr(engine, "_ast_parse", lambda t: calls.append(len(t)) or real(t))
    return engine.parse, calls


def _same_tree(tree, text):
    assert ast.dump(tree, include_attributes=True) == ast.dump(ast.parse(text), include_attributes=True)


@pytest.mark.parametrize("newline", ["\n", "\r\n", "mixed"])
def test_a_module_parsed_in_pieces_is_the_module_parsed_whole(monkeypatch, newline):
    """engine.parse cuts big modules into pieces to bound the parser's memory: the tree must be
    exactly ast.parse's, every position included."""
    parse, calls = _parse_counting(monkeypatch)
    text = "\n".join((case / "before.py").read_text() for case in PLAIN_CASES)
    # mixed: a lone \r ends some lines (Python counts it as a newline)
    text = text.replace(":\n", ":\r") if newline == "mixed" else text.replace("\n", newline)
    _same_tree(parse(text), text)
    assert len(calls) > 20 and len(text) not in calls  # in pieces, never whole


@pytest.mark.parametrize("hazard", PIECES_HAZARDS)
@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_a_cut_inside_a_statement_falls_back_to_the_whole_module(monkeypatch, hazard, newline):
    """A line in column 0 inside a statement is no place to cut: the module is parsed whole, with
    the same tree, or the same error as ast.parse."""
    parse, calls = _parse_counting(monkeypatch)
    clean = "\n".join((case / "before.py").read_text() for case in PLAIN_CASES[:4])
    text = (clean + "\n\n" + hazard + "\n\n" + clean).replace("\n", newline)
    _same_tree(parse(text), text)
    broken = text + newline + "def broken(:" + newline + "    pass" + newline
    with pytest.raises(SourceError) as piecewise:
        parse(broken)
    with pytest.raises(SyntaxError) as whole:
        ast.parse(broken)
    assert (piecewise.value.line, piecewise.value.reason) == (whole.value.lineno, f"syntax error: {whole.value.msg}")


NESTED = '''import tensorflow as tf


class Trainer:
    """Many methods: verify dumps only the statements an edit touched."""

    def helper(self, x):
        return x + 1

    def step(self, x, y):
        with tf.GradientTape() as tape:
            out = self.model(x)
            loss = self.loss(y, out)
        try:
            self.log(self.model(x))
        except ValueError:
            pass
        return loss
'''


@pytest.mark.parametrize("edit, same", [
    (("self.model(x)\n            loss", "self.model(x, training=True)\n            loss"), True),
    (("self.log(self.model(x))", "self.log(self.model(x, False))"), True),
    (("self.model(x)\n            loss", "self.model(y, training=True)\n            loss"), False),
    (("return x + 1", "return x + 2"), False),  # another method of the same class
    (("except ValueError", "except KeyError"), False),  # a handler's type, inside a changed statement
    (("return loss", "return out"), False),
    (("def helper(self, x)", "def helper(self, z)"), False),
    (("class Trainer:", "class Trainer(object):"), False),
    (("        return loss\n", "        return loss\n        pass\n"), False),
])
def test_verify_compares_nested_statements_like_whole_dumps(edit, same):
    """_same_but_training recurses into the blocks of a changed statement; it must say exactly what
    comparing the dumps of whole statements (training arguments dropped) says."""
    from trainfix.engine import _normalized, _same_but_training
    from trainfix.transform import LineIndex

    new = NESTED.replace(*edit)
    assert new != NESTED
    whole = [_normalized(s) for s in ast.parse(NESTED).body] == [_normalized(s) for s in ast.parse(new).body]
    assert whole is same
    assert _same_but_training(ast.parse(NESTED), LineIndex(NESTED), ast.parse(new), LineIndex(new)) is same


@pytest.mark.parametrize("data", [b"", b"import os", b"x = 1\nimport os\n\nfrom . import a  # import b\n",
                                  b"no newline at the end import", b"\nimport\n\nimport\n", b"a\r\nimport b\r\n"])
def test_the_import_index_reads_the_lines_that_say_import(data):
    from trainfix.loader import _import_lines

    assert _import_lines(data) == b"\n".join(line for line in data.split(b"\n") if b"import" in line)


def test_an_imported_module_is_analysed_once_per_run_for_every_importer(tmp_path):
    """Two files of a run that import the same module share its scope facts (built once), and each
    still gets its own findings."""
    from trainfix.analysis.project import Project
    from trainfix.engine import fix_source
    from trainfix.loader import FileLoader

    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "nets.py").write_text("import tensorflow as tf\n\nnet = tf.keras.Sequential([])\n")
    train = ("import tensorflow as tf\nfrom nets import net\n\n\ndef train(x):\n"
             "    with tf.GradientTape() as tape:\n        y = net(x)\n    return tape.gradient(y, net.trainable_variables)\n")
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text(train)
    facts = []
    for name in ("a.py", "b.py"):
        project = Project(FileLoader(str(tmp_path / name)))
        module = project.module(str(tmp_path / "nets.py"))
        assert module is not None
        facts.append(module.tree)
        result = fix_source(train, config=Config(), path=tmp_path / name)
        assert [f.code for f in result.findings] == ["TRN001"]
    assert facts[0] is facts[1]



@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_only_functions_whose_lines_spell_backward_are_walked_for_a_torch_loop(newline):
    """The torch-loop check walks a function's body only when one of its lines spells `backward`;
    `lines_with` counts lines as `ast` does, so the gate never skips a real loop."""
    from trainfix.analysis.contexts import Analyzer
    from trainfix.transform import LineIndex

    text = newline.join(["import torch", "def plain(x):", "    return x.step()", "def loop(model, opt, loss):",
                         "    loss.backward(); opt.step()", "def outer():", "    def inner(l):",
                         "        l.backward()", "    return inner", ""])
    assert LineIndex(text).lines_with("backward") == [5, 8]
    index = LineIndex(text)
    assert index.starts and index.lines_with("backward") == [5, 8]  # with the line starts built, the same
    an = Analyzer.for_file(ast.parse(text), Config(), text)
    fns = [n for n in ast.walk(an.t.module.node) if isinstance(n, ast.FunctionDef)]
    assert sorted(fn.name for fn in fns if an.steps._spells_backward(fn)) == ["inner", "loop", "outer"]


def test_one_big_candidate_is_analysed_here_and_a_second_starts_the_pool(tmp_path):
    """A pool pays only for two files or more: one big file alone would add its start-up for nothing."""
    from trainfix.outcome import WriteBack
    from trainfix.runner import POOL_MIN_BYTES, Read, Task, _Workers

    raw = b"x = 1\n" * (POOL_MIN_BYTES // 6 + 1)
    workers = _Workers(2)
    try:
        workers.add(0, Task(tmp_path / "big.py", "big.py", Read(raw, len(raw), 0), Config(), WriteBack.CHECK))
        assert workers.pool is None
        workers.add(1, Task(tmp_path / "small.py", "small.py", Read(b"y = 2\n", 6, 0), Config(), WriteBack.CHECK))
        assert workers.pool is not None
        assert [i for i, _ in workers.results()] == [0, 1]
    finally:
        workers.close()



@pytest.mark.parametrize("text, tokenized", [
    ("x = f()\ny = g()  # note\n", False),  # no `#` on a call's lines, no directive: nothing to tokenize
    ("# why\nx = f()\n", True),  # the line above a call: a rule may read it
    ("x = f(\n  1)  # c\n", True),  # the last line of a call
    ("x = f()\ns = '# noqa: TRN001'\n", True),  # a directive anywhere: TRN100 needs the real comments
    ("x = f()\ny = 1  # noqa: TRN001\n", True),
    ("x = f()\r# c\ry = 1\n", True),  # a lone CR: the tokenizer numbers lines otherwise
])
@pytest.mark.parametrize("unused", [True, False])
def test_comments_are_tokenized_only_when_an_answer_may_differ(text, tokenized, unused):
    from trainfix.engine import comments_asked, comments_by_line
    from trainfix.transform import LineIndex

    calls = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "f"]
    got = comments_asked(text, LineIndex(text), calls, unused)
    if not unused and "noqa" in text:  # without TRN100 a directive off the calls' lines is never read
        tokenized = False
    assert got == (comments_by_line(text) if tokenized else {})
    assert tokenized or "noqa" in text or comments_by_line(text) != {}  # a gate that skipped real comments


def test_imported_modules_are_analysed_again_by_the_pool_that_built_their_index(tmp_path):
    """The second round (the modules the analysed files import) runs in the pool's workers, which have
    already built the project's import index: this process builds none."""
    from trainfix import loader
    from trainfix.outcome import WriteBack
    from trainfix.runner import POOL_MIN_FILES, run_files

    proj = _tree(tmp_path, copies=POOL_MIN_FILES // len(PLAIN_CASES) + 1) / "proj"
    proj.mkdir()
    (proj / "setup.cfg").write_text("")
    (proj / "losses.py").write_text("def forward(model, x):\n    return model(x)\n")
    (proj / "train.py").write_text(
        "import tensorflow as tf\nfrom losses import forward\n\nmodel = tf.keras.Sequential([])\n\n\n"
        "def train(x):\n    with tf.GradientTape() as tape:\n        y = forward(model, x)\n"
        "    return tape.gradient(y, model.trainable_variables)\n")
    files = sorted(p for p in tmp_path.rglob("*.py"))
    loader.forget()
    outcomes = run_files(((p, str(p), Config()) for p in files), write_back=WriteBack.CHECK, jobs=2)
    again = outcomes[files.index(proj / "losses.py")]
    assert again.imported and again.findings
    assert loader._INDEXES == {}


PLAIN_CELLS = ["x = a != b\n", "y = '%d' % n\r\nz = [1,\n     2]\n", "def f():\n    return 1 % 2\n", ""]
IPYTHON_CELLS = ["!ls\n", "x = !ls\n", "x = %timeit f()\n", "obj?\n", "%%time\nx = 1\n", "/f 1\n", "f(1,\n  ,g)\n",
                 "  ;f a\n", "s = 'why?'\n", "if x:\r    %ls\n"]


@pytest.mark.parametrize("text", PLAIN_CELLS + IPYTHON_CELLS)
def test_a_plain_cell_is_not_scanned_and_masks_as_the_scan_would(text):
    """`plain` lets a cell skip the character scan only when the scan would mask nothing."""
    import itertools

    from trainfix.notebook.ipython import _Masker, mask_cell, plain, split_lines

    lines = split_lines(text)
    assert plain(text, lines) == (text in PLAIN_CELLS)
    scanned = _Masker(lines, "t", itertools.count(1))
    k = 0
    while k < len(lines) and not text.startswith("%%"):
        k = scanned.statement(k)
    masked = mask_cell(text, "t", itertools.count(1))
    if plain(text, lines):
        assert masked is not None and masked.lines == scanned.masked.lines == lines and not masked.placeholders


GITIGNORE = ["*.pyc", "build/", "/dist", "!keep.pyc", "docs/**/gen_*.py", "# comment", "", "a?c.py", "[0-9]*.py",
             "**/tmp", "\\#odd.py", "x/**"]
PATHS = ["m.py", "m.pyc", "keep.pyc", "sub/keep.pyc", "build/", "src/build/", "build/m.py", "dist/", "src/dist/",
         "docs/a/b/gen_x.py", "docs/gen_x.py", "abc.py", "ac.py", "9lives.py", "tmp/", "a/tmp/", "#odd.py",
         "x/y/z.py", "xx/y.py", "src/m.py"]


def test_a_gitignore_behind_one_search_decides_as_pathspec():
    """The walk asks pathspec only about paths one search over all the patterns may match: same answers."""
    from trainfix.files import _Gated, _spec

    spec = _spec(GITIGNORE)
    gated = _Gated(spec)
    assert gated.any is not None
    assert [gated.match_file(p) for p in PATHS] == [spec.match_file(p) for p in PATHS]
    assert any(gated.match_file(p) for p in PATHS) and not all(gated.match_file(p) for p in PATHS)


# pathspec's regexes for these; the last ones are hand-made: a top-level `|` after the shared start
# (a second, unanchored pattern) and a quantifier first must not be factored as `^(?:.+/)?(?:...)`
ANY_OF_EXTRA = [r"^(?:.+/)?a\.py|b", r"^(?:.+/)?+c", r"^(?:.+/)?[]|]d", r"^(?:.+/)?(e|f)\.py"]
ANY_OF_PATHS = PATHS + ["xb", "x/b/", "a.py", "q/a.py", "c", "y/c", "]d", "z/|d", "e.py", "w/f.py", "g.py"]


def test_the_search_for_any_pattern_finds_what_one_of_them_finds():
    """The `^(?:.+/)?` start pathspec gives most patterns is shared by them in one alternation; that
    search must find exactly the paths one of the patterns finds, also for regexes it can't factor."""
    import re

    from trainfix.files import _ANYWHERE, _spec, any_of

    regexes = [p.regex.pattern for p in _spec(GITIGNORE).patterns if p.include is not None] + ANY_OF_EXTRA
    for chosen in [regexes, regexes[:1], ANY_OF_EXTRA, regexes[-len(ANY_OF_EXTRA) - 3:]]:
        search = re.compile(any_of(chosen))
        for path in ANY_OF_PATHS:
            assert (search.search(path) is not None) == any(re.search(r, path) for r in chosen), (chosen, path)
    assert any_of(regexes).startswith(_ANYWHERE) and any_of(regexes).count(_ANYWHERE) < len(regexes)
    assert re.compile(any_of([])).search("a") is None


def test_a_gitignore_is_found_in_the_listing_as_isfile_finds_it(tmp_path):
    """The walk tells whether a folder holds a .gitignore from its listing, as `os.path.isfile` would."""
    from trainfix.files import _NAME, _listed_file

    (tmp_path / "file").mkdir()
    (tmp_path / "file" / ".gitignore").write_text("x\n")
    (tmp_path / "folder" / ".gitignore").mkdir(parents=True)
    (tmp_path / "link").mkdir()
    (tmp_path / "link" / ".gitignore").symlink_to(tmp_path / "file" / ".gitignore")
    (tmp_path / "dangling").mkdir()
    (tmp_path / "dangling" / ".gitignore").symlink_to(tmp_path / "nowhere")
    (tmp_path / "none").mkdir()
    (tmp_path / "none" / ".gitignorf").write_text("x\n")
    (tmp_path / "none" / "a.py").write_text("")
    for folder in ["file", "folder", "link", "dangling", "none"]:
        listing = sorted(os.scandir(tmp_path / folder), key=_NAME)
        assert _listed_file(listing, ".gitignore") == os.path.isfile(tmp_path / folder / ".gitignore"), folder
    assert _listed_file(sorted(os.scandir(tmp_path / "file"), key=_NAME), ".gitignore")


def test_every_file_of_a_folder_with_an_unreadable_configuration_reports_it(tmp_path, run_trainfix):
    """A file's configuration is looked up once per folder: a lookup that fails is not remembered as
    an answer, so each file of that folder still names the error (and other folders are checked)."""
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "pyproject.toml").write_text("[tool.trainfix\n")
    for name in ("a.py", "b.py", "sub/c.py"):
        (tmp_path / "bad" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "bad" / name).write_text(FIXED)
    (tmp_path / "good.py").write_text(FIXED.replace("training=True", "training=None"))
    p = run_trainfix("check", "--no-cache", "--output-format", "concise", ".", cwd=tmp_path)
    errors = sorted(line.split(":")[0] for line in p.stderr.decode().splitlines() if "cannot read" in line)
    assert errors == ["bad/a.py", "bad/b.py", "bad/sub/c.py"], p.stderr.decode()
    assert p.returncode == 2 and b"good.py" in p.stdout


HELPER = "def generator_output(generator, z):\n    return generator(z)\n"
STEP = """import keras
import tensorflow as tf

from losses import generator_output

generator = keras.Sequential([keras.layers.Dense(1)])


def train_step(z):
    with tf.GradientTape() as tape:
        g = generator_output(generator, z)
    return tape.gradient(g, generator.trainable_variables)
"""


@pytest.mark.parametrize("named", [(".",), ("train.py", "losses.py"), ("sub/../losses.py", "./train.py")])
def test_a_helper_module_a_step_imports_is_analysed_again_however_it_is_named(tmp_path, run_trainfix, named):
    """The run analyses again the modules its steps import (by their names first, then their full paths):
    the helper's finding is reported however the module was named on the command line."""
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "losses.py").write_text(HELPER)
    (tmp_path / "train.py").write_text(STEP)
    p = run_trainfix("check", "--no-cache", "--output-format", "json", *named, cwd=tmp_path)
    found = [(os.path.normpath(r["filename"]), r["code"], r["location"]["row"]) for r in json.loads(p.stdout)]
    assert found == [("losses.py", "TRN001", 2)], p.stderr.decode()
