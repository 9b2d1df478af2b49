"""What a call's callee is, beyond "a model or not": a project function that takes `training`
(its calls get the flag passed), the local class a model is an instance of (its `call` signature,
its frozen sub-layers), a model built from pretrained weights (fix safety), and, for
`--show-skipped`, why a callee is not provably a model."""
from __future__ import annotations

import ast
from dataclasses import dataclass

from .syntax import FunctionNode, positional_params
from .evidence import Evidence
from .keras_names import EXTERNAL_LAYERS, canonical_keras
from .scope import Binding, Scope, param_names

WRAPPERS = {"functools.partial", "jax.value_and_grad", "jax.grad"}


@dataclass(frozen=True, eq=False)
class TrainingFn:
    """A project function that takes `training`: its definition, where it lives, and how a call's
    positional arguments line up with its parameters (`offset`: a method's `self`, a partial's bound args)."""

    node: FunctionNode
    scope: Scope
    evidence: Evidence
    offset: int
    bound: frozenset[str] = frozenset()

    @property
    def slot(self) -> int | None:
        """The positional index at which a call passes `training`, None when it can't positionally."""
        params = positional_params(self.node)
        if "training" not in params or any(p in self.bound for p in params[:params.index("training")]):
            return None
        return params.index("training") - self.offset


def training_callable(ev: Evidence, func: ast.AST, scope: Scope, depth: int = 0) -> TrainingFn | None:
    """The project function or method a call of `func` runs, when it takes a `training` parameter.

    A local function, one imported from another project module, a method of
    `self`'s class, or `functools.partial` / `jax.value_and_grad` / `jax.grad`
    of one of those (the wrapper's calls take `training` too).
    """
    if depth > 5:
        return None
    if isinstance(func, ast.Attribute):
        cls = ev.t.self_class(func.value, scope)
        if cls is not None:
            return _training_method(ev, cls, func.attr)
        base = ev.t.qualname(func.value, scope)
        return _imported_training_fn(ev, f"{base}.{func.attr}") if base else None
    if not isinstance(func, ast.Name):
        return None
    bindings = ev.t.lookup(func.id, scope)
    if len(bindings) != 1:
        return None
    b = bindings[0]
    if b.kind == "def" and isinstance(b.node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
            "training" in param_names(b.node):
        return TrainingFn(b.node, ev.t.scope_of[b.node], ev, 0)
    if b.kind == "import":
        return _imported_training_fn(ev, b.qualname)
    if b.kind == "assign" and isinstance(b.node, ast.Call) and b.node.args and \
            ev.t.qualname(b.node.func, b.scope) in WRAPPERS:
        return _wrapped_training_fn(ev, b.node, b.scope, depth)
    return None


def _training_method(ev: Evidence, cls: ast.ClassDef, name: str) -> TrainingFn | None:
    method = ev.method(cls, name)
    if method is not None and "training" in param_names(method) and not _is_static(method):
        return TrainingFn(method, ev.t.scope_of[method], ev, 1)
    return None


def _wrapped_training_fn(ev: Evidence, wrapper: ast.Call, scope: Scope, depth: int) -> TrainingFn | None:
    """`functools.partial(step, ...)`, `jax.grad(step)`: the wrapped function, with a partial's bound
    arguments; None when the wrapper binds `training` itself (or may, through unpacking)."""
    inner = training_callable(ev, wrapper.args[0], scope, depth + 1)
    if inner is None or any(k.arg == "training" or k.arg is None for k in wrapper.keywords) or \
            any(isinstance(a, ast.Starred) for a in wrapper.args):
        return None
    if ev.t.qualname(wrapper.func, scope) != "functools.partial":
        return inner
    partial = TrainingFn(inner.node, inner.scope, inner.evidence, inner.offset + len(wrapper.args) - 1,
                         inner.bound | frozenset(k.arg for k in wrapper.keywords if k.arg is not None))
    slot = partial.slot
    return None if slot is not None and slot < 0 else partial  # training bound positionally


def _imported_training_fn(ev: Evidence, qualname: str | None) -> TrainingFn | None:
    symbol = ev.external(qualname)
    if symbol is None or symbol.kind != "training_function" or symbol.module is None or \
            not isinstance(symbol.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    return TrainingFn(symbol.node, symbol.module.tree.scope_of[symbol.node], symbol.module.evidence, 0)


def _is_static(fn: FunctionNode) -> bool:
    return any(getattr(d, "id", None) in ("staticmethod", "classmethod") for d in fn.decorator_list)


# -- the class a callee is an instance of ---------------------------------------------------
def local_class_of(ev: Evidence, expr: ast.AST, scope: Scope) -> ast.ClassDef | None:
    """The class of this module that `self`, `ev.attr` or a name is an instance of, if provable."""
    cls = ev.t.self_class(expr, scope)
    if cls is not None:
        return cls
    values = ev.assigned_values(expr, scope)
    if values is None:
        return None
    classes = set()
    for value, value_scope in values:
        target = ev.resolve_callable(value.func, value_scope) if isinstance(value, ast.Call) else None
        classes.add(target.node if target and target.kind == "class" else None)
    return classes.pop() if len(classes) == 1 else None

def call_signature(ev: Evidence, cls: ast.ClassDef) -> list[str] | None:
    """Positional parameters of the class's own `call` (after self), None when inherited from elsewhere."""
    call = ev.method(cls, "call")
    return positional_params(call)[1:] if call is not None else None


def is_frozen(ev: Evidence, cls: ast.ClassDef, attr: str) -> bool:
    return any(attr in ev.facts(c).frozen for c in ev.local_bases(cls))


# -- pretrained weights ------------------------------------------------------------------
def is_pretrained(ev: Evidence, expr: ast.AST, scope: Scope) -> bool:
    """Built from pretrained weights: `keras.applications.*` without `weights=None`, `from_preset`,
    `from_pretrained`, `load_model`, `hub.KerasLayer` (the fine-tuning idiom keeps its BatchNorm frozen)."""
    values = ev.assigned_values(expr, scope)
    return bool(values) and all(_pretrained_value(ev, v, s) for v, s in values or ())


def _pretrained_value(ev: Evidence, value: ast.AST | None, scope: Scope) -> bool:
    if not isinstance(value, ast.Call):
        return False
    if isinstance(value.func, ast.Attribute) and value.func.attr in ("from_preset", "from_pretrained"):
        return True
    qual = ev.t.qualname(value.func, scope)
    canon = canonical_keras(qual)
    if canon in ("keras.models.load_model", "keras.saving.load_model") or qual in EXTERNAL_LAYERS:
        return True
    if canon and canon.startswith("keras.applications.") and canon.split(".")[-1][:1].isupper():
        weights = next((k.value for k in value.keywords if k.arg == "weights"), None)
        return not (isinstance(weights, ast.Constant) and weights.value is None)
    return False


# -- why a callee is left alone (--show-skipped) ---------------------------------------------
def why_not_model(ev: Evidence, func: ast.AST, scope: Scope) -> str:
    """For --show-skipped: what a callee that is not provably a model is, when visible."""
    values: list[tuple[ast.AST | None, Scope]] = []
    params: list[Binding] = []
    if isinstance(func, ast.Name):
        bindings = ev.t.lookup(func.id, scope)
        if any(b.kind == "def" for b in bindings):
            return "a local function without a `training` parameter"
        values = [(b.node, b.scope) for b in bindings if b.kind == "assign"]
        params = [b for b in bindings if b.kind == "param"]
    elif isinstance(func, ast.Attribute):
        cls = ev.t.self_class(func.value, scope)
        if cls is not None:
            values = [v for v in ev.stores(cls, func.attr) if v[0] is not None]
        elif isinstance(func.value, ast.Name):
            owner = why_not_model(ev, func.value, scope)
            if owner.startswith("bound to"):
                return f"a method of an object {owner}"
    for value, value_scope in values:
        reason = _why_value(ev, value, value_scope)
        if reason:
            return reason
        if isinstance(value, ast.Name):
            params += [b for b in ev.t.lookup(value.id, value_scope) if b.kind == "param"]
    if params:
        return "unknown callee: " + _why_param(ev, params[0])
    return "unknown callee: nothing proves it is a Keras model"


def _why_value(ev: Evidence, value: ast.AST | None, scope: Scope) -> str:
    """What a value bound to the callee visibly is, when that is not a model ("" when unclear)."""
    if isinstance(value, ast.Lambda):
        return "a lambda, not a Keras model"
    if isinstance(value, ast.Call):
        target = ev.resolve_callable(value.func, scope)
        if target and target.kind == "qual" and ev.qual_not_model(target.name):
            return f"bound to `{target.name}(...)`, not a Keras model"
    return ""


def _why_param(ev: Evidence, binding: Binding) -> str:
    """Why a parameter is not proven a model, naming what was looked for."""
    fn, cls = binding.scope.node, binding.scope.cls
    fn_name = fn.name if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) else "lambda"
    what = f"`{binding.name}` is a parameter of `{fn_name}`"
    if fn_name == "__init__" and cls is not None:
        target: ast.AST = cls
        kind = f"instantiation of `{cls.name}`"
        what = f"`{binding.name}` is an `__init__` parameter"
    else:
        target, kind = fn, f"call of `{fn_name}`"
    if not isinstance(target, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
        return f"{what}, and nothing proves what is passed"
    calls = ev.callers(target)
    if calls is None:
        return f"{what}, and `{target.name}` is used other than by calls (passed around, subclassed, " \
               "or in files not read)"
    if not calls:
        return f"{what} and no {kind} was found"
    return f"{what}, and not every {kind} passes a Keras model there"
