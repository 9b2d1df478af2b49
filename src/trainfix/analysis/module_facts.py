"""Facts about one module, collected once from its scope tree: whether its code uses Keras or another
module framework, and what the methods of each class do with `self`'s attributes (the values stored
in them, the ones whose weights are read, the frozen ones)."""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

from .keras_names import FOREIGN_FRAMEWORKS, canonical_keras
from .scope import Scope, ScopeTree

WEIGHT_ATTRS = {"trainable_variables", "trainable_weights", "variables", "weights"}
KERAS_WEIGHT_ATTRS = {"trainable_weights", "non_trainable_weights"}  # no tf.Module, Sonnet or torch module has these


@dataclass
class ClassFacts:
    # attr -> (value, scope) of every `self.attr = value` (value None: bound otherwise, e.g. unpacked)
    stores: dict[str, list[tuple[ast.AST | None, Scope]]] = field(default_factory=dict)
    frozen: set[str] = field(default_factory=set)  # `self.attr.trainable = False`
    weights: set[str] = field(default_factory=set)  # `self.attr.trainable_variables` (and the like) is read
    keras_weights: set[str] = field(default_factory=set)  # `self.attr.trainable_weights`: Keras' own API
    self_weights: bool = False  # `self.trainable_variables` is read
    self_optimizer: bool = False  # `self.optimizer` is read


NO_FACTS = ClassFacts()  # the facts of a class that none were collected for (never mutated)


def collect_class_facts(tree: ScopeTree) -> dict[ast.ClassDef, ClassFacts]:
    facts: dict[ast.ClassDef, ClassFacts] = {}
    for target, value, scope in tree.attr_stores:
        cls = tree.self_class(target.value, scope)
        if cls is not None:
            facts.setdefault(cls, ClassFacts()).stores.setdefault(target.attr, []).append((value, scope))
        # `self.backbone.trainable = False`: a sub-layer that self.trainable_variables excludes
        if target.attr == "trainable" and isinstance(value, ast.Constant) and value.value is False \
                and isinstance(target.value, ast.Attribute):
            owner_cls = tree.self_class(target.value.value, scope)
            if owner_cls is not None:
                facts.setdefault(owner_cls, ClassFacts()).frozen.add(target.value.attr)
    for node, scope in tree.attr_loads:
        if node.attr in WEIGHT_ATTRS and isinstance(node.value, ast.Attribute):
            cls = tree.self_class(node.value.value, scope)
            if cls is not None:
                facts.setdefault(cls, ClassFacts()).weights.add(node.value.attr)
                if node.attr in KERAS_WEIGHT_ATTRS:
                    facts[cls].keras_weights.add(node.value.attr)
        elif node.attr in ("trainable_variables", "trainable_weights", "optimizer"):
            cls = tree.self_class(node.value, scope)
            if cls is not None:
                if node.attr == "optimizer":
                    facts.setdefault(cls, ClassFacts()).self_optimizer = True
                else:
                    facts.setdefault(cls, ClassFacts()).self_weights = True
    return facts


def uses_foreign_framework(tree: ScopeTree) -> bool:
    """The module imports Sonnet, Haiku, Flax, torch...: their modules have `trainable_variables` too."""
    return any(name.lstrip(".").split(".")[0] in FOREIGN_FRAMEWORKS for name in tree.imports)


def uses_keras(tree: ScopeTree) -> bool:
    """The module's code names Keras: an import of it, or a `tf.keras` attribute."""
    for scope in tree.scope_of.values():
        for bindings in scope.bindings.values():
            if any(b.kind == "import" and canonical_keras(b.qualname) for b in bindings):
                return True
    return any(node.attr == "keras" and canonical_keras(tree.qualname(node, scope))
               for node, scope in tree.attr_loads)
