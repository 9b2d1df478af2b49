"""A big module's methods and classes that no context needs are left unparsed (trainfix.regions).
What the analysis reports must be exactly what it reports on the whole module: each test below
builds a module with a trap for the cut, checks what the cut keeps, and compares the results."""
import ast
import textwrap

import pytest

from trainfix import engine, regions
from trainfix.config import Config
from trainfix.errors import SourceError

HEADER = """\
import numpy as np
import tensorflow as tf
import keras
from keras.src import testing
from keras.src.ops import numpy as knp

"""

TAPE = """\
class TrainTest(testing.TestCase):
    def setUp(self):
        self.data = np.ones((2, 3))

    def test_fit(self):
        with tf.GradientTape() as tape:
            loss = self.model(self.data)
        grads = tape.gradient(loss, self.model.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_weights))

"""


def filler(n: int = 30, name: str = "OpsTest") -> str:
    methods = "".join(f"""
    @pytest.mark.skipif(
        backend.backend() == "numpy", reason="not on numpy"
    )
    def test_add_{i}(self):
        x = np.ones((2, {i + 1}))
        self.assertEqual(knp.add(x, x).shape, (2, {i + 1}))
""" for i in range(n))
    return f'class {name}(testing.TestCase):\n    """Ops.\n\n    More about ops.\n    """\n{methods}\n'


def module(*parts: str) -> str:
    return HEADER + "".join(textwrap.dedent(p) if p.startswith("\n") else p for p in parts) + filler()


@pytest.fixture
def cut_all(monkeypatch):
    """Cut whatever the rules allow, however small the module or the cut."""
    monkeypatch.setattr(regions, "PRUNE_CHARS", 0)
    monkeypatch.setattr(regions, "CUT_SHARE", 0.0)
    monkeypatch.setattr(engine, "INDEX_WORTH_CHARS", 0)
    return monkeypatch


def outcome(text: str, path=None):
    try:
        r = engine.fix_source(text, path=path, unsafe=True)
    except SourceError as exc:
        return "error", str(exc), exc.line
    return ([repr(f) for f in r.findings],
            [(s.call.lineno, s.call.col_offset, s.context.kind, s.state, s.is_model, s.trained) for s in r.skipped],
            r.new_source)


def same_as_whole(monkeypatch, text: str, path=None):
    """The outcome with the cut, after checking it is the outcome without."""
    cut = outcome(text, path)
    monkeypatch.setattr(regions, "PRUNE_CHARS", 10 ** 12)
    assert outcome(text, path) == cut
    monkeypatch.setattr(regions, "PRUNE_CHARS", 0)
    return cut


def test_a_test_module_keeps_its_tape_and_what_it_reads(cut_all):
    text = module(TAPE)
    cut = regions.pruned(text, Config().step_names)
    assert cut is not None and len(cut.splitlines()) == len(text.splitlines())
    assert "def test_fit" in cut and "def setUp" in cut  # setUp stores self.data, which the tape reads
    assert "def test_add_5" not in cut
    findings, skipped, _ = same_as_whole(cut_all, text)
    assert skipped or findings


def test_every_statement_kept_is_the_whole_module_s_at_the_same_position(cut_all):
    text = module(TAPE)
    cut = regions.pruned(text, Config().step_names)
    whole = {(s.lineno, s.col_offset): ast.dump(s, include_attributes=True)
             for node in ast.walk(ast.parse(text)) for s in getattr(node, "body", []) if isinstance(s, ast.stmt)}
    kept = [s for node in ast.walk(ast.parse(cut)) for s in getattr(node, "body", [])
            if isinstance(s, ast.stmt) and not isinstance(s, ast.ClassDef)]
    assert len(kept) > 5
    for s in kept:
        assert ast.dump(s, include_attributes=True) == whole[(s.lineno, s.col_offset)]


TRAPS = {
    # a method the tape calls (a helper: its calls are in the context)
    "helper": ("""
        class Agent(keras.Model):
            'An agent.'

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.forward(x)
                tape.gradient(loss, self.trainable_variables)

            def forward(self, x):
                return self.net(x)
        """, "def forward"),
    # the values stored in attributes the tape calls
    "tuple store": ("""
        class Agent:
            'An agent.'

            def build(self):
                self.net, self.encoder = make_pair()

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.net(x)
                tape.gradient(loss, self.net.trainable_variables)
        """, "def build"),
    "store": ("""
        class Agent:
            'An agent.'

            def build(self):
                self.net = make_net()

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.net(x)
                tape.gradient(loss, self.net.trainable_variables)
        """, "def build"),
    "for store": ("""
        class Agent:
            'An agent.'

            def build(self, nets):
                for self.net in nets:
                    pass

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.net(x)
                tape.gradient(loss, self.net.trainable_variables)
        """, "def build"),
    "spread store": ("""
        class Agent:
            'An agent.'

            def build(self):
                (
                    self.encoder,
                    self.net,
                ) = make_pair()

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.net(x)
                tape.gradient(loss, self.net.trainable_variables)
        """, "def build"),
    "with store": ("""
        class Agent:
            'An agent.'

            def build(self, path):
                with make_net() as self.net, open(path) as handle:
                    pass

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.net(x)
                tape.gradient(loss, self.net.trainable_variables)
        """, "def build"),
    # every call of a function decides what its parameter is
    "callers": ("""
        def fit(model, x):
            with tf.GradientTape() as tape:
                loss = model(x)
            tape.gradient(loss, model.trainable_variables)

        class Runs:
            'Runs.'

            def run_keras(self):
                fit(keras.Sequential([keras.layers.Dense(1)]), np.ones((1, 1)))

            def run_other(self):
                fit(lambda x: x, np.ones((1, 1)))
        """, "def run_other"),
    # a tape spelt through an alias has no `GradientTape` in the method (nor, here, a gradient: no site)
    "tape alias": ("""
        from tensorflow import GradientTape as Recorder

        class Agent:
            'An agent.'

            def test_fit(self, x):
                with Recorder() as tape:
                    loss = self.net(x)
                return tape, loss
        """, "def test_fit"),
    # a module-level name rebound inside a function
    "global": ("""
        net = keras.Sequential([keras.layers.Dense(1)])

        def reset():
            global net
            net = make_other()

        def fit(x):
            with tf.GradientTape() as tape:
                loss = net(x)
            tape.gradient(loss, net.trainable_variables)
        """, "def reset"),
    # an import of another framework anywhere changes what weights prove
    "foreign import": ("""
        def fit(model, x):
            with tf.GradientTape() as tape:
                loss = model(x)
            tape.gradient(loss, model.trainable_variables)

        def other():
            import torch
            return torch.ones(1)
        """, "def other"),
    # a class the kept code names
    "class named": ("""
        class Net(keras.Model):
            def describe(self):
                return "net"

            def call(self, x):
                return x

        def fit(x):
            net = Net()
            with tf.GradientTape() as tape:
                loss = net(x)
            tape.gradient(loss, net.trainable_variables)
        """, "def call"),
}


@pytest.mark.parametrize("trap", sorted(TRAPS))
def test_what_the_analysis_may_need_is_kept(cut_all, trap):
    code, kept = TRAPS[trap]
    text = module(code)
    cut = regions.pruned(text, Config().step_names)
    assert cut is not None and "def test_add_7" not in cut  # the unrelated tests go
    assert kept in cut
    findings, skipped, _ = same_as_whole(cut_all, text)
    assert findings or skipped or trap == "tape alias"


STRING_TRAPS = [
    # lines at the class body's indentation inside a docstring, and at column 0 inside a string
    '''
class Doc(testing.TestCase):
    """Summary.

    def not_a_method(self):
        pass
    """

    def test_text(self):
        code = """
def train_step(self, data):
    with tf.GradientTape() as tape:
        pass
"""
        self.assertTrue(code)
''',
    # a method whose string holds what looks like the next method
    '''
class Doc(testing.TestCase):
    def test_text(self):
        return """
    def test_fit(self):
        with tf.GradientTape() as tape:
            loss = self.model(x)
"""
''',
]


@pytest.mark.parametrize("trap", range(len(STRING_TRAPS)))
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_lines_inside_strings_are_not_statements(cut_all, trap, newline):
    text = module(TAPE, STRING_TRAPS[trap]).replace("\n", newline)
    cut = regions.pruned(text, Config().step_names)
    assert cut is not None and "def test_add_7" not in cut
    compile(cut, "<cut>", "exec")
    same_as_whole(cut_all, text)


def test_a_syntax_error_in_a_method_nothing_needs_is_reported_as_before(cut_all):
    text = module(TAPE).replace("def test_add_3(self):", "def test_add_3(self) ->:")
    assert regions.pruned(text, Config().step_names) is None
    assert same_as_whole(cut_all, text)[0] == "error"


def test_a_lone_carriage_return_is_never_cut(cut_all):
    text = module(TAPE).replace("\n", "\r")
    assert regions.pruned(text, Config().step_names) is None


def test_a_module_another_file_imports_is_analysed_whole(cut_all, tmp_path):
    """Another module's analysis may ask about this one (its classes, callers): it is never cut."""
    agents = module("""
        class Agent:
            def __init__(self, net_cls):
                self.net = net_cls()

            def test_fit(self, x):
                with tf.GradientTape() as tape:
                    loss = self.net(x)
                tape.gradient(loss, self.net.trainable_variables)

            def act(self, x):
                return self.net(x)
        """)
    seen = []
    real = engine.pruned
    cut_all.setattr(engine, "pruned", lambda *a: seen.append(real(*a)) or seen[-1])
    for project, importer in (("alone", None), ("imported", "import keras\nfrom agents import Agent\n"
                                                             "Agent(keras.Sequential)\n")):
        (tmp_path / project).mkdir()
        (tmp_path / project / "pyproject.toml").write_text("")
        path = tmp_path / project / "agents.py"
        path.write_text(agents)
        if importer:
            (tmp_path / project / "run.py").write_text(importer)
        seen.clear()
        same_as_whole(cut_all, agents, path)
        assert (seen[0] is not None) == (importer is None)  # alone in its project, the module is cut


def test_keras_named_by_an_attribute_anywhere_is_kept(cut_all):
    """`tf.keras` in any function tells the analysis the module uses Keras (weights then prove models);
    a framework named only in a string (`backend() == "torch"`) tells it nothing."""
    text = textwrap.dedent("""\
        import tensorflow as tf


        def fit(model, x):
            with tf.GradientTape() as tape:
                loss = model(x)
            tape.gradient(loss, model.trainable_variables)


        def build():
            return tf.keras.Sequential()


        def describe(backend):
            return backend == "torch"
        """) + filler()
    cut = regions.pruned(text, Config().step_names)
    assert cut is not None and "def build" in cut and "def describe" not in cut
    same_as_whole(cut_all, text)


def test_a_mid_sized_module_reads_no_project_imports_to_be_cut(cut_all, tmp_path):
    """Whether another file imports the module is read from the project's import index; building it
    for a module the cut saves less on than reading the project costs is not worth it."""
    from trainfix import loader

    path = tmp_path / "ops_test.py"
    path.write_text(module(TAPE))
    (tmp_path / "pyproject.toml").write_text("")
    cut_all.setattr(engine, "INDEX_WORTH_CHARS", len(path.read_text()) + 1)
    seen = []
    real = engine.pruned
    cut_all.setattr(engine, "pruned", lambda *a: seen.append(real(*a)) or seen[-1])
    loader.forget()
    same_as_whole(cut_all, path.read_text(), path)
    assert seen[0] is None and str(tmp_path) not in loader._INDEXES  # not cut, and the project not read
    loader.FileLoader(str(path)).importers(str(path))  # once another analysis has read it, the cut is free
    seen.clear()
    same_as_whole(cut_all, path.read_text(), path)
    assert seen[0] is not None
