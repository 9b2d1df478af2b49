"""Training contexts of Keras 3's JAX and PyTorch backends, where there is no GradientTape.

- JAX: a function differentiated by `jax.value_and_grad(f)` / `jax.grad(f)` is a
  training step; `model.stateless_call(params, ...)` on the differentiated
  parameter runs the trained model.
- PyTorch: a function that calls `loss.backward()` and `optimizer.step()` trains
  the models whose `parameters()` that optimizer was built with; the body of
  `with torch.no_grad():` (or `torch.inference_mode()`) is evaluation.
"""
from __future__ import annotations

import ast

from .evidence import Evidence
from .scope import Scope, ScopeTree, own_nodes, param_names
from .keys import ModelKey
from .sites import position

JAX_DIFFERENTIATORS = {"jax.value_and_grad", "jax.grad"}
NO_GRAD = {"torch.no_grad", "torch.inference_mode", "torch.autograd.no_grad", "torch.autograd.inference_mode"}


def jax_differentiated(t: ScopeTree, ev: Evidence) -> dict[ast.AST, str | None]:
    """Functions of this module differentiated by JAX, with the name of the parameter differentiated."""
    out: dict[ast.AST, str | None] = {}
    for call, scope in t.calls:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", None)
        if name not in ("value_and_grad", "grad") or not call.args or \
                t.qualname(call.func, scope) not in JAX_DIFFERENTIATORS:
            continue
        target, offset = call.args[0], 0
        fn: ast.AST | None = None
        if isinstance(target, ast.Attribute):
            cls = t.self_class(target.value, scope)
            fn, offset = (ev.method(cls, target.attr), 1) if cls is not None else (None, 0)
        elif isinstance(target, ast.Name):
            fn = _definition_before(target.id, call, scope, t)
        if fn is None:
            continue
        argnums = next((k.value for k in call.keywords if k.arg == "argnums"), ast.Constant(0))
        params = param_names(fn)[offset:]
        index = argnums.value if isinstance(argnums, ast.Constant) and isinstance(argnums.value, int) else None
        out[fn] = params[index] if index is not None and 0 <= index < len(params) else None
    return out


def _definition_before(name: str, call: ast.Call, scope: Scope, t: ScopeTree) -> ast.AST | None:
    """The function a name refers to at a call: a guide or notebook redefines `compute_loss_and_updates`
    several times, each wrapped by `jax.value_and_grad` right after it is written."""
    bindings = t.lookup(name, scope)
    if not bindings or any(b.kind != "def" for b in bindings):
        return None
    before = [b for b in bindings if b.node is not None and position(b.node) < position(call)]
    if len(bindings) == 1:
        return bindings[0].node
    if before and bindings[0].scope is scope:  # same scope: the latest definition in source order
        return max(before, key=lambda b: position(b.node)[0] if b.node is not None else 0).node
    return None


def jax_trained(fn: ast.AST, scope: Scope, differentiated: str | None, ev: Evidence) -> frozenset[ModelKey]:
    """Models whose `stateless_call` receives the differentiated parameter."""
    owners: set[ModelKey] = set()
    for node in own_nodes(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and \
                node.func.attr == "stateless_call" and node.args and differentiated is not None and \
                isinstance(node.args[0], ast.Name) and node.args[0].id == differentiated:
            key = ev.model_key(node.func.value, scope)
            if key is not None:
                owners.add(key)
    return frozenset(owners)


def uses_torch(t: ScopeTree) -> bool:
    return any(name.split(".")[0] == "torch" for name in t.imports)


def torch_optimizers(fn: ast.AST) -> list[ast.expr] | None:
    """The optimizers a function steps when it also calls `.backward()` (a torch training loop), else None."""
    backward, steps = False, []
    for node in own_nodes(fn):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "backward":
                backward = True
            elif node.func.attr == "step" and not node.args:
                steps.append(node.func.value)
    return steps if backward and steps else None


def torch_trained(optimizers: list[ast.expr], scope: Scope, t: ScopeTree, ev: Evidence,
                  at: ast.stmt | None = None) -> frozenset[ModelKey] | None:
    """Models whose `parameters()` the stepped optimizers were built with; None when unresolved.

    `at`: a top-level loop of a script, which steps the optimizer bound last before it."""
    owners: set[ModelKey] = set()
    for opt in optimizers:
        if not isinstance(opt, ast.Name):
            return None
        bindings = t.lookup(opt.id, scope)
        if at is not None:
            before = [b for b in bindings if b.stmt is not None and position(b.stmt)[0] < at.lineno]
            bindings = [max(before, key=lambda b: position(b.stmt)[0] if b.stmt is not None else 0)] \
                if before else bindings
        values = [b.node for b in bindings if b.kind == "assign" and isinstance(b.node, ast.Call) and b.node.args]
        if not bindings or len(values) != len(bindings):
            return None
        for b, value in zip(bindings, values):
            found = _parameter_owners(value.args[0], b.scope, ev)
            if not found:
                return None
            owners |= found
    return frozenset(owners)


def _parameter_owners(expr: ast.AST, scope: Scope, ev: Evidence) -> set[ModelKey]:
    owner = _parameters_of(expr)
    if owner is not None:
        key = ev.model_key(owner, scope)
        return {key} if key is not None else set()
    if isinstance(expr, (ast.List, ast.Tuple)) or isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        parts = expr.elts if not isinstance(expr, ast.BinOp) else [expr.left, expr.right]
        out: set[ModelKey] = set()
        for part in parts:
            found = _parameter_owners(part.value if isinstance(part, ast.Starred) else part, scope, ev)
            if not found:
                return set()
            out |= found
        return out
    return set()


def _parameters_of(expr: ast.AST) -> ast.expr | None:
    """`m` of `m.parameters()`, `m.trainable_weights`, `m.trainable_variables`."""
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) and \
            expr.func.attr in ("parameters", "trainable_weights", "trainable_variables"):
        return expr.func.value
    if isinstance(expr, ast.Attribute) and expr.attr in ("trainable_weights", "trainable_variables"):
        return expr.value
    return None


def is_no_grad(expr: ast.AST, scope: Scope, t: ScopeTree) -> bool:
    return isinstance(expr, ast.Call) and t.qualname(expr.func, scope) in NO_GRAD
