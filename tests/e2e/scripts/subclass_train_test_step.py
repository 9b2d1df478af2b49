"""A keras.Model subclass that overrides train_step and test_step (Keras 3).

The bug: ``self(x)`` in train_step has no ``training`` argument, and
``Model.fit`` does not supply one to a custom train_step, so the forward pass
runs in inference mode (frozen BatchNormalization statistics, no dropout).
trainfix adds ``training=True`` in train_step and ``training=False`` in
test_step.

``python subclass_train_test_step.py`` fits for two epochs;
``--probe OUT.json`` measures one train_on_batch and one test_on_batch.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(21)


class Classifier(keras.Model):
    def __init__(self, num_classes=4, **kwargs):
        super().__init__(**kwargs)
        self.body = keras.Sequential(
            [
                keras.Input(shape=(10,)),
                keras.layers.Dense(24, activation="relu"),
                keras.layers.BatchNormalization(),
                keras.layers.Dropout(0.3),
                keras.layers.Dense(num_classes),
            ]
        )
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, inputs, training=None):
        return self.body(inputs, training=training)

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            logits = self(x)  # e2e-fix: training=True
            loss = self.compute_loss(x=x, y=y, y_pred=logits)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        logits = self(x)  # e2e-fix: training=False
        loss = self.compute_loss(x=x, y=y, y_pred=logits)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def make_data(n):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(n, 10)) + 0.5).astype("float32")
    y = rng.integers(0, 4, size=(n,)).astype("int32")
    return x, y


model = Classifier()
model.compile(
    optimizer=keras.optimizers.Adam(1e-2),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
)


def main():
    x, y = make_data(64)
    history = model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), verbose=0)
    for epoch, (loss, val_loss) in enumerate(zip(history.history["loss"], history.history["val_loss"])):
        print(f"epoch {epoch}: loss={loss:.4f} val_loss={val_loss:.4f}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        from e2e_probe import measure

        xb, yb = make_data(32)

        def one_batch(run):
            model.reset_metrics()
            return run(xb, yb, return_dict=True)

        measure(
            sys.argv[2],
            train=lambda: one_batch(model.train_on_batch),
            evaluate=lambda: one_batch(model.test_on_batch),
            trained={"model": model},
        )
    else:
        main()
