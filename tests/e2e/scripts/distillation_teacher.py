"""Knowledge distillation: a student learns from a frozen teacher.

The bug: the student is called without ``training`` inside the tape, so it
trains in inference mode.  The teacher is called with ``training=False``;
its variables are not differentiated, so trainfix must leave that call
alone -- the teacher's BatchNormalization statistics must never move.

``python distillation_teacher.py`` fits the teacher briefly, then distils;
``--probe OUT.json`` measures one distillation step and one test step.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(41)
TEMPERATURE, ALPHA = 3.0, 0.3


def classifier(width, name):
    return keras.Sequential(
        [
            keras.Input(shape=(10,)),
            keras.layers.Dense(width, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(0.25),
            keras.layers.Dense(5),
        ],
        name=name,
    )


teacher = classifier(32, "teacher")
student = classifier(8, "student")
hard_loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
soft_loss = keras.losses.KLDivergence()
optimizer = keras.optimizers.Adam(1e-2)


@tf.function
def distill_step(x, y):
    with tf.GradientTape() as tape:
        teacher_logits = teacher(x, training=False)
        student_logits = student(x)  # e2e-fix: training=True
        soft_targets = tf.nn.softmax(teacher_logits / TEMPERATURE)
        soft_preds = tf.nn.softmax(student_logits / TEMPERATURE)
        loss = ALPHA * hard_loss(y, student_logits) + (1 - ALPHA) * soft_loss(soft_targets, soft_preds)
    grads = tape.gradient(loss, student.trainable_variables)
    optimizer.apply_gradients(zip(grads, student.trainable_variables))
    return loss


@tf.function
def test_step(x, y):
    logits = student(x)  # e2e-fix: training=False
    return hard_loss(y, logits)


def make_data(n):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(n, 10)) + 1.0).astype("float32")
    y = (x[:, :5].argmax(axis=1)).astype("int32")
    return x, y


def main():
    x, y = make_data(64)
    teacher.compile(optimizer="adam", loss=hard_loss)
    teacher.fit(x, y, batch_size=16, epochs=1, verbose=0)
    for start in range(0, 64, 16):
        loss = distill_step(tf.constant(x[start : start + 16]), tf.constant(y[start : start + 16]))
    print(f"distill loss={float(loss):.4f} test loss={float(test_step(x, y)):.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        xb, yb = (tf.constant(a) for a in make_data(32))
        measure(
            sys.argv[2],
            train=lambda: distill_step(xb, yb),
            evaluate=lambda: test_step(xb, yb),
            trained={"student": student},
            frozen={"teacher": teacher},
        )
    else:
        main()
