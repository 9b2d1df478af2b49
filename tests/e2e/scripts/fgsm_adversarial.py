"""FGSM adversarial training: one input-gradient tape, one weights tape.

The first tape watches the images and is differentiated with respect to
them (an *inputs* tape): its model call must stay exactly as written.  The
second tape differentiates ``model.trainable_variables``: the model call
there lacks ``training`` and gets ``training=True`` from trainfix.

``python fgsm_adversarial.py`` trains for a few steps; ``--probe OUT.json``
measures one adversarial training step and one test step.
"""

import sys

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

keras.utils.set_random_seed(51)
EPSILON = 0.05

model = keras.Sequential(
    [
        keras.Input(shape=(6, 6, 1)),
        layers.Conv2D(4, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.Flatten(),
        layers.Dropout(0.3),
        layers.Dense(3),
    ]
)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam(1e-2)


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as input_tape:
        input_tape.watch(images)
        clean_logits = model(images)
        clean_loss = loss_fn(labels, clean_logits)
    signed_grad = tf.sign(input_tape.gradient(clean_loss, images))
    adversarial = tf.stop_gradient(tf.clip_by_value(images + EPSILON * signed_grad, 0.0, 1.0))
    batch = tf.concat([images, adversarial], axis=0)
    with tf.GradientTape() as tape:
        logits = model(batch)  # e2e-fix: training=True
        loss = loss_fn(tf.concat([labels, labels], axis=0), logits)
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


@tf.function
def test_step(images, labels):
    logits = model(images)  # e2e-fix: training=False
    return loss_fn(labels, logits)


def make_data(n):
    rng = np.random.default_rng(5)
    images = rng.uniform(0.2, 1.0, size=(n, 6, 6, 1)).astype("float32")
    labels = rng.integers(0, 3, size=(n,)).astype("int32")
    return tf.constant(images), tf.constant(labels)


def main():
    images, labels = make_data(48)
    for start in range(0, 48, 16):
        loss = train_step(images[start : start + 16], labels[start : start + 16])
    print(f"adversarial loss={float(loss):.4f} test loss={float(test_step(images, labels)):.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        images, labels = make_data(16)
        measure(
            sys.argv[2],
            train=lambda: train_step(images, labels),
            evaluate=lambda: test_step(images, labels),
            trained={"model": model},
        )
    else:
        main()
