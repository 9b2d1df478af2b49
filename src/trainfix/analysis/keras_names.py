"""Keras names, however spelled: `tf.keras.layers.Dense`, `keras.src.layers.Dense` and
`tf_keras.layers.Dense` are one class. Pure functions of dotted names (no syntax trees),
used by the scope pass (aliases of Keras) and by the evidence pass (what a call returns).
"""
from __future__ import annotations

KERAS_ROOTS = (
    "tensorflow.compat.v1.keras",
    "tensorflow.compat.v2.keras",
    "tensorflow.python.keras",
    "tensorflow._api.v2.keras",
    "tensorflow.keras",
    "keras.api._v2.keras",
    "keras._tf_keras.keras",
    "keras.src",
    "keras.api",
    "tf_keras.src",
    "tf_keras",
    "keras",
)
MODEL_FUNCTIONS = {
    "keras.models.load_model",
    "keras.saving.load_model",
    "keras.models.clone_model",
    "keras.models.model_from_json",
    "keras.models.model_from_config",
    "keras.models.model_from_yaml",
    "keras.layers.deserialize",
}
# Keras namespaces whose capitalised names are layers or models.
MODEL_NAMESPACES = {"layers", "models", "applications", "engine", "Model", "Sequential", "Layer", "Functional"}
NOT_MODELS = {"Input", "InputSpec"}
EXTERNAL_LAYERS = {"tensorflow_hub.KerasLayer"}
EXTERNAL_PACKAGES = ("keras_hub", "keras_nlp", "keras_cv")
# Module frameworks whose objects also have `trainable_variables` but reject `training=`.
FOREIGN_FRAMEWORKS = {"sonnet", "haiku", "flax", "torch", "trax", "equinox", "objax", "acme", "lightning",
                      "pytorch_lightning", "graph_nets"}


def canonical_keras(qualname: str | None) -> str | None:
    """`tf.keras.layers.Dense` spelled any way -> `keras.layers.Dense`; None if not Keras."""
    if not qualname:
        return None
    for root in KERAS_ROOTS:
        if qualname == root or qualname.startswith(root + "."):
            return "keras" + qualname[len(root):]
    return None


def is_keras_model_class(qualname: str | None) -> bool:
    canon = canonical_keras(qualname)
    if canon is None:
        return _is_external_model(qualname)
    parts = canon.split(".")
    last = parts[-1]
    if len(parts) < 2 or not last[:1].isupper() or last in NOT_MODELS:
        return False
    return parts[1] in MODEL_NAMESPACES


def _is_external_model(qualname: str | None) -> bool:
    if not qualname:
        return False
    if qualname in EXTERNAL_LAYERS:
        return True
    parts = qualname.split(".")
    if parts[0] in EXTERNAL_PACKAGES and len(parts) >= 3 and parts[1] in ("models", "layers"):
        tail = parts[2:]
        return tail[0][:1].isupper() and (len(tail) == 1 or tail[1:] == ["from_preset"])
    return False


def returns_model(qualname: str | None, factories: tuple[str, ...]) -> bool:
    """A call to this dotted name certainly returns a Keras model or layer."""
    if not qualname:
        return False
    if qualname in factories or is_keras_model_class(qualname):
        return True
    canon = canonical_keras(qualname)
    return canon in MODEL_FUNCTIONS or _is_external_model(qualname)


def is_not_model(qualname: str | None) -> bool:
    """A call to this dotted name returns something that is known not to be a model."""
    if not qualname:
        return False
    canon = canonical_keras(qualname)
    if canon is not None:
        return not returns_model(qualname, ())
    top = qualname.split(".")[0]
    return top in ("tensorflow", "numpy", "jax", "math", "builtins") or top in FOREIGN_FRAMEWORKS
