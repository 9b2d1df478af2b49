"""A small GAN whose train step opens both tapes in one ``with`` statement.

The bug: generator and discriminator are both called without ``training``
inside ``with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:``.
Both networks are trained there (g_tape differentiates the generator's
variables, d_tape the discriminator's), so trainfix gives all three calls
``training=True``; the calls in eval_step get ``training=False``.

``python gan_two_tapes.py`` trains for a few steps; ``--probe OUT.json``
measures one train step and one eval step.
"""

import sys

import numpy as np
import tensorflow as tf

tf.keras.utils.set_random_seed(31)
LATENT, FEATURES = 6, 8

generator = tf.keras.Sequential(
    [
        tf.keras.Input(shape=(LATENT,)),
        tf.keras.layers.Dense(16),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.ReLU(),
        tf.keras.layers.Dense(FEATURES),
    ]
)
discriminator = tf.keras.Sequential(
    [
        tf.keras.Input(shape=(FEATURES,)),
        tf.keras.layers.Dense(16),
        tf.keras.layers.BatchNormalization(),
        tf.keras.layers.LeakyReLU(0.2),
        tf.keras.layers.Dropout(0.3),
        tf.keras.layers.Dense(1),
    ]
)
bce = tf.keras.losses.BinaryCrossentropy(from_logits=True)
g_optimizer = tf.keras.optimizers.Adam(2e-3)
d_optimizer = tf.keras.optimizers.Adam(2e-3)


@tf.function
def train_step(real, noise):
    with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
        fake = generator(noise)  # e2e-fix: training=True
        real_logits = discriminator(real)  # e2e-fix: training=True
        fake_logits = discriminator(fake)  # e2e-fix: training=True
        g_loss = bce(tf.ones_like(fake_logits), fake_logits)
        d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
    g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
    d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
    g_optimizer.apply_gradients(zip(g_grads, generator.trainable_variables))
    d_optimizer.apply_gradients(zip(d_grads, discriminator.trainable_variables))
    return g_loss, d_loss


@tf.function
def eval_step(real, noise):
    fake = generator(noise)  # e2e-fix: training=False
    fake_logits = discriminator(fake)  # e2e-fix: training=False
    return bce(tf.ones_like(fake_logits), fake_logits), tf.reduce_mean(tf.abs(fake - real))


def make_batch(n, seed):
    rng = np.random.default_rng(seed)
    real = (rng.normal(size=(n, FEATURES)) * 0.5 + 2.0).astype("float32")
    noise = rng.normal(size=(n, LATENT)).astype("float32")
    return tf.constant(real), tf.constant(noise)


def main():
    for step in range(6):
        g_loss, d_loss = train_step(*make_batch(16, step))
    score, gap = eval_step(*make_batch(16, 99))
    print(f"g_loss={float(g_loss):.4f} d_loss={float(d_loss):.4f} eval={float(score):.4f} gap={float(gap):.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        real, noise = make_batch(32, 0)
        measure(
            sys.argv[2],
            train=lambda: train_step(real, noise),
            evaluate=lambda: eval_step(real, noise),
            trained={"generator": generator, "discriminator": discriminator},
        )
    else:
        main()
