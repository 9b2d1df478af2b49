"""Gradient sources: what `tape.gradient(loss, sources)` differentiates.

The sources decide a tape's context: some model's weights (a training step),
tensors only (input gradients: saliency, adversarial examples), or unresolved.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import ClassVar, Literal

from .evidence import Evidence
from .keys import ModelKey
from .module_facts import WEIGHT_ATTRS
from .scope import Binding, Scope, ScopeTree
from .sites import in_block, position

GRADIENT_METHODS = {"gradient", "jacobian", "batch_jacobian"}
TENSOR_LIBRARIES = ("tensorflow", "numpy", "jax")

SourceKind = Literal[
    "weights",  # the weights of the model `owner`
    "some_weights",  # the weights of something that is not identified
    "tensor",  # a tensor (an input, a computed value)
    "unknown",  # anything else
]


@dataclass(frozen=True)
class GradientSource:
    kind: SourceKind
    owner: ModelKey | None = None  # for "weights"

    SOME_WEIGHTS: ClassVar[GradientSource]
    TENSOR: ClassVar[GradientSource]
    UNKNOWN: ClassVar[GradientSource]

    @property
    def is_weights(self) -> bool:
        return self.kind in ("weights", "some_weights")


GradientSource.SOME_WEIGHTS = GradientSource("some_weights")
GradientSource.TENSOR = GradientSource("tensor")
GradientSource.UNKNOWN = GradientSource("unknown")

Sources = frozenset[GradientSource]
_TENSOR: Sources = frozenset({GradientSource.TENSOR})
_UNKNOWN: Sources = frozenset({GradientSource.UNKNOWN})
Seen = frozenset[tuple[str, int]]  # (name, id(scope)) already followed


def owners(sources: Sources) -> frozenset[ModelKey]:
    """The identified models whose weights are among the sources."""
    return frozenset(s.owner for s in sources if s.kind == "weights" and s.owner is not None)


def gradient_sources(call: ast.Call) -> ast.expr | None:
    """The sources argument of `tape.gradient(...)`-like calls and `opt.minimize(..., tape=tape)`."""
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr in GRADIENT_METHODS:
        return arg(call, 1, "sources")
    if isinstance(f, ast.Attribute) and f.attr == "minimize" and any(k.arg == "tape" for k in call.keywords):
        return arg(call, 1, "var_list")
    return None


def arg(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    """The argument at `index`, or passed as `keyword`."""
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return None


def inside(stmt: ast.AST | None, container: ast.AST) -> bool:
    """`stmt` starts within the body of `container`."""
    if stmt is None or not hasattr(stmt, "lineno"):
        return False
    body = getattr(container, "body", [])
    return bool(body) and in_block(stmt, body)


class GradientSources:
    """Classifies gradient-source expressions of one module."""

    def __init__(self, tree: ScopeTree, evidence: Evidence):
        self.t = tree
        self.ev = evidence

    def mark_differentiated(self) -> None:
        """Pass 0: the models whose weights some gradient of the module differentiates explicitly."""
        scopes = [self.t.module, *(scope for scope in self.t.scope_of.values() if scope.kind == "function")]
        for scope in scopes:
            for call in scope.calls:
                expr = gradient_sources(call)
                if expr is None:
                    continue
                for source in self.classify(expr, scope):
                    # an attribute of an object ("nattr") may be aliased
                    if source.kind == "weights" and source.owner is not None and source.owner.kind != "nattr":
                        self.ev.differentiated.add(source.owner)

    def classify(self, expr: ast.AST, scope: Scope, tape_body: ast.AST | None = None,
                 seen: Seen = frozenset()) -> Sources:
        """The sources an expression stands for; `tape_body`: the `with` of the tape, when in one."""
        if isinstance(expr, ast.Attribute) and expr.attr in WEIGHT_ATTRS:
            key = self.ev.model_key(expr.value, scope)
            return frozenset({GradientSource("weights", key) if key is not None else GradientSource.SOME_WEIGHTS})
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self.classify(expr.left, scope, tape_body, seen) | self.classify(expr.right, scope, tape_body, seen)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            return self._all(expr.elts, scope, tape_body, seen) or _UNKNOWN
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            return self.classify(expr.generators[0].iter, scope, tape_body, seen)
        if isinstance(expr, ast.Subscript):
            return self.classify(expr.value, scope, tape_body, seen)
        if isinstance(expr, ast.Call):
            return self._call(expr, scope, tape_body, seen)
        if isinstance(expr, ast.Name):
            return self._name(expr.id, scope, tape_body, seen)
        if isinstance(expr, ast.Attribute):
            return self._attribute(expr, scope)
        if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
            return _TENSOR
        return _UNKNOWN

    def _all(self, exprs: list[ast.expr], scope: Scope, tape_body: ast.AST | None, seen: Seen) -> Sources:
        out: Sources = frozenset()
        for e in exprs:
            out |= self.classify(e.value if isinstance(e, ast.Starred) else e, scope, tape_body, seen)
        return out

    def _call(self, expr: ast.Call, scope: Scope, tape_body: ast.AST | None, seen: Seen) -> Sources:
        """A call given weights returns (some of) them; a library or model call returns a tensor."""
        parts = self._all([*expr.args, *(k.value for k in expr.keywords)], scope, tape_body, seen)
        weights = frozenset(p for p in parts if p.is_weights)
        if weights:
            return weights
        qual = self.t.qualname(expr.func, scope) or ""
        if qual.split(".")[0] in TENSOR_LIBRARIES or self.ev.is_model(expr.func, scope):
            return _TENSOR
        return _UNKNOWN

    def _attribute(self, expr: ast.Attribute, scope: Scope) -> Sources:
        """`self.x` that every assignment makes a library tensor."""
        cls = self.t.self_class(expr.value, scope)
        if cls is not None:
            values = self.ev.facts(cls).stores.get(expr.attr, [])
            if values and all(v is not None and self.is_tensor_value(v, s) for v, s in values):
                return _TENSOR
        return _UNKNOWN

    def is_tensor_value(self, value: ast.AST, scope: Scope) -> bool:
        if isinstance(value, ast.Call):
            qual = self.t.qualname(value.func, scope) or ""
            return qual.split(".")[0] in TENSOR_LIBRARIES
        return False

    def _name(self, name: str, scope: Scope, tape_body: ast.AST | None, seen: Seen) -> Sources:
        if (name, id(scope)) in seen:
            return _UNKNOWN
        seen = seen | {(name, id(scope))}
        if self._watched(name, scope):
            return _TENSOR
        bindings = self.t.lookup(name, scope)
        if not bindings:
            return _UNKNOWN
        out: Sources = frozenset()
        for b in _current(bindings, tape_body):
            out |= self._binding(b, tape_body, seen)
        return out

    def _binding(self, b: Binding, tape_body: ast.AST | None, seen: Seen) -> Sources:
        in_tape = tape_body is not None and inside(b.stmt, tape_body)
        if b.kind == "assign":
            found = self.classify(b.node, b.scope, tape_body, seen) if b.node is not None else _UNKNOWN
            if in_tape and not any(s.kind == "weights" for s in found):
                return _TENSOR  # computed inside the tape: a tensor, not weights
            return found
        if b.kind == "other" and in_tape:
            return _TENSOR
        if b.kind == "param" and self._passed_tensors(b):
            return _TENSOR  # style transfer: every caller passes the image's tf.Variable
        return _UNKNOWN

    def _passed_tensors(self, binding: Binding) -> bool:
        """Every call of the parameter's function in this module passes a tensor or a `tf.Variable` there."""
        def tensor(ev: Evidence, value: ast.AST, scope: Scope) -> bool:
            if ev is not self.ev:
                return False
            if isinstance(value, ast.Name):
                values = self.t.lookup(value.id, scope)
                return bool(values) and all(b.kind == "assign" and b.node is not None
                                            and self.is_tensor_value(b.node, b.scope) for b in values)
            return self.is_tensor_value(value, scope)

        return self.ev.passed_to(binding, tensor)

    def _watched(self, name: str, scope: Scope) -> bool:
        for call in scope.calls:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr == "watch" and call.args:
                names = {n.id for n in ast.walk(call.args[0]) if isinstance(n, ast.Name)}
                if name in names:
                    return True
        return False


def _current(bindings: list[Binding], tape_body: ast.AST | None) -> list[Binding]:
    """The bindings in effect at the gradient: one made by a statement of the tape's own body overwrites
    the earlier values (`actions = self.actor(states)` then `tape.gradient(loss, actions)`)."""
    body = getattr(tape_body, "body", None) or []
    if not any(b.stmt in body for b in bindings):
        return bindings
    start = position(body[0])
    return [b for b in bindings if b.stmt is not None and position(b.stmt) >= start]
