"""Fuzzing fix_source: it never raises anything but a clean parse error (a SourceError, and only
for input that does not parse), its output parses, differs from the input only in `training`
arguments, and a second pass changes nothing.

Programs come from hypothesmith (the Python grammar, and LibCST's node model), bare
and wrapped in a GradientTape / train_step skeleton so the analysis really runs on
them, plus a generator of Keras calls in every layout the fixer must handle
(multi-line, comments, trailing commas, backslashes, `*args`, `**kwargs`, positional
booleans, parenthesised arguments).

CI runs TRAINFIX_FUZZ_EXAMPLES (default 60) examples per test. For a long local run:

    TRAINFIX_FUZZ_EXAMPLES=10000 .venv/bin/python -m pytest tests/test_fuzz.py -p no:cacheprovider

(hypothesis keeps failing examples in .hypothesis/ and replays them first next time).
"""
from __future__ import annotations

import ast
import os
import textwrap
import warnings

import hypothesmith
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from conftest import strip_training
from trainfix import Config, SourceError, fix_source

EXAMPLES = int(os.environ.get("TRAINFIX_FUZZ_EXAMPLES", "60"))
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith compiles what it generates
FUZZ = settings(max_examples=EXAMPLES, deadline=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.filter_too_much])

SKELETON = """import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(4), keras.layers.BatchNormalization()])
opt = keras.optimizers.Adam()


def train_step(x, y, *rest, **kw):
    with tf.GradientTape() as tape:
{body}
        loss = tf.reduce_mean(model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))


class Net(keras.Model):
    def train_step(self, data):
{method}
        with tf.GradientTape() as tape:
            out = self(data)
        return tape.gradient(out, self.trainable_variables)
"""


def parses(text: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def check_contract(text: str, config: Config | None = None) -> None:
    """The guarantee under test, for any input text."""
    for unsafe in (False, True):
        try:
            result = fix_source(text, config=config, unsafe=unsafe)
        except SourceError as exc:
            # the only acceptable error is the input's own: it does not parse (or nests beyond any limit);
            # a fix that fails verification on valid input is a bug
            assert exc.reason, "a SourceError must give a reason"
            if parses(text):
                assert "nested too deeply" in exc.reason, f"valid input rejected: {exc.reason}"
            event(f"SourceError: {exc.reason.split(':')[0]}")
            return
        new = result.new_source
        if not result.changed:
            event("unchanged")
            continue
        event("fixed")
        assert strip_training(ast.parse(text)) == strip_training(ast.parse(new)), "changed more than `training`"
        again = fix_source(new, config=config, unsafe=unsafe)
        assert again.new_source == new, "not idempotent"


def indent(code: str, prefix: str) -> str:
    return textwrap.indent(code, prefix, lambda line: True) if code.strip() else prefix + "pass\n"


@FUZZ
@given(hypothesmith.from_grammar())
def test_grammar_programs(text):
    check_contract(text)


@FUZZ
@given(hypothesmith.from_node())
def test_libcst_programs(text):
    check_contract(text)


@FUZZ
@given(hypothesmith.from_node(), hypothesmith.from_grammar())
def test_programs_inside_a_training_step(body, method):
    text = SKELETON.format(body=indent(body, " " * 8), method=indent(method, " " * 8))
    check_contract(text)


@FUZZ
@given(hypothesmith.from_grammar())
def test_programs_before_a_training_step(prefix):
    check_contract(prefix + "\n" + SKELETON.format(body="        pass\n", method="        pass\n"))


# -- Keras calls in every layout ------------------------------------------------------------------------

ARGS = st.sampled_from([
    "x", "y[0]", "(x)", "x + 1", "f(x)", "*rest", "**kw", "mask=m", "training=False", "training=None",
    "training=True", "training=flag", "False", "True", "(True)", "[x,\n y]", "x  # inputs", "lambda t: t",
    "x if c else y", "'a' 'b'", '"""doc\n"""', "x[1:2]", "{**kw}", "-x",
])
SEPARATORS = st.sampled_from([", ", ",", ",\n", ",\n    ", " ,\n  # note\n    ", ",\\\n    ", ",  # c\n"])
OPENERS = st.sampled_from(["", "\n", "\n    ", "  # why\n    ", "\\\n", " "])
CLOSERS = st.sampled_from(["", "\n", ",", ",\n", ", ", ",  # end\n", "\n    # last\n", " "])
CALLEES = st.sampled_from(["model", "self", "self.net", "(model)", "model  "])


@st.composite
def call_site(draw):
    callee = draw(CALLEES)
    args = draw(st.lists(ARGS, max_size=5))
    seps = [draw(SEPARATORS) for _ in args[1:]]
    inner = args[0] if args else ""
    for sep, arg in zip(seps, args[1:]):
        inner += sep + arg
    closer = draw(CLOSERS) if args else draw(st.sampled_from(["", "\n", " "]))
    call = f"{callee}({draw(OPENERS)}{inner}{closer})"
    return call if callee.startswith("self") else call.replace("self", "model")


SITE = """import tensorflow as tf
from tensorflow import keras

model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.5)])
model.net = model
opt = keras.optimizers.Adam()


def train_step(x, y, m, rest, kw, c, f, flag):
    with tf.GradientTape() as tape:
        out = {call}
        loss = tf.reduce_mean(out)
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))


def test_step(x, y, m, rest, kw, c, f, flag):
    return {call}


class Net(keras.Model):
    def train_step(self, data, x=None, y=None, m=None, rest=(), kw={{}}, c=0, f=abs, flag=True):
        with tf.GradientTape() as tape:
            out = {self_call}
        return tape.gradient(out, self.trainable_variables)
"""


@FUZZ
@given(call_site(), st.sampled_from(["\n", "\r\n"]))
def test_keras_calls_in_every_layout(call, newline):
    text = SITE.format(call=textwrap.indent(call, " " * 8)[8:].replace("model.net", "model"),
                       self_call=textwrap.indent(call, " " * 12)[12:].replace("model", "self"))
    try:
        ast.parse(text)
    except SyntaxError:
        event("generated call does not parse")
        with pytest.raises(SourceError):
            fix_source(text.replace("\n", newline))
        return
    text = text.replace("\n", newline)
    check_contract(text)
    result = fix_source(text)
    if result.changed:
        assert "\n" not in result.new_source.replace("\r\n", "") if newline == "\r\n" else True, "a bare LF appeared"


# --------------------------------------------------------------------------- the cut of a big module


def _bodies(tree: ast.AST):
    """(statement, is_class) for the module's statements and, recursively, its classes' statements."""
    for stmt in getattr(tree, "body", []):
        yield stmt
        if isinstance(stmt, ast.ClassDef):
            yield from _bodies(stmt)


def _header(stmt: ast.stmt) -> str:
    """A statement as the cut must keep it: a class without its body (the cut may leave part of it)."""
    if isinstance(stmt, ast.ClassDef):
        stmt = ast.ClassDef(stmt.name, stmt.bases, stmt.keywords, [], stmt.decorator_list,
                            lineno=stmt.lineno, col_offset=stmt.col_offset)
    return ast.dump(stmt, include_attributes=not isinstance(stmt, ast.ClassDef))


def _check_cut(text: str) -> None:
    from trainfix import regions

    cut = regions.pruned(text, Config().step_names)
    try:
        whole = ast.parse(text)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        assert cut is None  # a text that doesn't parse is never cut: its errors are the parser's
        return
    if cut is None:
        return
    event("cut")
    assert cut.count("\n") == text.count("\n") + text.count("\r") - text.count("\r\n") or "\r" not in text
    at = {(s.lineno, s.col_offset): _header(s) for s in _bodies(whole)}
    kept = list(_bodies(ast.parse(cut)))
    for stmt in kept:  # every statement kept is the whole module's, at the same place
        assert at.get((stmt.lineno, stmt.col_offset)) == _header(stmt)
    lines = cut.splitlines()
    kept_at = {(s.lineno, s.col_offset) for s in kept}
    for stmt in _bodies(whole):  # and every one that went went whole: its lines are blank
        if (stmt.lineno, stmt.col_offset) not in kept_at:
            assert not any(lines[n - 1].strip() for n in range(stmt.lineno, (stmt.end_lineno or stmt.lineno) + 1))


@FUZZ
@given(hypothesmith.from_grammar(), hypothesmith.from_grammar())
def test_a_cut_module_keeps_whole_statements_in_place(prefix, suffix):
    """Around a class with a tape, random code at the top level and in the class's body (defs,
    classes, strings whose lines look like statements): what the cut keeps is the whole module's,
    what it drops it drops whole."""
    from trainfix import regions

    tape = "class Trainer:\n    def step(self, x):\n        with tf.GradientTape() as tape:\n" \
           "            y = self.net(x)\n        return tape.gradient(y, self.net.trainable_variables)\n"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(regions, "PRUNE_CHARS", 0)
        patch.setattr(regions, "CUT_SHARE", 0.0)
        for text in (prefix + "\n" + tape + suffix, tape + "".join("    " + line for line in suffix.splitlines(True))):
            _check_cut(text)


HAZARDS = [
    "def plain(x):\n    return x\n",
    'class Documented:\n    """Doc.\n\n    def fake(self):\n        pass\n    """\n\n    def method(self):\n        return 1\n',
    'def holds_code():\n    s = """\ndef train_step(self, data):\n    with tf.GradientTape() as tape:\n        pass\n"""\n'
    "    return s\n",
    "@decorator(\n    1,\n)\ndef decorated():\n    pass\n",
    "rows = [\n1,\n2,\n]\n",
    "def broken(:\n    pass\n",
    's = """\nclass Fake:\n    pass\n"""\n',
    "def stores(self):\n    self.net = make()\n",
    "if True:\n    def nested():\n        pass\n",
    "y = 1 + \\\n2\n",
    'def fstring():\n    return f"""{1}\ndef x():\n  pass\n"""\n',
    "class Trainer:\n    def step(self, x):\n        with tf.GradientTape() as tape:\n            y = self.net(x)\n"
    "        return tape.gradient(y, self.net.trainable_variables)\n",
    "class Empty: pass\n",
    "async def run():\n    await go()\n",
]


@FUZZ
@given(st.lists(st.sampled_from(HAZARDS), min_size=1, max_size=12), st.booleans(), st.booleans())
def test_a_cut_module_of_hazards_keeps_whole_statements_in_place(parts, in_class, crlf):
    """Lines inside strings and brackets that look like statements, decorators, docstrings, syntax
    errors: composed at the top level or in a class's body, with either line ending."""
    from trainfix import regions

    text = "".join(parts)
    if in_class:
        text = HAZARDS[-3] + "    x = 1\n" + "".join("    " + line if line.strip() else line
                                                   for line in text.splitlines(True))
    if crlf:
        text = text.replace("\n", "\r\n")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(regions, "PRUNE_CHARS", 0)
        patch.setattr(regions, "CUT_SHARE", 0.0)
        _check_cut(text)
