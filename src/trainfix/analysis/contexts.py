"""Contexts (training tapes, train/eval/predict steps) and the calls inside them.

One walk per function body: every call met inside a context becomes a
`CallSite` that records what the rules need (callee evidence, the current
`training` argument, whether the callee is trained here, fix safety inputs).
"""
from __future__ import annotations

import ast
import builtins

from ..config import Config
from ..transform import LineIndex
from . import backends
from .callees import call_signature, is_frozen, is_pretrained, local_class_of, training_callable, why_not_model
from .module_facts import WEIGHT_ATTRS
from .evidence import Evidence, Module
from .helpers import walk_helpers
from .project import Project
from .sites import CallSite, Context
from .scope import SCOPE_NODES, Scope, ScopeTree, child_nodes, own_nodes, param_names

TAPE_NAMES = {
    "tensorflow.GradientTape",
    "tensorflow.autodiff.GradientTape",
    "tensorflow.compat.v1.GradientTape",
    "tensorflow.compat.v2.GradientTape",
    "tensorflow.python.eager.backprop.GradientTape",
}
GRADIENT_METHODS = {"gradient", "jacobian", "batch_jacobian"}
APPLY_METHODS = {"apply_gradients", "apply", "minimize"}
PREDICT_METHODS = {"predict", "predict_on_batch"}
BUILTINS = frozenset(dir(builtins))
OTHER_FLAGS = {"is_training", "train", "deterministic", "mode", "is_train", "train_mode", "phase_train"}


_HOLDS_STATEMENTS = (ast.stmt, ast.excepthandler, ast.match_case)


def _is_tape_call(expr: ast.AST, tree: ScopeTree, scope: Scope) -> bool:
    return isinstance(expr, ast.Call) and tree.qualname(expr.func, scope) in TAPE_NAMES


class Analyzer:
    def __init__(self, module: ast.Module, config: Config, source: str, index: LineIndex | None = None,
                 project: Project | None = None, module_key: str | None = None, facts=None):
        self.source = source
        self.index = index or LineIndex(source)
        self.config = config
        self.nested = facts is not None  # another module's steps, analysed for the helpers they call
        self.project = project
        if facts is not None:
            self.t, self.ev = facts
        else:
            self.t = ScopeTree(module)
            self.ev = Evidence(self.t, config.model_factories, project, module_key)
            if project is not None and module_key is not None:
                project.register(module_key, self.t, self.ev, source)
        self.train_names = set(config.train_functions)
        self.eval_names = set(config.eval_functions)
        self.predict_names = set(config.predict_functions)
        self.sites: list[CallSite] = []
        self._done: set = set()
        self._deliberate_memo: dict = {}
        self._branches: dict[int, list] = {}  # id(scope) -> its if/else statements
        self._jax: dict | None = None
        # a torch training loop calls `.backward()`: without one, no function needs the torch checks
        self._torch = backends.uses_torch(self.t) and any(node.attr == "backward" for node, _ in self.t.attr_loads)
        self.helper_calls: dict = {}  # local function or method without `training` -> [(call, context, scope)]
        self.imported_calls: dict = {}  # another project module's function -> [(call, context, scope)]
        self._mark_differentiated()

    def of_module(self, module: Module) -> Analyzer:
        """Another project module's steps, analysed for the helpers of this file they call."""
        other = Analyzer(module.tree.module.node, self.config, module.source, None, self.project, module.key,
                         (module.tree, module.evidence))
        other.run()
        return other

    # -- pass 0: which owners' weights are differentiated anywhere ----------------
    def _mark_differentiated(self) -> None:
        for scope in self._function_scopes():
            for call in scope.calls:
                sources = _gradient_sources(call)
                if sources is None:
                    continue
                for tag in self.classify(sources, scope, None, set()):
                    if tag[0] == "w" and tag[1][0] != "nattr":  # an attribute of an object may be aliased
                        self.ev.differentiated.add(tag[1])

    def _function_scopes(self):
        yield self.t.module
        for node, scope in self.t.scope_of.items():
            if scope.kind == "function":
                yield scope

    # -- gradient sources -----------------------------------------------------------
    def classify(self, expr: ast.AST, scope: Scope, tape_body: ast.AST | None, seen: set) -> set:
        """Tags for a gradient-source expression: ('w', owner) | ('w?',) | ('t',) | ('u',)."""
        if isinstance(expr, ast.Attribute) and expr.attr in WEIGHT_ATTRS:
            owner = expr.value
            key = self.ev.model_key(owner, scope)
            return {("w", key)} if key is not None else {("w?",)}
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            return self.classify(expr.left, scope, tape_body, seen) | self.classify(expr.right, scope, tape_body, seen)
        if isinstance(expr, (ast.List, ast.Tuple, ast.Set)):
            out = set()
            for elt in expr.elts:
                out |= self.classify(elt.value if isinstance(elt, ast.Starred) else elt, scope, tape_body, seen)
            return out or {("u",)}
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp)):
            return self.classify(expr.generators[0].iter, scope, tape_body, seen)
        if isinstance(expr, ast.Subscript):
            return self.classify(expr.value, scope, tape_body, seen)
        if isinstance(expr, ast.Call):
            parts = set()
            for arg in [*expr.args, *(k.value for k in expr.keywords)]:
                parts |= self.classify(arg.value if isinstance(arg, ast.Starred) else arg, scope, tape_body, seen)
            if any(p[0] in ("w", "w?") for p in parts):
                return {p for p in parts if p[0] in ("w", "w?")}
            qual = self.t.qualname(expr.func, scope) or ""
            if qual.split(".")[0] in ("tensorflow", "numpy", "jax") or self.ev.is_model(expr.func, scope):
                return {("t",)}
            return {("u",)}
        if isinstance(expr, ast.Name):
            return self._classify_name(expr.id, scope, tape_body, seen)
        if isinstance(expr, ast.Attribute):
            cls = self.t.self_class(expr.value, scope)
            if cls is not None:
                values = self.ev.facts(cls).stores.get(expr.attr, [])
                if values and all(v is not None and self._is_tensor_value(v, s) for v, s in values):
                    return {("t",)}
            return {("u",)}
        if isinstance(expr, (ast.BinOp, ast.UnaryOp)):
            return {("t",)}
        return {("u",)}

    def _is_tensor_value(self, value: ast.AST, scope: Scope) -> bool:
        if isinstance(value, ast.Call):
            qual = self.t.qualname(value.func, scope) or ""
            return qual.split(".")[0] in ("tensorflow", "numpy", "jax")
        return False

    def _classify_name(self, name: str, scope: Scope, tape_body, seen: set) -> set:
        if (name, id(scope)) in seen:
            return {("u",)}
        seen = seen | {(name, id(scope))}
        if self._watched(name, scope):
            return {("t",)}
        bindings = self.t.lookup(name, scope)
        if not bindings:
            return {("u",)}
        body = getattr(tape_body, "body", None) or []
        if any(b.stmt in body for b in bindings):
            # assigned by a statement of the tape's own body: earlier values are overwritten before
            # the gradient is taken (`actions = self.actor(states)` then `tape.gradient(loss, actions)`)
            start = (body[0].lineno, body[0].col_offset)
            bindings = [b for b in bindings if b.stmt is not None and (b.stmt.lineno, b.stmt.col_offset) >= start]
        out = set()
        for b in bindings:
            if b.kind == "assign":
                tags = self.classify(b.node, b.scope, tape_body, seen)
                if tape_body is not None and _inside(b.stmt, tape_body) and not any(t[0] == "w" for t in tags):
                    tags = {("t",)}  # computed inside the tape: a tensor, not weights
                out |= tags
            elif b.kind == "other" and tape_body is not None and _inside(b.stmt, tape_body):
                out.add(("t",))
            elif b.kind == "param" and self._passed_tensors(b):
                out.add(("t",))  # style transfer: every caller passes the image's tf.Variable
            else:
                out.add(("u",))
        return out

    def _passed_tensors(self, binding) -> bool:
        """Every call of the parameter's function in this module passes a tensor or a `tf.Variable` there."""
        def tensor(ev, value, scope) -> bool:
            if ev is not self.ev:
                return False
            if isinstance(value, ast.Name):
                values = [b for b in self.t.lookup(value.id, scope)]
                return bool(values) and all(b.kind == "assign" and self._is_tensor_value(b.node, b.scope)
                                            for b in values)
            return self._is_tensor_value(value, scope)

        return self.ev.passed_to(binding, tensor)

    def _watched(self, name: str, scope: Scope) -> bool:
        for call in scope.calls:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr == "watch" and call.args:
                arg = call.args[0]
                names = {n.id for n in ast.walk(arg) if isinstance(n, ast.Name)}
                if name in names:
                    return True
        return False

    # -- tapes ----------------------------------------------------------------------
    def tape_context(self, with_node: ast.AST, scope: Scope, outer: Context | None) -> Context | None:
        """The context of a `with` body that opens one or more GradientTapes, or None."""
        tapes = []
        for item in with_node.items:
            expr = item.context_expr
            is_tape = _is_tape_call(expr, self.t, scope)
            if not is_tape and isinstance(expr, ast.Name):
                bindings = self.t.lookup(expr.id, scope)
                if bindings and all(b.kind == "assign" and _is_tape_call(b.node, self.t, b.scope) for b in bindings):
                    tapes.append(expr.id)
                    continue
            if is_tape:
                var = item.optional_vars
                tapes.append(var.id if isinstance(var, ast.Name) else None)
        if not tapes:
            return None
        tags: set = set()
        feeds = False
        found = False
        for name in tapes:
            if name is None:
                continue
            for call, sources in self._gradient_calls(name, with_node, scope):
                found = True
                tags |= self.classify(sources, scope, with_node, set())
                feeds = feeds or self._feeds_optimizer(call, scope)
        fn = scope.function
        owners = frozenset(t[1] for t in tags if t[0] == "w")
        partial = any(t[0] in ("w?", "u") for t in tags)
        if owners or any(t[0] == "w?" for t in tags):
            ctx = Context("train", owners, partial, True, True, feeds, (), fn, scope)
        elif any(t[0] == "u" for t in tags) and feeds:
            ctx = Context("train", frozenset(), True, False, True, feeds, (), fn, scope)
        elif found and tags and all(t[0] == "t" for t in tags):
            ctx = Context("inputs", tape=True, function=fn, scope=scope, reason="input-gradient tape")
        else:
            ctx = Context("none", tape=True, function=fn, scope=scope, reason="tape purpose unresolved")
        if outer is not None and outer.kind == "train" and outer.tape:
            if ctx.kind == "train":  # both tapes record these calls
                return Context("train", ctx.trained | outer.trained, ctx.unknown or outer.unknown,
                               ctx.explicit and outer.explicit, True, ctx.feeds and outer.feeds, (), fn, scope)
            if ctx.kind == "none":
                return outer
        return ctx

    def _gradient_calls(self, tape: str, with_node: ast.AST, scope: Scope):
        """(call, sources) for the gradient calls on this tape binding, in source order."""
        start = (with_node.lineno, with_node.col_offset)
        end = self._next_rebinding(tape, with_node, scope)
        for call in scope.calls:
            pos = (call.lineno, call.col_offset)
            if pos < start or (end is not None and pos >= end):
                continue
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr in GRADIENT_METHODS and _is_name(f.value, tape):
                sources = _gradient_sources(call)
                if sources is not None:
                    yield call, sources
            elif isinstance(f, ast.Attribute) and f.attr == "minimize":
                if any(k.arg == "tape" and _is_name(k.value, tape) for k in call.keywords):
                    sources = _arg(call, 1, "var_list")
                    if sources is not None:
                        yield call, sources
            elif any(_is_name(a, tape) for a in [*call.args, *(k.value for k in call.keywords)]):
                # the tape handed to a helper with a weight list: those weights are its sources
                others = [a for a in [*call.args, *(k.value for k in call.keywords)] if not _is_name(a, tape)]
                weights = [a for a in others if any(t[0] == "w" for t in self.classify(a, scope, None, set()))]
                if weights:
                    yield call, ast.List(elts=weights, ctx=ast.Load())

    def _next_rebinding(self, tape: str, with_node: ast.AST, scope: Scope):
        start = (with_node.lineno, with_node.col_offset)
        later = []
        for b in scope.bindings.get(tape, []):
            stmt = b.stmt
            if stmt is not None and stmt is not with_node and (stmt.lineno, stmt.col_offset) > start \
                    and not self._exclusive(with_node, stmt, scope):
                later.append((stmt.lineno, stmt.col_offset))
        return min(later) if later else None

    def _exclusive(self, a: ast.AST, b: ast.AST, scope: Scope) -> bool:
        """`a` and `b` sit in different branches of one if/else (the tape is opened in either)."""
        if id(scope) not in self._branches:  # the if/else statements of a scope, found once
            body = scope.node.body if isinstance(scope.node.body, list) else []
            nodes = own_nodes(scope.node) if scope.kind == "function" else ast.walk(ast.Module(body=body))
            self._branches[id(scope)] = [n for n in nodes if isinstance(n, ast.If) and n.orelse]
        for node in self._branches[id(scope)]:
            if (_in_block(a, node.body) and _in_block(b, node.orelse)) or \
                    (_in_block(b, node.body) and _in_block(a, node.orelse)):
                return True
        return False

    def _feeds_optimizer(self, grad_call: ast.Call, scope: Scope) -> bool:
        if not isinstance(grad_call.func, ast.Attribute) or grad_call.func.attr in ("minimize",):
            return True  # minimize(..., tape=t), or a helper given the tape and the weights
        targets = set()
        for b_list in scope.bindings.values():
            for b in b_list:
                if b.stmt is not None and isinstance(b.stmt, ast.Assign) and _contains(b.stmt.value, grad_call):
                    targets.add(b.name)
        for call in scope.calls:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr in APPLY_METHODS:
                if _contains(call, grad_call):
                    return True
                if targets & {n.id for n in ast.walk(call) if isinstance(n, ast.Name)}:
                    return True
        return False

    # -- steps ------------------------------------------------------------------------
    def step_context(self, fn: ast.AST, scope: Scope) -> Context | None:
        name = getattr(fn, "name", None)
        if name in self.eval_names:
            return Context("eval", function=fn, scope=scope)
        if name in self.predict_names:
            return Context("predict", function=fn, scope=scope)
        if name in self.train_names:
            if self._has_tape(fn, scope):
                return Context("none", function=fn, scope=scope, reason="outside the tapes of a train step")
            cls = scope.cls
            if cls is not None and self.ev.is_keras_class(cls):
                return Context("train", frozenset({("self", cls)}), False, False, False, False,
                               self._update_segments(scope), fn, scope)
            return Context("none", function=fn, scope=scope, reason="train step without a tape or Keras self")
        return None

    def _update_segments(self, scope: Scope) -> tuple:
        """Optimizer updates of a tapeless step, in order, with the owners of the variables each updates.

        A GAN step on the PyTorch backend trains the discriminator, then the
        generator: a call is trained by the next update that follows it.
        """
        out = []
        for call in scope.calls:
            f = call.func
            if isinstance(f, ast.Attribute) and f.attr in APPLY_METHODS:
                target = _arg(call, 1, "var_list") if f.attr != "apply_gradients" else _arg(call, 0, "grads_and_vars")
                if isinstance(target, ast.Call) and getattr(target.func, "id", None) == "zip" and len(target.args) == 2:
                    target = target.args[1]  # zip(grads, variables): the variables say what is updated
                if target is None:
                    continue
                tags = self.classify(target, scope, None, set())
                owners = frozenset(t[1] for t in tags if t[0] == "w")
                out.append(((call.lineno, call.col_offset), owners, any(t[0] != "w" for t in tags)))
        return tuple(sorted(out, key=lambda x: x[0]))

    def _has_tape(self, fn: ast.AST, scope: Scope) -> bool:
        """Any tape, even one spelt through a name the imports don't resolve (a notebook without its import cell)."""
        for node in own_nodes(fn):
            if isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    expr = item.context_expr
                    if _is_tape_call(expr, self.t, scope) or (
                            isinstance(expr, ast.Call) and getattr(expr.func, "attr", getattr(expr.func, "id", None))
                            == "GradientTape"):
                        return True
        return False

    # -- walking ------------------------------------------------------------------------
    def run(self) -> list[CallSite]:
        self._walk_withs(self.t.module)
        if self._torch:  # a script's top-level `for batch in loader: ... loss.backward(); optimizer.step()`
            for stmt in self.t.module.node.body:
                if isinstance(stmt, (ast.For, ast.While)) and backends.torch_optimizers(stmt) is not None:
                    owners = backends.torch_trained(backends.torch_optimizers(stmt), self.t.module, self.t, self.ev,
                                                    stmt)
                    ctx = Context("train", owners or frozenset(), not owners, False, False, True, (), None,
                                  self.t.module)
                    self._walk_body(stmt.body, ctx, self.t.module, True)
        for node, scope in list(self.t.scope_of.items()):
            if scope.kind != "function" or isinstance(node, ast.Lambda):
                continue
            if getattr(node, "name", None) == "call" and scope.cls is not None and self.ev.is_keras_class(scope.cls):
                continue  # Keras propagates the outer training value into call()
            if self._inside_keras_call(scope):
                continue
            ctx = self.step_context(node, scope) or self._inherited_context(node, scope) or \
                self._backend_context(node, scope)
            if ctx is not None:
                self._walk_body(node.body, ctx, scope, False)
            else:
                self._walk_withs(scope)
        walk_helpers(self)
        self.sites.sort(key=lambda s: (s.call.lineno, s.call.col_offset))
        called_true = {(id(s.context), s.key) for s in self.sites if s.key is not None and s.state == "true"}
        for site in self.sites:
            site.also_true = site.key is not None and (id(site.context), site.key) in called_true
        return self.sites

    def _walk_withs(self, scope: Scope) -> None:
        """Outside a step only tape bodies are contexts: visit the outermost with-statements."""
        self._done: set = set()
        for node in sorted(scope.withs, key=lambda n: (n.lineno, n.col_offset)):
            if id(node) not in self._done:
                self._walk(node, None, scope, False)

    def _backend_context(self, fn: ast.AST, scope: Scope) -> Context | None:
        """Keras 3 on JAX (a function `jax.value_and_grad` differentiates) or PyTorch (a `backward()` loop)."""
        if self._jax is None:
            self._jax = backends.jax_differentiated(self.t, self.ev)
        if fn in self._jax:
            owners = backends.jax_trained(fn, scope, self._jax[fn], self.ev)
            return Context("train", owners, not owners, False, False, True, (), fn, scope)
        if self._torch:
            optimizers = backends.torch_optimizers(fn)
            if optimizers is not None:
                owners = backends.torch_trained(optimizers, scope, self.t, self.ev)
                return Context("train", owners or frozenset(), not owners, False, False, True, (), fn, scope)
        return None

    def _inherited_context(self, node: ast.AST, scope: Scope) -> Context | None:
        """A function nested in an eval/predict step (a `step_fn` run by strategy.run) is part of it."""
        current = scope.parent
        while current is not None and current.kind == "function":
            name = getattr(current.node, "name", None)
            if name in self.eval_names or name in self.predict_names:
                return Context("eval" if name in self.eval_names else "predict", function=node, scope=scope)
            current = current.parent
        return None

    def _inside_keras_call(self, scope: Scope) -> bool:
        current = scope.parent
        while current is not None:
            node = current.node
            if current.kind == "function" and getattr(node, "name", None) == "call" and current.cls is not None \
                    and self.ev.is_keras_class(current.cls):
                return True
            current = current.parent
        return False

    def _walk_body(self, stmts, ctx, scope, in_loop) -> None:
        for stmt in stmts:
            self._walk(stmt, ctx, scope, in_loop)

    def _walk(self, node, ctx, scope, in_loop) -> None:
        if isinstance(node, SCOPE_NODES) or ctx is None and not isinstance(node, _HOLDS_STATEMENTS):
            return  # outside a context only nested with-statements matter, and no expression holds one
        if isinstance(node, (ast.With, ast.AsyncWith)):
            self._done.add(id(node))
            for item in node.items:
                self._walk(item.context_expr, ctx, scope, in_loop)
            inner = self.tape_context(node, scope, ctx)
            if inner is None and self._torch and any(backends.is_no_grad(item.context_expr, scope, self.t)
                                                     for item in node.items):
                inner = Context("eval", function=scope.node, scope=scope)
            self._walk_body(node.body, inner if inner is not None else ctx, scope, in_loop)
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

    # -- one call -------------------------------------------------------------------------
    def _visit_call(self, call: ast.Call, ctx: Context, scope: Scope, in_loop: bool) -> None:
        func = call.func
        callee = self.source[self.index.start_of(func):self.index.end_of(func)]
        if ctx.kind in ("inputs", "none"):
            if self.ev.is_model(func, scope):
                self.sites.append(CallSite(call, ctx, callee, True, skip_reason=ctx.reason))
            return
        if isinstance(func, ast.Attribute) and func.attr in PREDICT_METHODS:
            if ctx.kind == "train" and ctx.tape and self.ev.is_model(func.value, scope):
                key = self.ev.model_key(func.value, scope)
                if key is not None and self._trained(key, func.value, ctx, scope) is True:
                    self.sites.append(CallSite(call, ctx, callee, True, method=func.attr, trained=True))
            return
        stateless = isinstance(func, ast.Attribute) and func.attr == "stateless_call"
        subject = func.value if stateless else func  # Keras 3: `model.stateless_call(tv, ntv, x)` runs model
        local_fn = None if stateless else training_callable(self.ev, func, scope)
        model = local_fn is None and self.ev.is_model(subject, scope)
        if local_fn is None and not model:
            builtin = isinstance(func, ast.Name) and func.id in BUILTINS and not self.t.lookup(func.id, scope)
            target = self.ev.resolve_callable(func, scope) if isinstance(func, (ast.Name, ast.Attribute)) else None
            if target is not None and target[0] == "def" and ctx.kind in ("train", "eval", "predict"):
                self.helper_calls.setdefault(target[1], []).append((call, ctx, scope))
            elif target is not None and target[0] == "qual" and ctx.kind in ("train", "eval", "predict"):
                symbol = self.ev.external(target[1])
                if symbol is not None and symbol.kind in ("function", "nonmodel_factory"):
                    self.imported_calls.setdefault(symbol.node, []).append((call, ctx, scope))
                    if symbol.module is not None and not self.nested and self.project is not None:
                        self.project.helpers.add(symbol.module.key)  # its helpers may run in this step
            elif isinstance(func, ast.Attribute) and ctx.kind in ("train", "eval", "predict"):
                cls = self.t.self_class(func.value, scope)  # `self._one_step_loss(...)`: a helper method
                method = self.ev.method(cls, func.attr) if cls is not None else None
                if method is not None:
                    self.helper_calls.setdefault(method, []).append((call, ctx, scope))
            if isinstance(func, (ast.Name, ast.Attribute)) and not builtin and (target is None or target[0] == "def"):
                self.sites.append(CallSite(call, ctx, callee, False, skip_reason=why_not_model(self.ev, func, scope)))
            return
        site = CallSite(call, ctx, callee, True)
        site.key = self.ev.model_key(subject, scope) if local_fn is None else ("fn", id(local_fn.node))
        self._read_training(site, call, local_fn, scope, stateless)
        site.in_loop = in_loop
        if ctx.function is not None and "training" in param_names(ctx.function):
            site.forward = "training"
        if site.state in ("missing", "none") and id(call) in self._deliberate(ctx.function or scope.node):
            site.state, site.skip_reason = "expr", "deliberate: the other branch passes `training=`"
        if ctx.kind == "train":
            if local_fn is not None:
                site.trained = self._local_fn_trained(local_fn, ctx, call, scope)
            else:
                key = site.key
                at = (call.lineno, call.col_offset)
                site.trained = self._trained(key, subject, ctx, scope, at) if key is not None else None
                site.explicit = key is not None and key in ctx.trained and ctx.explicit and ctx.feeds
                site.pretrained = is_pretrained(self.ev, subject, scope)
            if site.trained is False:
                site.skip_reason = "not trained in this step"
            elif site.trained is None and not ctx.unknown:
                site.trained = False
                site.skip_reason = "not trained in this step"
        self.sites.append(site)

    def _deliberate(self, fn: ast.AST) -> set[int]:
        """Calls without `training` in one branch of an if/else (or a conditional expression) whose other
        branch calls the same callee with an explicit `training=`: written so on purpose."""
        if fn in self._deliberate_memo:
            return self._deliberate_memo[fn]
        out: set[int] = set()
        nodes = own_nodes(fn) if isinstance(fn, SCOPE_NODES) else ()
        for node in nodes:
            if isinstance(node, ast.If) and node.orelse:
                branches = (node.body, node.orelse)
            elif isinstance(node, ast.IfExp):
                branches = ([node.body], [node.orelse])
            else:
                continue
            calls = [[n for stmt in branch for n in ast.walk(stmt) if isinstance(n, ast.Call)] for branch in branches]
            explicit = [{ast.dump(c.func) for c in group if any(k.arg == "training" for k in c.keywords)}
                        for group in calls]
            for mine, theirs in ((0, 1), (1, 0)):
                for c in calls[mine]:
                    if not any(k.arg == "training" for k in c.keywords) and ast.dump(c.func) in explicit[theirs]:
                        out.add(id(c))
        self._deliberate_memo[fn] = out
        return out

    def _read_training(self, site: CallSite, call: ast.Call, local_fn, scope: Scope, stateless: bool = False) -> None:
        if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
            site.state, site.skip_reason = "kwargs", "arguments unpacked with * or **"
            return
        other = next((k.arg for k in call.keywords if k.arg in OTHER_FLAGS), None)
        if other is not None:  # Sonnet's is_training, Flax's deterministic, ...: not a Keras call
            site.state, site.skip_reason = "expr", f"passes `{other}=`, not a Keras `training` flag"
            return
        for kw in call.keywords:
            if kw.arg == "training":
                site.where = "keyword"
                site.state = _literal_state(kw.value)
                if site.state == "expr":
                    site.skip_reason = "training is an expression"
                return
        positional_slot = 1  # Sequential, functional and built-in layers: call(inputs, training=None, ...)
        if stateless:
            positional_slot = None  # stateless_call(trainable, non_trainable, *args, **kwargs): keyword only
        elif local_fn is not None:
            positional_slot = local_fn.slot
        else:
            cls = local_class_of(self.ev, call.func, scope)
            params = call_signature(self.ev, cls) if cls is not None else None
            if params is not None:  # a local model's own call(): `critic(states, actions)` passes data
                positional_slot = params.index("training") if "training" in params else None
            if positional_slot is None and len(call.args) > 1 and _literal_state(call.args[1]) == "expr":
                # a call() without `training` given a second data argument: the SPEC leaves such calls alone
                site.state, site.skip_reason = "expr", "a non-literal second positional argument"
                return
        if positional_slot is not None and len(call.args) > positional_slot:
            state = _literal_state(call.args[positional_slot])
            if local_fn is not None or state == "expr" or positional_slot != 1:
                site.state, site.skip_reason = "expr", "training passed positionally"
                return
            site.where, site.state = "positional", state
            site.fixable = len(call.args) == positional_slot + 1
            return
        if len(call.args) == 1 and isinstance(call.args[0], ast.GeneratorExp) and not call.keywords:
            site.fixable = False

    def _trained(self, key, func, ctx: Context, scope: Scope, at: tuple | None = None) -> bool | None:
        if ctx.segments and at is not None:
            following = [seg for seg in ctx.segments if seg[0] > at]
            if not following:
                return False  # nothing updated after this call
            _, owners, unresolved = following[0]
            if owners:
                ctx = Context("train", owners, unresolved, False, False, False, (), ctx.function, ctx.scope)
        if key in ctx.trained:
            return True
        if key[0] == "attr" and ("self", key[1]) in ctx.trained:
            return not is_frozen(self.ev, key[1], key[2])
        if ctx.unknown and not self._never_differentiated(key):
            return None
        return False

    def _never_differentiated(self, key) -> bool:
        """The module differentiates other models' weights explicitly, never these (a target network)."""
        done = self.ev.differentiated
        if not done or key in done:
            return False
        return not (key[0] == "attr" and ("self", key[1]) in done)

    def _local_fn_trained(self, local_fn, ctx: Context, call: ast.Call, scope: Scope) -> bool | None:
        """A function that takes `training` is trained when every model it forwards `training` to is.

        A model it receives as a parameter is looked up as the caller passes it, so a helper in
        another module (`generator_loss(self.generator, z, training=...)`) is judged by the caller's tape.
        """
        fn, fn_scope, ev = local_fn.node, local_fn.scope, local_fn.evidence
        targets = []
        for node in own_nodes(fn):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "training" and _is_name(kw.value, "training"):
                        targets.append(node.func)
        if not targets:
            return None if ctx.unknown else False
        params = param_names(fn)
        results = []
        for func in targets:
            passed = _passed_for(func, fn, call, local_fn.offset, params)
            if passed is not None:
                key = self.ev.model_key(passed, scope)
                results.append(self._trained(key, passed, ctx, scope) if key is not None else None)
            elif ev is self.ev:
                key = self.ev.model_key(func, fn_scope)
                results.append(self._trained(key, func, ctx, fn_scope) if key is not None else None)
            else:
                results.append(None)
        if all(r is True for r in results):
            return True
        if any(r is False for r in results) and not ctx.unknown:
            return False
        return None if ctx.unknown else False


def _passed_for(func: ast.AST, fn: ast.AST, call: ast.Call, offset: int, params: list[str]) -> ast.AST | None:
    """The caller's argument for a parameter of `fn` that `func` (a name or `param.attr`) refers to."""
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in params or root.id in ("self", "cls"):
        return None
    name = root.id
    value = next((k.value for k in call.keywords if k.arg == name), None)
    positional = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
    if value is None and name in positional:
        index = positional.index(name) - offset
        if 0 <= index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            value = call.args[index]
    if value is None:
        return None
    if func is root:
        return value
    # rebuild `param.attr` on the caller's value
    chain = []
    node = func
    while isinstance(node, ast.Attribute):
        chain.append(node.attr)
        node = node.value
    for attr in reversed(chain):
        value = ast.Attribute(value=value, attr=attr, ctx=ast.Load())
    return value


def _literal_state(value: ast.AST) -> str:
    if isinstance(value, ast.Constant):
        if value.value is True:
            return "true"
        if value.value is False:
            return "false"
        if value.value is None:
            return "none"
    return "expr"


def _gradient_sources(call: ast.Call):
    f = call.func
    if isinstance(f, ast.Attribute) and f.attr in GRADIENT_METHODS:
        return _arg(call, 1, "sources")
    if isinstance(f, ast.Attribute) and f.attr == "minimize" and any(k.arg == "tape" for k in call.keywords):
        return _arg(call, 1, "var_list")
    return None


def _arg(call: ast.Call, index: int, keyword: str):
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args[: index + 1]):
        return call.args[index]
    for k in call.keywords:
        if k.arg == keyword:
            return k.value
    return None


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _inside(stmt: ast.AST | None, container: ast.AST) -> bool:
    if stmt is None or not hasattr(stmt, "lineno"):
        return False
    body = getattr(container, "body", [])
    if not body:
        return False
    first, last = body[0], body[-1]
    return (first.lineno, first.col_offset) <= (stmt.lineno, stmt.col_offset) <= (last.end_lineno, last.end_col_offset)


def _in_block(stmt: ast.AST, block: list) -> bool:
    first, last = block[0], block[-1]
    return (first.lineno, first.col_offset) <= (stmt.lineno, stmt.col_offset) <= (last.end_lineno, last.end_col_offset)


def _contains(tree: ast.AST, target: ast.AST) -> bool:
    return any(node is target for node in ast.walk(tree))


def analyze(module: ast.Module, source: str, config: Config, index: LineIndex | None = None,
            project: Project | None = None, module_key: str | None = None) -> list[CallSite]:
    """Every call met in a training/eval context, in source order."""
    analyzer = Analyzer(module, config, source, index, project, module_key)
    try:
        return analyzer.run()
    finally:
        analyzer.t.release()
        analyzer.ev.__dict__.clear()
