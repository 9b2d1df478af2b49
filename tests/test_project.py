"""The project index: evidence followed across the modules of a project, through the real CLI."""
import json
import textwrap

MODELS_TF_MODULE = """\
import tensorflow as tf


class Linear(tf.Module):
    def __call__(self, x):
        return x


def make_net():
    return Linear()
"""
MODELS_KERAS = """\
import keras


def make_net():
    return keras.Sequential([keras.layers.Dense(1), keras.layers.BatchNormalization()])
"""
TRAIN = """\
import tensorflow as tf

from {module} import make_net

net = make_net()
opt = tf.keras.optimizers.SGD()


def train_step(x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(net(x))
    grads = tape.gradient(loss, net.trainable_variables)
    opt.apply_gradients(zip(grads, net.trainable_variables))
"""


def project(tmp_path, files):
    (tmp_path / "pyproject.toml").write_text("[tool.trainfix]\n")
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def findings(run_trainfix, root, *extra):
    p = run_trainfix("check", "--output-format", "json", *extra, ".", cwd=root)
    assert p.returncode in (0, 1), p.stderr.decode()
    return [(d["filename"], d["code"], d["line"], (d["fix"] or {}).get("applicability")) for d in json.loads(p.stdout)]


def test_a_sibling_keras_factory_proves_the_model(tmp_path, run_trainfix):
    root = project(tmp_path, {"models.py": MODELS_KERAS, "train.py": TRAIN.format(module="models")})
    assert findings(run_trainfix, root) == [("train.py", "TRN001", 11, "safe")]


def test_a_sibling_tf_module_is_never_edited(tmp_path, run_trainfix):
    root = project(tmp_path, {"models.py": MODELS_TF_MODULE, "train.py": TRAIN.format(module="models")})
    assert findings(run_trainfix, root) == []


def test_a_package_module_imported_absolutely_and_through_a_reexport(tmp_path, run_trainfix):
    root = project(tmp_path, {"lib/__init__.py": "from .nets import make_net\n", "lib/nets.py": MODELS_KERAS,
                              "train.py": TRAIN.format(module="lib")})
    assert findings(run_trainfix, root) == [("train.py", "TRN001", 11, "safe")]


def test_keras_named_only_in_a_comment_proves_nothing(tmp_path, run_trainfix):
    """Differentiated weights prove a Keras model only in code that uses Keras, never by a word in a comment."""
    train = TRAIN.replace("import tensorflow as tf\n", "import tensorflow as tf  # ported from our keras code\n")
    train = train.replace("tf.keras.optimizers.SGD()", "tf.optimizers.SGD()")
    root = project(tmp_path, {"train.py": train.format(module="mylib")})  # mylib: installed, not in the project
    assert findings(run_trainfix, root) == []
    root = project(tmp_path, {"train.py": train.replace("import tensorflow as tf", "import keras\nimport tensorflow as tf")
                              .format(module="mylib")})
    assert [f[1] for f in findings(run_trainfix, root)] == ["TRN001"]


def test_a_changed_module_invalidates_the_cached_result_of_its_importer(tmp_path, run_trainfix):
    root = project(tmp_path, {"models.py": MODELS_TF_MODULE, "train.py": TRAIN.format(module="models")})
    assert findings(run_trainfix, root, "--cache") == []
    (root / "models.py").write_text(MODELS_KERAS + "\n# a longer file\n")
    assert findings(run_trainfix, root, "--cache") == [("train.py", "TRN001", 11, "safe")]


def test_a_plain_class_instantiated_in_another_module_proves_nothing(tmp_path, run_trainfix):
    """Instantiations read in one file prove a constructor parameter only when no other module can add more."""
    evaluator = textwrap.dedent("""\
        import keras


        class Evaluator:
            def __init__(self, model):
                self.model = model

            def eval_step(self, x):
                return self.model(x)


        def build():
            return keras.Sequential([keras.layers.Dense(1)])


        if __name__ == "__main__":
            Evaluator(build()).eval_step(1)
        """)
    root = project(tmp_path, {"evaluate.py": evaluator})
    assert findings(run_trainfix, root) == [("evaluate.py", "TRN003", 9, "safe")]
    (root / "other.py").write_text("from evaluate import Evaluator\n\nEvaluator(len)\n")
    # a new importer is not among the modules evaluate.py's cached result read: see docs/project.md
    assert findings(run_trainfix, root, "--no-cache") == []


def test_a_training_function_in_another_module_follows_the_callers_model(tmp_path, run_trainfix):
    losses = textwrap.dedent("""\
        def generator_loss(generator, z, training=False):
            return generator(z, training=training)
        """)
    train = textwrap.dedent("""\
        import keras
        import tensorflow as tf

        from losses import generator_loss

        generator = keras.Sequential([keras.layers.Dense(1)])
        critic = keras.Sequential([keras.layers.Dense(1)])


        def train_step(z):
            with tf.GradientTape() as tape:
                g = generator_loss(generator, z)
                c = generator_loss(critic, z)
            return tape.gradient(g + c, generator.trainable_variables)


        def test_step(z):
            return generator_loss(generator, z)
        """)
    root = project(tmp_path, {"losses.py": losses, "train.py": train})
    assert findings(run_trainfix, root) == [("train.py", "TRN001", 12, "safe"), ("train.py", "TRN003", 18, "safe")]


def test_a_notebook_follows_its_sibling_modules(tmp_path, run_trainfix):
    cell = TRAIN.format(module="models").splitlines(keepends=True)
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "id": "c1", "metadata": {}, "outputs": [],
                           "source": cell}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    root = project(tmp_path, {"models.py": MODELS_KERAS, "train.ipynb": json.dumps(notebook, indent=1) + "\n"})
    assert findings(run_trainfix, root) == [("train.ipynb", "TRN001", 11, "safe")]
    (root / "models.py").write_text(MODELS_TF_MODULE)
    assert findings(run_trainfix, root) == []


def test_a_star_import_of_a_project_module_is_followed(tmp_path, run_trainfix):
    models = "import keras\n\nnet = keras.Sequential([keras.layers.Dense(1), keras.layers.BatchNormalization()])\n"
    train = TRAIN.replace("from {module} import make_net\n\nnet = make_net()\n", "from models import *\n")
    root = project(tmp_path, {"models.py": models, "train.py": train})
    assert findings(run_trainfix, root) == [("train.py", "TRN001", 9, "safe")]
    root = project(tmp_path, {"models.py": MODELS_TF_MODULE.replace("def make_net():\n    return Linear()\n",
                                                                    "net = Linear()\n")})
    assert findings(run_trainfix, root, "--no-cache") == []


STEPS = """\
import tensorflow as tf


def train_step(model, opt, x):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(model(x))
    grads = tape.gradient(loss, model.trainable_variables)
    opt.apply_gradients(zip(grads, model.trainable_variables))
"""
CALLS_STEPS = """\
import keras

from steps import train_step

net = keras.Sequential([keras.layers.Dense(1), keras.layers.BatchNormalization()])
train_step(net, keras.optimizers.SGD(), 1.0)
"""


def skipped(run_trainfix, root):
    p = run_trainfix("check", "--no-cache", "--show-skipped", ".", cwd=root)
    return [line for line in p.stdout.decode().splitlines() if ": skipped " in line]


def test_a_parameter_is_a_model_when_every_call_in_the_project_passes_one(tmp_path, run_trainfix):
    root = project(tmp_path, {"steps.py": STEPS, "train.py": CALLS_STEPS})
    assert findings(run_trainfix, root) == [("steps.py", "TRN001", 6, "safe")]
    assert skipped(run_trainfix, root) == []


def test_why_a_parameter_is_not_a_model_names_the_calls_in_other_modules(tmp_path, run_trainfix):
    tf_module = "import tensorflow as tf\n\nfrom steps import train_step\n\n\nclass Linear(tf.Module):\n" \
                "    def __call__(self, x):\n        return x\n\n\ntrain_step(Linear(), None, 1.0)\n"
    root = project(tmp_path, {"steps.py": STEPS, "train.py": CALLS_STEPS, "other.py": tf_module})
    assert findings(run_trainfix, root, "--no-cache") == []
    reason = "`model` is a parameter of `train_step`, and not every call of `train_step` passes a Keras model there"
    assert skipped(run_trainfix, root) == [f"steps.py:6:31: skipped `model`: unknown callee: {reason}"]
    (root / "other.py").write_text("from steps import train_step\n\nSTEPS = [train_step]\n")
    reason = "`model` is a parameter of `train_step`, and `train_step` is used other than by calls (passed " \
             "around, subclassed, or in files not read)"
    assert skipped(run_trainfix, root) == [f"steps.py:6:31: skipped `model`: unknown callee: {reason}"]


def test_an_attribute_of_an_instance_of_a_class_of_another_module(tmp_path, run_trainfix):
    wrap = "import keras\n\n\nclass Wrapper:\n    def __init__(self):\n" \
           "        self.model = keras.Sequential([keras.layers.Dense(1)])\n"
    use = textwrap.dedent("""\
        import tensorflow as tf

        from wrap import Wrapper

        w = Wrapper()


        def train_step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(w.model(x))
            return tape.gradient(loss, w.model.trainable_variables)
        """)
    root = project(tmp_path, {"wrap.py": wrap, "use.py": use})
    assert findings(run_trainfix, root) == [("use.py", "TRN001", 10, "safe")]
    (root / "wrap.py").write_text(wrap.replace("keras.Sequential([keras.layers.Dense(1)])", "len"))
    assert findings(run_trainfix, root, "--no-cache") == []


def test_the_project_index_sits_below_the_passes_that_use_it():
    """The index and the evidence never import the contexts pass (it hands the index its analyzer), and
    the scope pass imports neither: the import graph of the analysis has no cycle through them."""
    import grimp

    graph = grimp.build_graph("trainfix")
    below = ["trainfix.analysis.keras_names", "trainfix.analysis.scope", "trainfix.analysis.syntax",
             "trainfix.analysis.keys", "trainfix.analysis.targets", "trainfix.analysis.module_facts",
             "trainfix.analysis.evidence", "trainfix.analysis.callees", "trainfix.analysis.project"]
    assert [(low, high) for i, low in enumerate(below) for high in below[i + 1:]
            if graph.chain_exists(importer=low, imported=high)] == []
    assert not graph.chain_exists(importer="trainfix.analysis.project", imported="trainfix.analysis.contexts")


def test_a_file_that_never_names_a_definition_is_read_but_not_parsed(tmp_path, monkeypatch):
    """The callers of `train_step` are found in the files that import `steps`; one that never spells
    the name is read (it stays a dependency of the result) but not parsed."""
    from trainfix import engine
    from trainfix.analysis import project as index

    root = project(tmp_path, {"steps.py": STEPS, "train.py": CALLS_STEPS,
                              "other.py": "import steps\n\nprint(steps.__doc__)\n"})
    parsed = []
    real = index._parse
    monkeypatch.setattr(index, "_parse", lambda key, text: parsed.append(key) or real(key, text))
    index._PARSED.clear()
    result = engine.fix_source((root / "steps.py").read_text(), path=root / "steps.py")
    assert [(f.code, f.line) for f in result.findings] == [("TRN001", 6)]
    assert str(root / "train.py") in parsed and str(root / "other.py") not in parsed
    assert str(root / "other.py") in result.dependencies
