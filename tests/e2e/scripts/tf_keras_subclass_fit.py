"""Keras 2 (``tf_keras``): a Model subclass with a custom train_step run by fit.

Keras 2 style throughout: ``self.compiled_loss`` / ``self.compiled_metrics``.
The bug: ``self(x)`` in train_step has no ``training`` argument, and Keras 2's
``fit`` does not set one either, so the step trains in inference mode.
trainfix adds ``training=True`` there and ``training=False`` in test_step.

``python tf_keras_subclass_fit.py`` fits for two epochs; ``--probe OUT.json``
measures one train_on_batch and one test_on_batch.
"""

import sys

import numpy as np
import tensorflow as tf
import tf_keras

tf_keras.utils.set_random_seed(81)


class Net(tf_keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = tf_keras.layers.Dense(12, activation="relu")
        self.bn = tf_keras.layers.BatchNormalization()
        self.dropout = tf_keras.layers.Dropout(0.3)
        self.head = tf_keras.layers.Dense(3)

    def call(self, inputs, training=None):
        h = self.bn(self.dense(inputs), training=training)
        return self.head(self.dropout(h, training=training))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x)  # e2e-fix: training=True
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        self.compiled_metrics.update_state(y, y_pred)
        return {"loss": loss, **{m.name: m.result() for m in self.metrics if m.name != "loss"}}

    def test_step(self, data):
        x, y = data
        y_pred = self(x)  # e2e-fix: training=False
        loss = self.compiled_loss(y, y_pred)
        self.compiled_metrics.update_state(y, y_pred)
        return {"loss": loss, **{m.name: m.result() for m in self.metrics if m.name != "loss"}}


def make_data(n):
    rng = np.random.default_rng(8)
    x = (rng.normal(size=(n, 6)) + 1.0).astype("float32")
    y = rng.integers(0, 3, size=(n,)).astype("int32")
    return x, y


model = Net()
model.compile(
    optimizer=tf_keras.optimizers.Adam(1e-2),
    loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
model.build((None, 6))


def main():
    x, y = make_data(64)
    history = model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), verbose=0)
    print({k: [round(v, 4) for v in vals] for k, vals in history.history.items()})


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        xb, yb = make_data(32)
        measure(
            sys.argv[2],
            train=lambda: model.train_on_batch(xb, yb, return_dict=True),
            evaluate=lambda: model.test_on_batch(xb, yb, return_dict=True),
            trained={"model": model},
        )
    else:
        main()
