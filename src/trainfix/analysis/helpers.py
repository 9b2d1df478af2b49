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
from dataclasses import dataclass
from typing import Protocol

from .callees import training_callable
from .calls import Judge, passed_for
from .evidence import Evidence, Module
from .project import Project, Reference
from .scope import Scope, ScopeTree, own_nodes, param_names
from .sites import CallSite, Context, Edge
from .steps import Steps
from .syntax import Definition
from .tapes import has_tape


class Analysis(Protocol):
    """What this pass reads of a module's analysis (`contexts.Analyzer`), here and in the project's other
    modules."""

    t: ScopeTree
    ev: Evidence
    steps: Steps
    judge: Judge
    nested: bool
    project: Project | None
    helper_calls: dict[ast.AST, list[Edge]]  # local function or method without `training` -> its calls
    imported_calls: dict[ast.AST, list[Edge]]  # another project module's function -> its calls

    def callee(self, call: ast.Call) -> str:
        """The source text of a call's callee."""

    def of_module(self, module: Module) -> Analysis:
        """Another project module's contexts, analysed for the helpers it calls."""


@dataclass(frozen=True)
class Caller:
    """A call of the helper from a context, in the analysis of the module it is in."""

    edge: Edge
    analysis: Analysis


Verdict = tuple[Context, "bool | None"]  # a caller's context, and whether it trains the model called


def helper_sites(an: Analysis) -> list[CallSite]:
    """The model calls of the module's helpers, each judged by the contexts of the helper's callers."""
    sites: list[CallSite] = []
    for fn, edges in an.helper_calls.items():
        scope = an.t.scope_of.get(fn)
        if scope is None or not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)) or \
                not _is_helper(an, fn, scope) or not _only_called_from(an, fn, edges) or _used_elsewhere(an, fn):
            continue
        sites += _sites(an, fn, scope, [Caller(edge, an) for edge in edges])
    return sites + _imported_helper_sites(an)


def _is_helper(an: Analysis, fn: ast.AST, scope: Scope) -> bool:
    """A function that is no context of its own and takes no `training` to forward."""
    return "training" not in param_names(fn) and an.steps.step_context(fn, scope) is None and \
        not has_tape(an.t, fn, scope)


def _may_call_a_model(an: Analysis, fn: ast.AST, scope: Scope) -> bool:
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


def _sites(an: Analysis, fn: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope,
           callers: list[Caller]) -> list[CallSite]:
    sites = (_helper_site(an, node, fn, scope, callers) for node in own_nodes(fn) if isinstance(node, ast.Call))
    return [site for site in sites if site is not None]


def _imported_helper_sites(an: Analysis) -> list[CallSite]:
    """Module-level functions of this file that other project modules call only from their steps
    (`losses.py`'s `generator_loss(generator, z)` called in `train.py`'s tape)."""
    project, key = an.project, an.ev.module_key
    if project is None or key is None or an.nested:
        return []
    sites: list[CallSite] = []
    for name, bindings in an.t.module.bindings.items():
        if len(bindings) != 1 or bindings[0].kind != "def":
            continue
        fn = bindings[0].node
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        scope = an.t.scope_of[fn]
        if "training" in param_names(fn) or an.t.name_loads.get(name) or not _is_helper(an, fn, scope) \
                or not _may_call_a_model(an, fn, scope):
            continue
        refs = project.references(key, fn)
        callers = _remote_callers(an, fn, refs) if refs else []
        if callers:
            sites += _sites(an, fn, scope, callers)
    return sites


def _remote_callers(an: Analysis, fn: ast.AST, refs: list[Reference]) -> list[Caller]:
    """The calls of `fn` from the steps of other modules; none when some use of it is not one."""
    project = an.project
    callers: list[Caller] = []
    for node, _, module in refs:
        caller = project.analyzer(module.key, an.of_module) if project is not None else None
        found = [e for e in caller.imported_calls.get(fn, ()) if e.call.func is node] if caller is not None else []
        if caller is None or not found:
            return []  # used other than by a call from a step: nothing is concluded
        callers += [Caller(edge, caller) for edge in found]
    return callers


def _only_called_from(an: Analysis, fn: ast.FunctionDef | ast.AsyncFunctionDef, edges: list[Edge]) -> bool:
    """Every use of the helper's name in this module is one of the calls from a context
    (for a method: every `x.name` in the module, whatever `x` is)."""
    called = {id(edge.call.func) for edge in edges}
    owner = _owner(an, fn)
    if owner is not None:  # `self.x` of another class of this module names another method
        uses: list[ast.AST] = [node for node, scope in an.t.attr_loads if node.attr == fn.name and
                               an.ev.method(an.t.self_class(node.value, scope) or owner, fn.name) is fn]
    else:
        uses = [node for node, scope in an.t.name_loads.get(fn.name, ())
                if any(b.node is fn for b in an.t.lookup(fn.name, scope))]
    return bool(uses) and all(id(node) in called for node in uses)


def _owner(an: Analysis, fn: ast.AST) -> ast.ClassDef | None:
    scope = an.t.scope_of.get(fn)
    return scope.cls if scope is not None else None


def _used_elsewhere(an: Analysis, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Another file of the project may call the helper outside any context: one that imports the
    function, or for a method one that imports its class (a subclass, an instance) and names the method."""
    project, key = an.project, an.ev.module_key
    if project is None or key is None:
        return False
    cls = _owner(an, fn)
    definition: Definition = cls if cls is not None else fn
    if an.t.scope_of[definition].parent is not an.t.module:
        return False  # nested: nothing outside this module can name it
    refs = project.references(key, definition, also=fn.name if cls is not None else None)
    return refs is None or bool(refs)


def _helper_site(an: Analysis, call: ast.Call, fn: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope,
                 callers: list[Caller]) -> CallSite | None:
    """A model call in the helper, judged by every caller's context; None when it is left alone."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in ("predict", "predict_on_batch", "stateless_call"):
        return None
    if training_callable(an.ev, func, scope) is not None:
        return None
    verdicts = _verdicts(an, func, fn, scope, callers)
    if verdicts is None:
        return None
    site = CallSite(call, verdicts[0][0], an.callee(call), True)
    an.judge.read_training(site, call, None, scope)
    if site.state not in ("missing", "none") or id(call) in an.judge.deliberate(fn):
        return None
    return _conclude(site, verdicts, fn, scope)


def _verdicts(an: Analysis, func: ast.expr, fn: ast.FunctionDef | ast.AsyncFunctionDef, scope: Scope,
              callers: list[Caller]) -> list[Verdict] | None:
    """Each caller's verdict on the model `func` calls; None when some caller's model is not certain."""
    params = param_names(fn)
    offset = 1 if _owner(an, fn) is not None else 0
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    a_param = isinstance(root, ast.Name) and root.id in params and root.id not in ("self", "cls")
    verdicts: list[Verdict] = []
    for caller in callers:
        edge = caller.edge
        passed = passed_for(func, fn, edge.call, offset, params)
        if passed is None and a_param:
            return None  # a parameter the caller doesn't visibly pass
        # the caller's argument is judged where the caller is; the helper's own names where it is
        expr, where, judge = (passed, edge.scope, caller.analysis) if passed is not None else (func, scope, an)
        if not judge.ev.is_model(expr, where):
            return None
        trained = None
        if edge.context.kind == "train":
            key = judge.ev.model_key(expr, where)
            if key is not None and judge is caller.analysis:
                trained = judge.judge.trained(key, edge.context)
        verdicts.append((edge.context, trained))
    return verdicts


def _conclude(site: CallSite, verdicts: list[Verdict], fn: ast.AST, scope: Scope) -> CallSite | None:
    """Trained by every caller (TRN001), evaluated by every caller (TRN003), or both (`shared`)."""
    trains = [trained for ctx, trained in verdicts if ctx.kind == "train"]
    if any(trained is False for trained in trains):
        return None  # not trained by some caller: a teacher, a target network
    if trains and len(trains) < len(verdicts):
        site.context = Context.shared(fn, scope)
        return site
    if trains:
        site.context = verdicts[0][0]
        site.trained = True if all(trained is True for trained in trains) else None
        if site.trained is None and not all(ctx.unknown for ctx, _ in verdicts):
            return None
    return site
