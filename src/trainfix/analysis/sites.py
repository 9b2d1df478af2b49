"""The facts the analysis hands the rules: a context, and a call met in it."""
from __future__ import annotations

import ast
from dataclasses import dataclass, replace
from typing import Literal

from .keys import ModelKey
from .scope import Scope

# train | eval | predict | inputs (a tape for input gradients) | none (left alone, with a reason)
# | shared (a helper called from both train and eval steps)
Kind = Literal["train", "eval", "predict", "inputs", "none", "shared"]
# the call's current `training`: absent, a literal, an expression, or hidden in */** arguments
State = Literal["missing", "none", "true", "false", "expr", "kwargs"]
Where = Literal["keyword", "positional", "none"]  # where the call passes `training`
Position = tuple[int, int]  # (line, column) of a node


def position(node: ast.AST) -> Position:
    return (getattr(node, "lineno", 0), getattr(node, "col_offset", 0))


def in_block(stmt: ast.AST, block: list[ast.stmt]) -> bool:
    """`stmt` starts between the start of a block's first statement and the end of its last."""
    first, last = block[0], block[-1]
    return bool(position(first) <= position(stmt) <= (last.end_lineno, last.end_col_offset))


@dataclass(frozen=True)
class Segment:
    """An optimizer update of a tapeless train step: a call before it (and after the previous one) is trained
    by it."""

    at: Position
    owners: frozenset[ModelKey]  # the models whose variables it updates
    unresolved: bool  # it updates other variables too


@dataclass(frozen=True)
class Context:
    """Where calls are met. Build one with the named constructors below."""

    kind: Kind
    trained: frozenset[ModelKey] = frozenset()  # owner keys whose weights are the gradient sources
    unknown: bool = False  # other certain models may be trained too
    explicit: bool = False  # `trained` comes from explicit gradient sources
    tape: bool = False
    feeds: bool = False  # the gradients reach an optimizer in the same function
    segments: tuple[Segment, ...] = ()  # tapeless train step: its optimizer updates, in order
    function: ast.AST | None = None
    scope: Scope | None = None
    reason: str = ""  # why calls here are left alone (inputs / none)

    @classmethod
    def tape_train(cls, trained: frozenset[ModelKey], unknown: bool, explicit: bool, feeds: bool,
                   function: ast.AST | None, scope: Scope) -> Context:
        """The body of a GradientTape whose gradients train `trained` (and others when `unknown`)."""
        return cls("train", trained, unknown, explicit, tape=True, feeds=feeds, function=function, scope=scope)

    @classmethod
    def step(cls, trained: frozenset[ModelKey], segments: tuple[Segment, ...], function: ast.AST,
             scope: Scope) -> Context:
        """A Keras `train_step` without a tape (another backend): `self` is trained."""
        return cls("train", trained, segments=segments, function=function, scope=scope)

    @classmethod
    def loop(cls, trained: frozenset[ModelKey], function: ast.AST | None, scope: Scope) -> Context:
        """A JAX or PyTorch training loop: it trains `trained`, or unknown models when that is empty."""
        return cls("train", trained, unknown=not trained, feeds=True, function=function, scope=scope)

    @classmethod
    def eval(cls, function: ast.AST | None, scope: Scope) -> Context:
        return cls("eval", function=function, scope=scope)

    @classmethod
    def predict(cls, function: ast.AST | None, scope: Scope) -> Context:
        return cls("predict", function=function, scope=scope)

    @classmethod
    def shared(cls, function: ast.AST, scope: Scope) -> Context:
        """A helper called from both training and evaluation steps."""
        return cls("shared", function=function, scope=scope)

    @classmethod
    def inputs(cls, function: ast.AST | None, scope: Scope) -> Context:
        """A tape whose gradients are taken with respect to tensors (saliency, adversarial examples)."""
        return cls("inputs", tape=True, function=function, scope=scope, reason="input-gradient tape")

    @classmethod
    def skipped(cls, reason: str, function: ast.AST | None, scope: Scope, tape: bool = False) -> Context:
        """Calls here are left alone, for `reason`."""
        return cls("none", tape=tape, function=function, scope=scope, reason=reason)

    def within(self, outer: Context | None) -> Context:
        """This tape's context, opened inside `outer`: in another training tape, both record the calls."""
        if outer is None or outer.kind != "train" or not outer.tape:
            return self
        if self.kind == "train":
            return replace(self, trained=self.trained | outer.trained, unknown=self.unknown or outer.unknown,
                           explicit=self.explicit and outer.explicit, feeds=self.feeds and outer.feeds)
        return outer if self.kind == "none" else self


@dataclass(frozen=True)
class Edge:
    """A call from a context of another function (a helper's caller)."""

    call: ast.Call
    context: Context
    scope: Scope


@dataclass
class CallSite:
    """A call met in a context, with everything the rules decide on."""

    call: ast.Call
    context: Context
    callee: str  # source text of the callee
    is_model: bool  # callee is certainly a Keras model/layer or local training function
    method: str | None = None  # `.predict` on a model
    trained: bool | None = None  # True trained, False not, None unknown
    explicit: bool = False  # the callee's own weights are explicit gradient sources
    state: State = "missing"
    where: Where = "none"
    fixable: bool = True  # a keyword can be written (no positional args after slot 2, no lone genexp)
    in_loop: bool = False
    forward: str | None = None  # enclosing step's `training` parameter to forward
    skip_reason: str = ""
    key: ModelKey | None = None  # the callee's identity (see Evidence.model_key)
    also_true: bool = False  # the same model is called with training=True in the same context
    pretrained: bool = False  # built from pretrained weights (keras.applications, from_preset, load_model)
