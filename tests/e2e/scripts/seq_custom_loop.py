"""Sequential classifier trained with a hand-written GradientTape loop.

The bug: inside the tape the model is called without ``training``, so Keras
resolves the call to inference mode: BatchNormalization never updates its
moving statistics and Dropout never drops a unit.  trainfix adds
``training=True`` there and ``training=False`` in the validation step.

Run ``python seq_custom_loop.py`` to train for two epochs, or
``python seq_custom_loop.py --probe OUT.json`` (with tests/e2e on PYTHONPATH)
to measure one training and one validation step.
"""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras

keras.utils.set_random_seed(11)

model = keras.Sequential(
    [
        keras.Input(shape=(12,)),
        keras.layers.Dense(16, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dropout(0.4),
        keras.layers.Dense(3),
    ]
)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.SGD(learning_rate=0.05)
val_accuracy = keras.metrics.SparseCategoricalAccuracy()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x)  # e2e-fix: training=True
        loss = loss_fn(y, logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


@tf.function
def val_step(x, y):
    logits = model(x)  # e2e-fix: training=False
    val_accuracy.update_state(y, logits)
    return loss_fn(y, logits)


def make_data(n):
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(n, 12)) + 1.0).astype("float32")
    y = rng.integers(0, 3, size=(n,)).astype("int32")
    return x, y


def main():
    x, y = make_data(64)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    for epoch in range(2):
        for xb, yb in dataset:
            loss = train_step(xb, yb)
        val_loss = val_step(x, y)
        print(f"epoch {epoch}: loss={float(loss):.4f} val_loss={float(val_loss):.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        xb, yb = (tf.constant(a) for a in make_data(32))
        measure(
            sys.argv[2],
            train=lambda: train_step(xb, yb),
            evaluate=lambda: val_step(xb, yb),
            trained={"model": model},
        )
    else:
        main()
