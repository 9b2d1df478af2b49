"""The facts the analysis hands the rules: a context, and a call met in it."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .scope import Scope


@dataclass(frozen=True)
class Context:
    kind: str  # train | eval | predict | inputs | none | shared (a helper called from train and eval steps)
    trained: frozenset = frozenset()  # owner keys whose weights are the gradient sources
    unknown: bool = False  # other certain models may be trained too
    explicit: bool = False  # `trained` comes from explicit gradient sources
    tape: bool = False
    feeds: bool = False  # the gradients reach an optimizer in the same function
    segments: tuple = ()  # tapeless train step: ((position, owners), ...) of its optimizer updates
    function: ast.AST | None = None
    scope: Scope | None = None
    reason: str = ""  # why calls here are left alone (inputs / none)


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
    state: str = "missing"  # missing | none | true | false | expr | kwargs
    where: str = "none"  # keyword | positional | none
    fixable: bool = True  # a keyword can be written (no positional args after slot 2, no lone genexp)
    in_loop: bool = False
    forward: str | None = None  # enclosing step's `training` parameter to forward
    skip_reason: str = ""
    key: tuple | None = None  # the callee's identity (see Evidence.model_key)
    also_true: bool = False  # the same model is called with training=True in the same context
    pretrained: bool = False  # built from pretrained weights (keras.applications, from_preset, load_model)
