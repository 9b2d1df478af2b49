"""Keras 2 (the ``tf_keras`` package): positional boolean training flags.

Keras 2 accepts ``model(x, False)``; here the training loop passes False by
mistake and the test step passes True.  trainfix rewrites both to the keyword
form (``training=True`` in the tape, ``training=False`` in test_step), which
Keras 2 and Keras 3 both accept.

``python tf_keras_positional.py`` trains for two epochs; ``--probe OUT.json``
measures one train step and one test step.
"""

import sys

import numpy as np
import tensorflow as tf
import tf_keras as keras
from tf_keras import layers

keras.utils.set_random_seed(71)

model = keras.Sequential(
    [
        layers.InputLayer(input_shape=(8,)),
        layers.Dense(16, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.3),
        layers.Dense(2),
    ]
)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.SGD(learning_rate=0.05)


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, False)  # e2e-fix: training=True
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


@tf.function
def test_step(x, y):
    logits = model(x, True)  # e2e-fix: training=False
    return loss_fn(y, logits)


def make_data(n):
    rng = np.random.default_rng(7)
    x = (rng.normal(size=(n, 8)) + 1.0).astype("float32")
    y = (x.sum(axis=1) > 8).astype("int32")
    return tf.constant(x), tf.constant(y)


def main():
    x, y = make_data(64)
    for epoch in range(2):
        for start in range(0, 64, 16):
            loss = train_step(x[start : start + 16], y[start : start + 16])
        print(f"epoch {epoch}: loss={float(loss):.4f} test loss={float(test_step(x, y)):.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        xb, yb = make_data(32)
        measure(
            sys.argv[2],
            train=lambda: train_step(xb, yb),
            evaluate=lambda: test_step(xb, yb),
            trained={"model": model},
        )
    else:
        main()
