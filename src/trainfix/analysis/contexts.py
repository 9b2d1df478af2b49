"""Contexts (training tapes, train/eval/predict steps) and the calls inside them.

The passes, each in its own module: scope (what names are bound to) →
evidence (what is a model) → gradients and tapes, steps (which bodies are
contexts) → this walk, which turns every call met inside a context into a
`CallSite` recording what the rules need (callee evidence, the current
`training` argument, whether the callee is trained here, fix safety inputs),
→ helpers (functions called from contexts).
"""
from __future__ import annotations

import ast
import builtins

from ..config import Config
from ..transform import LineIndex
from . import backends
from .calls import Judge
from .callees import TrainingFn, training_callable, why_not_model
from .evidence import Evidence, Module
from .keys import FnKey
from .gradients import GradientSources
from .helpers import helper_sites
from .project import Project
from .scope import SCOPE_NODES, Scope, ScopeTree, child_nodes, param_names
from .sites import CallSite, Context, Edge, position
from .steps import Steps
from .tapes import Tapes
from .targets import DefTarget, QualTarget, Target

__all__ = ["Analyzer", "CallSite", "Context", "analyze"]

PREDICT_METHODS = {"predict", "predict_on_batch"}
BUILTINS = frozenset(dir(builtins))
STEP_KINDS = ("train", "eval", "predict")

_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


class Analyzer:
    """One module's contexts and the calls met in them."""

    def __init__(self, tree: ScopeTree, evidence: Evidence, config: Config, source: str,
                 index: LineIndex | None = None, project: Project | None = None, nested: bool = False):
        self.source = source
        self.index = index or LineIndex(source)
        self.config = config
        self.nested = nested  # another module's steps, analysed for the helpers they call
        self.project = project
        self.t = tree
        self.ev = evidence
        self.sources = GradientSources(tree, evidence)
        self.tapes = Tapes(tree, self.sources)
        self.steps = Steps(tree, evidence, config, self.sources, self.index)
        self.judge = Judge(evidence)
        self.sites: list[CallSite] = []
        self._done: set[int] = set()
        self.helper_calls: dict[ast.AST, list[Edge]] = {}  # local function or method without `training`
        self.imported_calls: dict[ast.AST, list[Edge]] = {}  # another project module's function
        self.sources.mark_differentiated()

    @classmethod
    def for_file(cls, module: ast.Module, config: Config, source: str, index: LineIndex | None = None,
                 project: Project | None = None, module_key: str | None = None, whole: bool = True) -> Analyzer:
        """The analysed file; registered with the project index, whose other modules may import it.
        `whole`: `module` holds every statement of `source` (else the index parses `source` itself when
        another module asks about this one: it may name what this analysis did not parse)."""
        tree = ScopeTree(module)
        evidence = Evidence(tree, config.model_factories, project, module_key)
        if project is not None and module_key is not None:
            if whole:
                project.register(module_key, tree, evidence, source)
            else:
                project.register_text(module_key, source)
        return cls(tree, evidence, config, source, index, project)

    def of_module(self, module: Module) -> Analyzer:
        """Another project module's steps, analysed for the helpers of this file they call."""
        other = Analyzer(module.tree, module.evidence, self.config, module.source, None, self.project, nested=True)
        other.run()
        return other

    def callee(self, call: ast.Call) -> str:
        return self.source[self.index.start_of(call.func):self.index.end_of(call.func)]

    # -- walking ------------------------------------------------------------------------
    def run(self) -> list[CallSite]:
        self._walk_withs(self.t.module)
        for body, loop in self.steps.script_loops():
            self._walk_body(body, loop, self.t.module, True)
        for node, scope in list(self.t.scope_of.items()):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or self.steps.propagated(node, scope):
                continue  # Keras propagates the outer training value into call()
            ctx = self.steps.context(node, scope)
            if ctx is not None:
                self._walk_body(node.body, ctx, scope, False)
            else:
                self._walk_withs(scope)
        self.sites += helper_sites(self)
        self.sites.sort(key=lambda s: (s.call.lineno, s.call.col_offset))
        called_true = {(id(s.context), s.key) for s in self.sites if s.key is not None and s.state == "true"}
        for site in self.sites:
            site.also_true = site.key is not None and (id(site.context), site.key) in called_true
        return self.sites

    def _walk_withs(self, scope: Scope) -> None:
        """Outside a step only tape bodies are contexts: visit the outermost with-statements."""
        self._done = set()
        for node in sorted(scope.withs, key=position):
            if id(node) not in self._done:
                self._walk(node, None, scope, False)

    def _walk_body(self, stmts: list[ast.stmt], ctx: Context | None, scope: Scope, in_loop: bool) -> None:
        for stmt in stmts:
            self._walk(stmt, ctx, scope, in_loop)

    def _walk(self, node: ast.AST, ctx: Context | None, scope: Scope, in_loop: bool) -> None:
        if isinstance(node, SCOPE_NODES) or ctx is None and not isinstance(node, _HOLDS_STATEMENTS):
            return  # outside a context only nested with-statements matter, and no expression holds one
        if isinstance(node, (ast.With, ast.AsyncWith)):
            self._walk_with(node, ctx, scope, in_loop)
            return
        if isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            head = node.iter if not isinstance(node, ast.While) else node.test
            self._walk(head, ctx, scope, in_loop)
            self._walk_body(node.body, ctx, scope, True)
            self._walk_body(node.orelse, ctx, scope, in_loop)
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for child in child_nodes(node):
                self._walk(child, ctx, scope, True)
            return
        if isinstance(node, ast.Call) and ctx is not None:
            self._visit_call(node, ctx, scope, in_loop)
        for child in child_nodes(node):
            self._walk(child, ctx, scope, in_loop)

    def _walk_with(self, node: ast.With | ast.AsyncWith, ctx: Context | None, scope: Scope, in_loop: bool) -> None:
        """A tape opens a context; so does `torch.no_grad()` (evaluation) in a torch module."""
        self._done.add(id(node))
        for item in node.items:
            self._walk(item.context_expr, ctx, scope, in_loop)
        inner = self.tapes.context(node, scope, ctx)
        if inner is None and self.steps.torch and any(backends.is_no_grad(item.context_expr, scope, self.t)
                                                      for item in node.items):
            inner = Context.eval(scope.node, scope)
        self._walk_body(node.body, inner if inner is not None else ctx, scope, in_loop)

    # -- one call -------------------------------------------------------------------------
    def _visit_call(self, call: ast.Call, ctx: Context, scope: Scope, in_loop: bool) -> None:
        func = call.func
        if ctx.kind in ("inputs", "none"):
            if self.ev.is_model(func, scope):
                self.sites.append(CallSite(call, ctx, self.callee(call), True, skip_reason=ctx.reason))
            return
        if isinstance(func, ast.Attribute) and func.attr in PREDICT_METHODS:
            self._visit_predict(call, func, ctx, scope)
            return
        stateless = isinstance(func, ast.Attribute) and func.attr == "stateless_call"
        # Keras 3: `model.stateless_call(tv, ntv, x)` runs model
        subject = func.value if isinstance(func, ast.Attribute) and stateless else func
        local_fn = None if stateless else training_callable(self.ev, func, scope)
        if local_fn is None and not self.ev.is_model(subject, scope):
            self._visit_other(call, ctx, scope)
            return
        self.sites.append(self._model_site(call, ctx, scope, in_loop, subject, local_fn, stateless))

    def _visit_predict(self, call: ast.Call, func: ast.Attribute, ctx: Context, scope: Scope) -> None:
        """`model.predict(x)` in a tape on a trained model: reported, never fixed."""
        if ctx.kind == "train" and ctx.tape and self.ev.is_model(func.value, scope):
            key = self.ev.model_key(func.value, scope)
            if key is not None and self.judge.trained(key, ctx) is True:
                self.sites.append(CallSite(call, ctx, self.callee(call), True, method=func.attr, trained=True))

    def _model_site(self, call: ast.Call, ctx: Context, scope: Scope, in_loop: bool, subject: ast.expr,
                    local_fn: TrainingFn | None, stateless: bool) -> CallSite:
        """A call of a certain model, or of a project function that takes `training`."""
        site = CallSite(call, ctx, self.callee(call), True)
        site.key = self.ev.model_key(subject, scope) if local_fn is None else FnKey("fn", id(local_fn.node))
        self.judge.read_training(site, call, local_fn, scope, stateless)
        site.in_loop = in_loop
        if ctx.function is not None and "training" in param_names(ctx.function):
            site.forward = "training"
        if site.state in ("missing", "none") and id(call) in self.judge.deliberate(ctx.function or scope.node):
            site.state, site.skip_reason = "expr", "deliberate: the other branch passes `training=`"
        if ctx.kind == "train":
            self.judge.judge_trained(site, subject, local_fn, scope)
        return site

    def _visit_other(self, call: ast.Call, ctx: Context, scope: Scope) -> None:
        """A call that is not certainly a model's: a helper's, recorded for the helpers pass, or a site
        skipped with the reason its callee is not known to be a model."""
        func = call.func
        if not isinstance(func, (ast.Name, ast.Attribute)):
            return
        builtin = isinstance(func, ast.Name) and func.id in BUILTINS and not self.t.lookup(func.id, scope)
        target = self.ev.resolve_callable(func, scope)
        if ctx.kind in STEP_KINDS:
            self._record_call(call, ctx, scope, target)
        if not builtin and (target is None or isinstance(target, DefTarget)):
            self.sites.append(CallSite(call, ctx, self.callee(call), False,
                                       skip_reason=why_not_model(self.ev, func, scope)))

    def _record_call(self, call: ast.Call, ctx: Context, scope: Scope, target: Target | None) -> None:
        """A call of a local function, a method of `self`, or another project module's function."""
        func = call.func
        if isinstance(target, DefTarget):
            self.helper_calls.setdefault(target.node, []).append(Edge(call, ctx, scope))
        elif isinstance(target, QualTarget):
            symbol = self.ev.external(target.name)
            if symbol is not None and symbol.kind in ("function", "nonmodel_factory") and symbol.node is not None:
                self.imported_calls.setdefault(symbol.node, []).append(Edge(call, ctx, scope))
                if symbol.module is not None and not self.nested and self.project is not None:
                    self.project.helpers.add(symbol.module.key)  # its helpers may run in this step
        elif isinstance(func, ast.Attribute):
            cls = self.t.self_class(func.value, scope)  # `self._one_step_loss(...)`: a helper method
            method = self.ev.method(cls, func.attr) if cls is not None else None
            if method is not None:
                self.helper_calls.setdefault(method, []).append(Edge(call, ctx, scope))


def analyze(module: ast.Module, source: str, config: Config, index: LineIndex | None = None,
            project: Project | None = None, module_key: str | None = None, whole: bool = True) -> list[CallSite]:
    """Every call met in a training/eval context, in source order (`whole`: see `Analyzer.for_file`)."""
    analyzer = Analyzer.for_file(module, config, source, index, project, module_key, whole)
    try:
        return analyzer.run()
    finally:
        analyzer.t.release()
        analyzer.ev.__dict__.clear()
