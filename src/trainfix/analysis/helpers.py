"""Helpers reached from a context: `logits = forward(model, x)` inside a tape.

A local function without a `training` parameter whose every caller is a
training or evaluation context runs its model calls in those contexts. Each
model call in it is judged once per caller, with the caller's argument in place
of a parameter (`forward(model, x)` calls the caller's `model`):

- every caller trains that model: TRN001 at the call in the helper;
- every caller is an evaluation step: TRN003;
- the callers disagree: a `shared` site (TRN006), with no fix, since no literal
  is right for both; the user must add a `training` parameter and forward it.
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .callees import training_callable
from .scope import own_nodes, param_names
from .sites import CallSite, Context

if TYPE_CHECKING:
    from .contexts import Analyzer


def walk_helpers(an: Analyzer) -> None:
    for fn, edges in an.helper_calls.items():
        scope = an.t.scope_of.get(fn)
        if scope is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
                "training" in param_names(fn) or an.step_context(fn, scope) is not None or \
                an._has_tape(fn, scope) or not _only_called_from(an, fn, edges) or _used_elsewhere(an, fn):
            continue
        _add_sites(an, fn, scope, [(call, ctx, caller_scope, an) for call, ctx, caller_scope in edges])
    walk_imported_helpers(an)


def _may_call_a_model(an: Analyzer, fn: ast.AST, scope) -> bool:
    """The function calls one of its parameters (`generator(z)`) or a model of its module: worth reading
    the project's other files for its callers."""
    params = set(param_names(fn))
    for node in own_nodes(fn):
        if isinstance(node, ast.Call):
            root = node.func
            while isinstance(root, (ast.Attribute, ast.Subscript)):
                root = root.value
            if isinstance(root, ast.Name) and (root.id in params or an.ev.is_model(node.func, scope)):
                return True
    return False


def _add_sites(an: Analyzer, fn: ast.AST, scope, edges: list) -> None:
    for node in own_nodes(fn):
        if isinstance(node, ast.Call):
            site = _helper_site(an, node, fn, scope, edges)
            if site is not None:
                an.sites.append(site)


def walk_imported_helpers(an: Analyzer) -> None:
    """Module-level functions of this file that other project modules call only from their steps
    (`losses.py`'s `generator_loss(generator, z)` called in `train.py`'s tape)."""
    project, key = an.project, an.ev.module_key
    if project is None or key is None or an.nested:
        return
    for name, bindings in an.t.module.bindings.items():
        if len(bindings) != 1 or bindings[0].kind != "def":
            continue
        fn = bindings[0].node
        scope = an.t.scope_of[fn]
        if "training" in param_names(fn) or an.t.name_loads.get(name) or an.step_context(fn, scope) is not None \
                or an._has_tape(fn, scope) or not _may_call_a_model(an, fn, scope):
            continue
        refs = project.references(key, fn)
        if not refs:
            continue
        edges = []
        for node, _, module in refs:
            caller = project.analyzer(module.key, an.of_module)
            found = [e for e in caller.imported_calls.get(fn, ()) if e[0].func is node] if caller else []
            if not found:
                edges = []
                break  # used other than by a call from a step: nothing is concluded
            edges += [(call, ctx, caller_scope, caller) for call, ctx, caller_scope in found]
        if edges:
            _add_sites(an, fn, scope, edges)


def _only_called_from(an: Analyzer, fn: ast.AST, edges: list) -> bool:
    """Every use of the helper's name in this module is one of the calls from a context
    (for a method: every `x.name` in the module, whatever `x` is)."""
    called = {id(call.func) for call, _, _ in edges}
    if _owner(an, fn) is not None:  # `self.x` of another class of this module names another method
        uses = [node for node, scope in an.t.attr_loads if node.attr == fn.name and
                an.ev.method(an.t.self_class(node.value, scope) or _owner(an, fn), fn.name) is fn]
    else:
        uses = [node for node, scope in an.t.name_loads.get(fn.name, ())
                if any(b.node is fn for b in an.t.lookup(fn.name, scope))]
    return bool(uses) and all(id(node) in called for node in uses)


def _owner(an: Analyzer, fn: ast.AST) -> ast.ClassDef | None:
    scope = an.t.scope_of.get(fn)
    return scope.cls if scope is not None else None


def _used_elsewhere(an: Analyzer, fn: ast.AST) -> bool:
    """Another file of the project may call the helper outside any context: one that imports the
    function, or for a method one that imports its class (a subclass, an instance) and names the method."""
    project, key = an.project, an.ev.module_key
    if project is None or key is None:
        return False
    cls = _owner(an, fn)
    definition = cls if cls is not None else fn
    if an.t.scope_of[definition].parent is not an.t.module:
        return False  # nested: nothing outside this module can name it
    refs = project.references(key, definition, also=fn.name if cls is not None else None)
    return refs is None or bool(refs)


def _helper_site(an: Analyzer, call: ast.Call, fn: ast.AST, scope, edges: list) -> CallSite | None:
    from .contexts import _passed_for

    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in ("predict", "predict_on_batch", "stateless_call"):
        return None
    if training_callable(an.ev, func, scope) is not None:
        return None
    params = param_names(fn)
    verdicts = []
    for caller, ctx, caller_scope, caller_an in edges:
        passed = _passed_for(func, fn, caller, 1 if _owner(an, fn) is not None else 0, params)
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        if passed is None and isinstance(root, ast.Name) and root.id in params and root.id not in ("self", "cls"):
            return None  # a parameter the caller doesn't visibly pass
        # the caller's argument is judged where the caller is; the helper's own names where it is
        expr, where, judge = (passed, caller_scope, caller_an) if passed is not None else (func, scope, an)
        if not judge.ev.is_model(expr, where):
            return None
        if ctx.kind == "train":
            key = judge.ev.model_key(expr, where)
            trained = judge._trained(key, expr, ctx, where) if key is not None and judge is caller_an else None
            verdicts.append((ctx, trained))
        else:
            verdicts.append((ctx, None))
    callee = an.source[an.index.start_of(func):an.index.end_of(func)]
    site = CallSite(call, verdicts[0][0], callee, True)
    an._read_training(site, call, None, scope)
    if site.state not in ("missing", "none") or id(call) in an._deliberate(fn):
        return None
    trains = [trained for ctx, trained in verdicts if ctx.kind == "train"]
    if any(trained is False for trained in trains):
        return None  # not trained by some caller: a teacher, a target network
    if trains and len(trains) < len(verdicts):
        site.context = Context("shared", function=fn, scope=scope)
        return site
    if trains:
        site.context = next(ctx for ctx, _ in verdicts)
        site.trained = True if all(trained is True for trained in trains) else None
        if site.trained is None and not all(ctx.unknown for ctx, _ in verdicts):
            return None
    return site
