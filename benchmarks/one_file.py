"""A small custom training loop with the two bugs trainfix fixes.

`trainfix check examples/` reports them; `trainfix apply examples/` fixes them.
"""
import numpy as np
import tensorflow as tf
from tensorflow import keras

classifier = keras.Sequential(
    [
        keras.Input(shape=(16,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.BatchNormalization(),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(4),
    ]
)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = keras.optimizers.Adam(1e-3)
val_accuracy = keras.metrics.SparseCategoricalAccuracy()


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = classifier(x)  # bug: BatchNormalization and Dropout run in inference mode
        loss = loss_fn(y, logits)  # a loss object: never given `training=`
    grads = tape.gradient(loss, classifier.trainable_variables)
    optimizer.apply_gradients(zip(grads, classifier.trainable_variables))
    return loss


@tf.function
def val_step(x, y):
    logits = classifier(x, training=True)  # bug: evaluation updates BatchNormalization statistics
    val_accuracy.update_state(y, logits)


if __name__ == "__main__":
    features = np.random.normal(size=(128, 16)).astype("float32")
    labels = np.random.randint(0, 4, size=(128,))
    data = tf.data.Dataset.from_tensor_slices((features, labels)).batch(32)
    for epoch in range(2):
        for xb, yb in data:
            train_loss = train_step(xb, yb)
        for xb, yb in data:
            val_step(xb, yb)
        print(f"epoch {epoch}: loss={float(train_loss):.3f} val_acc={float(val_accuracy.result()):.3f}")
