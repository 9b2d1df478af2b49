"""A subclassed model whose test_step calls itself with ``training=True``.

train_step is already correct.  The bug is in test_step: validation runs in
training mode, so every ``evaluate``/validation pass shifts the
BatchNormalization moving statistics and applies dropout.  test_step is an
eval step, so trainfix rewrites the flag to ``training=False``.

``python training_true_in_test_step.py`` fits with validation;
``--probe OUT.json`` measures one train_on_batch and one test_on_batch.
"""

import sys

import keras
import numpy as np
import tensorflow as tf

keras.utils.set_random_seed(61)


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(16, activation="relu")
        self.norm = keras.layers.BatchNormalization()
        self.drop = keras.layers.Dropout(0.3)
        self.out = keras.layers.Dense(1)
        self.loss_tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, inputs, training=False):
        h = self.norm(self.hidden(inputs), training=training)
        return self.out(self.drop(h, training=training))

    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            pred = self(x, training=True)
            loss = self.compute_loss(x=x, y=y, y_pred=pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        pred = self(x, training=True)  # e2e-fix: training=False
        self.loss_tracker.update_state(self.compute_loss(x=x, y=y, y_pred=pred))
        return {"loss": self.loss_tracker.result()}


def make_data(n):
    rng = np.random.default_rng(6)
    x = (rng.normal(size=(n, 5)) + 1.0).astype("float32")
    y = (x @ np.arange(1, 6, dtype="float32"))[:, None] / 10.0
    return x, y


model = Regressor()
model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
model(np.zeros((1, 5), dtype="float32"))  # build the weights


def main():
    x, y = make_data(64)
    history = model.fit(x, y, batch_size=16, epochs=2, validation_data=(x, y), verbose=0)
    print("loss", [round(v, 4) for v in history.history["loss"]], "val_loss", [round(v, 4) for v in history.history["val_loss"]])


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
