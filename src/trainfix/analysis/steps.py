"""Functions that are contexts as a whole: configured train/eval/predict steps, the functions nested in an
evaluation step, and the training loops of Keras 3's JAX and PyTorch backends."""
from __future__ import annotations

import ast
import bisect
from collections.abc import Iterator

from ..config import Config
from ..transform import LineIndex
from . import backends
from .evidence import Evidence
from .gradients import GradientSources, arg
from .keys import SelfKey
from .scope import Scope, ScopeTree
from .sites import Context, Segment, position
from .tapes import APPLY_METHODS, has_tape


class Steps:
    """Which functions of one module are steps, and of which kind."""

    def __init__(self, tree: ScopeTree, evidence: Evidence, config: Config, sources: GradientSources,
                 index: LineIndex):
        self.t = tree
        self.ev = evidence
        self.sources = sources
        self.train_names = set(config.train_functions)
        self.eval_names = set(config.eval_functions)
        self.predict_names = set(config.predict_functions)
        self._jax: dict[ast.AST, str | None] | None = None
        # a torch training loop calls `.backward()`: without one, no function needs the torch checks
        self.torch = backends.uses_torch(tree) and any(node.attr == "backward" for node, _ in tree.attr_loads)
        # the lines that spell `backward`: a function whose lines hold none has no `.backward()` call, and
        # needs no walk of its body (a big test module has thousands of functions and a few such lines)
        self._backward_lines = index.lines_with("backward") if self.torch else []

    def context(self, fn: ast.AST, scope: Scope) -> Context | None:
        """The context of a whole function body, or None when only its tapes are contexts."""
        return self.step_context(fn, scope) or self._inherited_context(fn, scope) or self._backend_context(fn, scope)

    def step_context(self, fn: ast.AST, scope: Scope) -> Context | None:
        """A step named in the configuration (`train_step`, `test_step`, `predict_step`, ...)."""
        name = getattr(fn, "name", None)
        if name in self.eval_names:
            return Context.eval(fn, scope)
        if name in self.predict_names:
            return Context.predict(fn, scope)
        if name not in self.train_names:
            return None
        if has_tape(self.t, fn, scope):
            return Context.skipped("outside the tapes of a train step", fn, scope)
        cls = scope.cls
        if cls is not None and self.ev.is_keras_class(cls):
            return Context.step(frozenset({SelfKey("self", cls)}), self._update_segments(scope), fn, scope)
        return Context.skipped("train step without a tape or Keras self", fn, scope)

    def propagated(self, fn: ast.AST, scope: Scope) -> bool:
        """A Keras `call()` or a function inside one: Keras propagates the outer training value there."""
        current: Scope | None = scope
        while current is not None:
            if current.kind == "function" and getattr(current.node, "name", None) == "call" and \
                    current.cls is not None and self.ev.is_keras_class(current.cls):
                return True
            current = current.parent
        return False

    def script_loops(self) -> Iterator[tuple[list[ast.stmt], Context]]:
        """A script's top-level `for batch in loader: ... loss.backward(); optimizer.step()`."""
        if not self.torch:
            return
        module = self.t.module
        for stmt in getattr(module.node, "body", []):
            if not isinstance(stmt, (ast.For, ast.While)):
                continue
            optimizers = backends.torch_optimizers(stmt) if self._spells_backward(stmt) else None
            if optimizers is not None:
                trained = backends.torch_trained(optimizers, module, self.t, self.ev, stmt)
                yield stmt.body, Context.loop(trained or frozenset(), None, module)

    def _update_segments(self, scope: Scope) -> tuple[Segment, ...]:
        """Optimizer updates of a tapeless step, in order, with the owners of the variables each updates.

        A GAN step on the PyTorch backend trains the discriminator, then the
        generator: a call is trained by the next update that follows it.
        """
        out = []
        for call in scope.calls:
            f = call.func
            if not isinstance(f, ast.Attribute) or f.attr not in APPLY_METHODS:
                continue
            target = arg(call, 1, "var_list") if f.attr != "apply_gradients" else arg(call, 0, "grads_and_vars")
            if isinstance(target, ast.Call) and getattr(target.func, "id", None) == "zip" and len(target.args) == 2:
                target = target.args[1]  # zip(grads, variables): the variables say what is updated
            if target is None:
                continue
            sources = self.sources.classify(target, scope)
            trained = frozenset(s.owner for s in sources if s.kind == "weights" and s.owner is not None)
            out.append(Segment(position(call), trained, any(s.kind != "weights" for s in sources)))
        return tuple(sorted(out, key=lambda s: s.at))

    def _backend_context(self, fn: ast.AST, scope: Scope) -> Context | None:
        """Keras 3 on JAX (a function `jax.value_and_grad` differentiates) or PyTorch (a `backward()` loop)."""
        if self._jax is None:
            self._jax = backends.jax_differentiated(self.t, self.ev)
        if fn in self._jax:
            return Context.loop(backends.jax_trained(fn, scope, self._jax[fn], self.ev), fn, scope)
        if self.torch:
            optimizers = backends.torch_optimizers(fn) if self._spells_backward(fn) else None
            if optimizers is not None:
                trained = backends.torch_trained(optimizers, scope, self.t, self.ev)
                return Context.loop(trained or frozenset(), fn, scope)
        return None

    def _spells_backward(self, node: ast.AST) -> bool:
        """Whether a line of `node`, from its first to its last, holds the word `backward`."""
        first, last = getattr(node, "lineno", 0), getattr(node, "end_lineno", None) or 0
        at = bisect.bisect_left(self._backward_lines, first)
        return at < len(self._backward_lines) and self._backward_lines[at] <= last

    def _inherited_context(self, fn: ast.AST, scope: Scope) -> Context | None:
        """A function nested in an eval/predict step (a `step_fn` run by strategy.run) is part of it."""
        current = scope.parent
        while current is not None and current.kind == "function":
            name = getattr(current.node, "name", None)
            if name in self.eval_names:
                return Context.eval(fn, scope)
            if name in self.predict_names:
                return Context.predict(fn, scope)
            current = current.parent
        return None
