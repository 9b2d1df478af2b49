"""Analysis tables: code in the shapes found in real repositories.

FIXES: (source, expected source) pairs; UNCHANGED: sources nothing may touch.
"""
import textwrap

import pytest

from trainfix import Config, fix_source

HEAD = "import tensorflow as tf\nimport keras\n\n"


def src(body: str) -> str:
    return HEAD + textwrap.dedent(body)


FIXES = [
    pytest.param(
        """
        class VAE(keras.Model):
            def __init__(self, encoder, decoder):
                super().__init__()
                self.encoder = encoder
                self.decoder = decoder

            def train_step(self, data):
                with tf.GradientTape() as tape:
                    z = self.encoder(data)
                    loss = tf.reduce_mean(self.decoder(z))
                grads = tape.gradient(loss, self.trainable_weights)
                self.optimizer.apply_gradients(zip(grads, self.trainable_weights))

        encoder = keras.Sequential([keras.layers.Dense(2)])
        vae = VAE(encoder, keras.Sequential([keras.layers.Dense(4)]))
        """,
        ["self.encoder(data, training=True)", "self.decoder(z, training=True)"],
        id="constructor-params-proven-by-every-instantiation",
    ),
    pytest.param(
        """
        gen = keras.Sequential([keras.layers.Dense(2)])
        disc = keras.Sequential([keras.layers.Dense(1)])

        def train_step(z):
            with tf.GradientTape() as g_tape:
                with tf.GradientTape() as d_tape:
                    fake = gen(z)
                    score = disc(fake)
            g_tape.gradient(score, gen.trainable_variables)
            d_tape.gradient(score, disc.trainable_variables)
        """,
        ["gen(z, training=True)", "disc(fake, training=True)"],
        id="nested-weights-tapes-train-both",
    ),
    pytest.param(
        """
        from tensorflow.keras.models import Sequential as Seq
        from tensorflow import GradientTape as Tape

        net = Seq([keras.layers.Dense(1)])

        def fit_batch(x):
            with Tape() as t:
                loss = tf.reduce_sum(net(x))
            return t.gradient(loss, net.trainable_weights)
        """,
        ["net(x, training=True)"],
        id="aliases-resolved-by-import",
    ),
    pytest.param(
        """
        class Trainer:
            def __init__(self):
                self.model = keras.Sequential([keras.layers.Dense(1)])

            def test_step(self, x):
                return self.model(x)
        """,
        ["self.model(x, training=False)"],
        id="plain-class-attribute-bound-to-constructor",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])

        def train_step(x, training=True):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(model(x))
            return tape.gradient(loss, model.trainable_variables)
        """,
        ["model(x, training=training)"],
        id="forwards-the-step-training-parameter",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])
        opt = keras.optimizers.SGD()

        def step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(model(x))
            tape = None
            with tf.GradientTape() as tape:
                other = tf.reduce_sum(model(x))
            grads = tape.gradient(other, model.trainable_variables)
            opt.apply_gradients(zip(grads, model.trainable_variables))
        """,
        ["other = tf.reduce_sum(model(x, training=True))", "loss = tf.reduce_sum(model(x))"],
        id="rebound-tape-name-gradient-belongs-to-the-later-tape",
    ),
    pytest.param(
        """
        class VAE(keras.Model):
            def __init__(self, encoder, **kwargs):
                super(VAE, self).__init__(**kwargs)
                self.encoder = encoder

            def train_step(self, data):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self.encoder(data))
                grads = tape.gradient(loss, self.trainable_weights)
                self.optimizer.apply_gradients(zip(grads, self.trainable_weights))

        vae = VAE(keras.Sequential([keras.layers.Dense(2)]))
        """,
        ["self.encoder(data, training=True)"],
        id="super-with-class-name-is-not-an-instantiation",
    ),
    pytest.param(
        """
        def validation_step(inputs, model: keras.Model):
            return model(inputs)
        """,
        ["model(inputs, training=False)"],
        id="keras-annotation-proves-a-parameter",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])

        def test_step(iterator):
            def step_fn(x):
                return model(x)
            return tf.distribute.get_strategy().run(step_fn, args=(next(iterator),))
        """,
        ["return model(x, training=False)"],
        id="function-nested-in-eval-step-inherits-it",
    ),
    pytest.param(
        """
        from helpers import allreduce_and_apply

        model = keras.Sequential([keras.layers.Dense(1)])

        def step(x, optimizer):
            with tf.GradientTape() as tape:
                loss = tf.reduce_sum(model(x))
            allreduce_and_apply(tape, optimizer, loss, model.trainable_variables)
        """,
        ["model(x, training=True)"],
        id="tape-handed-to-a-helper-with-the-weights",
    ),
    pytest.param(
        """
        import torch

        class GAN(keras.Model):
            def __init__(self):
                super().__init__()
                self.generator = keras.Sequential([keras.layers.Dense(4)])
                self.discriminator = keras.Sequential([keras.layers.Dense(1)])

            def train_step(self, noise):
                fake = self.generator(noise)
                d_loss = torch.mean(self.discriminator(fake))
                d_loss.backward()
                self.d_optimizer.apply([v.value.grad for v in self.discriminator.trainable_weights],
                                       self.discriminator.trainable_weights)
                g_loss = torch.mean(self.discriminator(self.generator(noise)))
                g_loss.backward()
                self.g_optimizer.apply([v.value.grad for v in self.generator.trainable_weights],
                                       self.generator.trainable_weights)
        """,
        ["fake = self.generator(noise)\n", "d_loss = torch.mean(self.discriminator(fake, training=True))",
         "torch.mean(self.discriminator(self.generator(noise, training=True)))"],
        id="tapeless-step-trains-the-network-of-the-next-update",
    ),
    pytest.param(
        """
        try:
            import tf_keras as K
        except ImportError:
            import keras as K

        class Net(K.Model):
            def train_step(self, data):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self(data))
                self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables),
                                                   self.trainable_variables))
        """,
        ["self(data, training=True)"],
        id="alternative-keras-imports-in-try-except",
    ),
    pytest.param(
        """
        from project.base import BaseModel

        class Detector(BaseModel):
            def train_step(self, data):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self(data))
                grads = tape.gradient(loss, self.trainable_variables)
                self.optimizer.apply_gradients(zip(grads, self.trainable_variables))

            def test_step(self, data):
                return self(data)
        """,
        ["tf.reduce_mean(self(data, training=True))", "return self(data, training=False)"],
        id="project-base-class-using-the-keras-model-api",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])
        opt = keras.optimizers.Adam()

        def step(x, mixed):
            if mixed:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(model(x * 0.5))
            else:
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(model(x))
            opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        """,
        ["model(x * 0.5, training=True)", "model(x, training=True)"],
        id="tape-opened-in-either-branch",
    ),
    pytest.param(
        """
        class Agent:
            def __init__(self, log_alpha):
                self.q = keras.Sequential([keras.layers.Dense(1)])
                self.q_target = keras.Sequential([keras.layers.Dense(1)])
                self.log_alpha = log_alpha

            def update(self, s, opt):
                with tf.GradientTape(persistent=True) as tape:
                    target = self.q_target(s)
                    loss = tf.reduce_mean(self.q(s) - target) * self.log_alpha
                opt.apply_gradients(zip(tape.gradient(loss, self.q.trainable_variables), self.q.trainable_variables))
                opt.apply_gradients(zip(tape.gradient(loss, [self.log_alpha]), [self.log_alpha]))
                for w, t in zip(self.q.weights, self.q_target.weights):
                    t.assign(w)
        """,
        ["target = self.q_target(s)\n", "self.q(s, training=True)"],
        id="target-network-in-a-partly-unresolved-tape-is-not-trained",
    ),
    pytest.param(
        """
        class Critic(keras.Model):
            def call(self, states, actions, training=None):
                return states

        class Masked(keras.Model):
            def call(self, x, use_mask):
                return x

        critic, masked = Critic(), Masked()

        def train_step(s, a, opt):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(critic(s, a)) + tf.reduce_mean(masked(s, False))
            vs = critic.trainable_variables + masked.trainable_variables
            opt.apply_gradients(zip(tape.gradient(loss, vs), vs))
        """,
        ["critic(s, a, training=True)", "masked(s, False, training=True)"],
        id="local-call-signature-decides-the-positional-training-slot",
    ),
]

UNCHANGED = [
    pytest.param(
        """
        class VAE(keras.Model):
            def __init__(self, encoder):
                super().__init__()
                self.encoder = encoder

            def train_step(self, data):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self.encoder(data))
                self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_weights), self.trainable_weights))

        def build(factory):
            return VAE(factory())
        """,
        id="constructor-param-from-an-unknown-callable",
    ),
    pytest.param(
        """
        class VAE(keras.Model):
            def __init__(self, encoder):
                super().__init__()
                self.encoder = encoder

            def train_step(self, data):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self.encoder(data))
                self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_weights), self.trainable_weights))

        vae = VAE(keras.Sequential([keras.layers.Dense(1)]))
        registry = {"vae": VAE}
        """,
        id="class-passed-around-may-be-built-elsewhere",
    ),
    pytest.param(
        """
        def evaluate_step(model, x):
            return model(x)

        evaluate_step(keras.Sequential([keras.layers.Dense(1)]), 1.0)
        """,
        id="plain-function-param-not-inferred-from-callers",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])
        loss_fn = keras.losses.MeanSquaredError()
        acc = keras.metrics.Mean()

        def train_step(x, y):
            with tf.GradientTape() as tape:
                h = keras.layers.Dense(3)(x)
                loss = loss_fn(y, model(h, training=True)) + tf.add_n(model.losses)
                acc(loss)
            return tape.gradient(loss, model.trainable_variables)
        """,
        id="losses-metrics-inline-layers-untouched",
    ),
    pytest.param(
        """
        class Block(keras.layers.Layer):
            def __init__(self):
                super().__init__()
                self.inner = keras.layers.Dense(2)

            def call(self, x):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    y = self.inner(x)
                return y + tape.gradient(y, x)
        """,
        id="layer-call-is-never-a-context",
    ),
    pytest.param(
        """
        import torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Linear(2, 2))

            def training_step(self, batch):
                return self.body(batch)

            def validation_step(self, batch):
                return self(batch)
        """,
        id="torch-module-steps",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])

        def predict_step(x):
            samples = [model(x, training=True) for _ in range(10)]
            return tf.reduce_mean(samples, axis=0)
        """,
        id="monte-carlo-dropout-in-predict-step-is-unsafe",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])

        def explain(x):
            x = tf.convert_to_tensor(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = model(x)
            return tape.jacobian(y, x)
        """,
        id="jacobian-wrt-inputs",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])
        frozen = tf.function(model)

        def train_step(x):
            with tf.GradientTape() as tape:
                y = frozen(x)
            return tape.gradient(y, model.trainable_variables)
        """,
        id="tf-function-wrapper-is-not-a-model",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])

        def train_step(x):
            with tf.GradientTape() as tape:
                y = model(x, True)
            return tape.gradient(y, model.trainable_variables)

        def test_step(x, flag):
            return model(x, flag)
        """,
        id="positional-true-while-training-and-expression-positional",
    ),
    pytest.param(
        """
        model = keras.Sequential([keras.layers.Dense(1)])

        def train_step(model, x):
            with tf.GradientTape() as tape:
                y = model(x)
            return tape.gradient(y, tape.watched_variables())
        """,
        id="shadowing-parameter-is-unknown",
    ),
    pytest.param(
        """
        import sonnet as snt

        def train_step(model: snt.Module, optimizer, images, labels):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model(images) - labels)
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply(grads, model.trainable_variables)
        """,
        id="sonnet-module-with-differentiated-weights",
    ),
    pytest.param(
        """
        class Learner:
            def __init__(self, network: tf.Module):
                self._network = network

            def step(self, x, opt):
                with tf.GradientTape() as tape:
                    loss = tf.reduce_mean(self._network(x))
                grads = tape.gradient(loss, self._network.trainable_variables)
                opt.apply_gradients(zip(grads, self._network.trainable_variables))
        """,
        id="tf-module-parameter-is-not-keras",
    ),
    pytest.param(
        """
        net = keras.Sequential([keras.layers.Dense(1)])

        def train_step(x, opt):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(net(x, is_training=True))
            opt.apply_gradients(zip(tape.gradient(loss, net.trainable_variables), net.trainable_variables))
        """,
        id="another-frameworks-training-flag",
    ),
]


@pytest.mark.parametrize("body,expected", FIXES)
def test_fixes(body, expected):
    before = src(body)
    result = fix_source(before)
    assert result.new_source != before
    for fragment in expected:
        assert fragment in result.new_source, result.new_source
    assert fix_source(result.new_source).new_source == result.new_source


@pytest.mark.parametrize("body", UNCHANGED)
def test_unchanged(body):
    before = src(body)
    result = fix_source(before, config=Config())
    assert result.new_source == before
    assert all(f.fix is None or f.fix.applicability == "unsafe" for f in result.findings)


def test_training_false_on_explanation_gradients_is_unsafe():
    """Weight gradients returned for an explanation, not applied: the explicit False may be deliberate."""
    before = src("""
        model = keras.Sequential([keras.layers.Dense(1)])

        def per_example_grads(x):
            with tf.GradientTape() as tape:
                out = model(x, training=False)
            return tape.gradient(out, model.trainable_variables)
        """)
    [finding] = fix_source(before).findings
    assert finding.code == "TRN002" and finding.fix.applicability == "unsafe"
    assert fix_source(before).new_source == before
    assert "training=True" in fix_source(before, unsafe=True).new_source


def test_deliberate_inference_pass_keeps_training_false_unless_unsafe():
    """AdaMatch calls the trained model twice, once in inference mode on purpose."""
    before = src("""
        class AdaMatch(keras.Model):
            def __init__(self):
                super().__init__()
                self.model = keras.Sequential([keras.layers.Dense(1)])

            def train_step(self, data):
                x, x_src = data
                with tf.GradientTape() as tape:
                    logits = self.model(x, training=True)
                    logits_src = self.model(x_src, training=False)
                    loss = tf.reduce_mean(logits) + tf.reduce_mean(logits_src)
                grads = tape.gradient(loss, self.model.trainable_variables)
                self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        """)
    [finding] = fix_source(before).findings
    assert finding.code == "TRN002" and finding.fix.applicability == "unsafe"
    assert fix_source(before).new_source == before


@pytest.mark.parametrize("comment", ["# No BatchNorm update.", "# keep BN statistics frozen", "# inference mode on purpose"])
def test_comment_giving_the_reason_keeps_training_false_unless_unsafe(comment):
    before = src(f"""
        model = keras.Sequential([keras.layers.Dense(1)])
        opt = keras.optimizers.SGD()

        def train_step(x):
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(model(x, training=False))  {comment}
            opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        """)
    [finding] = fix_source(before).findings
    assert finding.fix.applicability == "unsafe"


def test_monte_carlo_comment_on_the_closing_line_of_a_call():
    before = src("""
        model = keras.Sequential([keras.layers.Dropout(0.5)])

        def test_step(x):
            return model(
                x, training=True
            )  # Monte Carlo dropout
        """)
    [finding] = fix_source(before).findings
    assert finding.code == "TRN004" and finding.fix.applicability == "unsafe"


def test_unresolved_tape_module_is_still_a_tape():
    """A notebook whose `import tensorflow as tf` cell is missing: outside-tape calls stay untouched."""
    before = """import keras


class GAN(keras.Model):
    def __init__(self):
        super().__init__()
        self.generator = keras.Sequential([keras.layers.Dense(4)])
        self.discriminator = keras.Sequential([keras.layers.Dense(1)])

    def train_step(self, z):
        fake = self.generator(z)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self.discriminator(fake))
        grads = tape.gradient(loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
"""
    assert fix_source(before).new_source == before


# --------------------------------------------------------------------------- the passes' typed facts
def _analyzer(body: str):
    import ast

    from trainfix.analysis.contexts import Analyzer

    source = src(body)
    return Analyzer.for_file(ast.parse(source), Config(), source)


def _tape_contexts(body: str):
    import ast

    an = _analyzer(body)
    withs = [(node, scope) for node, scope in an.t.scope_of.items() for node in scope.withs]
    outer = None
    found = []
    for node, scope in sorted(withs, key=lambda w: w[0].lineno):
        ctx = an.tapes.context(node, scope, outer)
        found.append(ctx)
        outer = ctx if isinstance(node.body[0], ast.With) else outer
    return an, found


def test_gradient_sources_are_weights_tensors_or_unknown():
    from trainfix.analysis.gradients import GradientSource

    an = _analyzer("""
        model = keras.Sequential([keras.layers.Dense(1)])
        image = tf.Variable(tf.zeros([1, 4]))

        def f(x, y):
            return model.trainable_variables, [image], y
        """)
    fn = next(node for node in an.t.scope_of if getattr(node, "name", None) == "f")
    weights, tensors, other = fn.body[0].value.elts
    scope = an.t.scope_of[fn]
    [source] = an.sources.classify(weights, scope)
    assert source.kind == "weights" and source.owner == an.ev.model_key(weights.value, scope)
    assert an.sources.classify(tensors, scope) == {GradientSource.TENSOR}
    assert an.sources.classify(other, scope) == {GradientSource.UNKNOWN}


def test_a_tape_nested_in_a_training_tape_trains_both_owners():
    an, (outer, inner) = _tape_contexts("""
        gen = keras.Sequential([keras.layers.Dense(1)])
        disc = keras.Sequential([keras.layers.Dense(1)])

        def step(x):
            with tf.GradientTape() as g_tape:
                with tf.GradientTape() as d_tape:
                    loss = disc(gen(x))
                d_grads = d_tape.gradient(loss, disc.trainable_variables)
            g_grads = g_tape.gradient(loss, gen.trainable_variables)
            opt.apply_gradients(zip(g_grads, gen.trainable_variables))
        """)
    import ast

    gen, disc = (an.ev.model_key(ast.Name(id=name), an.t.module) for name in ("gen", "disc"))
    assert (outer.kind, inner.kind) == ("train", "train")
    assert outer.trained == {gen} and inner.trained == {gen, disc}  # the inner body is recorded by both tapes
    assert outer.feeds and not inner.feeds  # only the generator's gradients reach an optimizer


def test_a_tape_of_input_gradients_is_an_inputs_context():
    an, (saliency,) = _tape_contexts("""
        model = keras.Sequential([keras.layers.Dense(1)])

        def saliency(x):
            x = tf.convert_to_tensor(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = model(x)
            return tape.gradient(y, x)
        """)
    assert saliency.kind == "inputs" and saliency.tape and saliency.reason == "input-gradient tape"
