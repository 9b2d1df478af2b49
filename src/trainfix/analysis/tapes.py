"""GradientTape bodies: which models a tape trains, read from what its gradients differentiate."""
from __future__ import annotations

import ast
from collections.abc import Iterator

from .gradients import GRADIENT_METHODS, GradientSources, Sources, arg, gradient_sources, owners
from .scope import Scope, ScopeTree, own_nodes
from .sites import Context, Position, in_block, position

TAPE_NAMES = {
    "tensorflow.GradientTape",
    "tensorflow.autodiff.GradientTape",
    "tensorflow.compat.v1.GradientTape",
    "tensorflow.compat.v2.GradientTape",
    "tensorflow.python.eager.backprop.GradientTape",
}
APPLY_METHODS = {"apply_gradients", "apply", "minimize"}


def is_tape_call(expr: ast.AST | None, tree: ScopeTree, scope: Scope) -> bool:
    return isinstance(expr, ast.Call) and tree.qualname(expr.func, scope) in TAPE_NAMES


def has_tape(tree: ScopeTree, fn: ast.AST, scope: Scope) -> bool:
    """Any tape, even one spelt through a name the imports don't resolve (a notebook without its import cell)."""
    for node in own_nodes(fn):
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                expr = item.context_expr
                if is_tape_call(expr, tree, scope) or (
                        isinstance(expr, ast.Call) and getattr(expr.func, "attr", getattr(expr.func, "id", None))
                        == "GradientTape"):
                    return True
    return False


def is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _contains(tree: ast.AST, target: ast.AST) -> bool:
    return any(node is target for node in ast.walk(tree))


class Tapes:
    """The contexts of one module's `with tf.GradientTape() as tape:` bodies."""

    def __init__(self, tree: ScopeTree, sources: GradientSources):
        self.t = tree
        self.sources = sources
        self._branches: dict[int, list[ast.If]] = {}  # id(scope) -> its if/else statements

    def context(self, with_node: ast.With | ast.AsyncWith, scope: Scope, outer: Context | None) -> Context | None:
        """The context of a `with` body that opens one or more GradientTapes, or None."""
        tapes = self._tapes(with_node, scope)
        if not tapes:
            return None
        found, feeds = False, False
        sources: Sources = frozenset()
        for name in tapes:
            if name is None:
                continue
            for call, expr in self._gradient_calls(name, with_node, scope):
                found = True
                sources |= self.sources.classify(expr, scope, with_node)
                feeds = feeds or self._feeds_optimizer(call, scope)
        return _tape_context(sources, feeds, found, scope).within(outer)

    def _tapes(self, with_node: ast.With | ast.AsyncWith, scope: Scope) -> list[str | None]:
        """The tapes a `with` opens: the name each is bound to (None when it isn't)."""
        tapes: list[str | None] = []
        for item in with_node.items:
            expr = item.context_expr
            if is_tape_call(expr, self.t, scope):
                var = item.optional_vars
                tapes.append(var.id if isinstance(var, ast.Name) else None)
            elif isinstance(expr, ast.Name):  # `tape = tf.GradientTape()` earlier, then `with tape:`
                bindings = self.t.lookup(expr.id, scope)
                if bindings and all(b.kind == "assign" and is_tape_call(b.node, self.t, b.scope) for b in bindings):
                    tapes.append(expr.id)
        return tapes

    def _gradient_calls(self, tape: str, with_node: ast.AST, scope: Scope) -> Iterator[tuple[ast.Call, ast.expr]]:
        """(call, sources) for the gradient calls on this tape binding, in source order."""
        start = position(with_node)
        end = self._next_rebinding(tape, with_node, scope)
        for call in scope.calls:
            at = position(call)
            if at < start or (end is not None and at >= end):
                continue
            sources = self._differentiated(call, tape, scope)
            if sources is not None:
                yield call, sources

    def _differentiated(self, call: ast.Call, tape: str, scope: Scope) -> ast.expr | None:
        """What a call differentiates with the tape: `tape.gradient(loss, sources)`,
        `opt.minimize(loss, var_list, tape=tape)`, or a helper given the tape and a weight list."""
        f = call.func
        if isinstance(f, ast.Attribute) and f.attr in GRADIENT_METHODS and is_name(f.value, tape):
            return gradient_sources(call)
        if isinstance(f, ast.Attribute) and f.attr == "minimize":
            uses_tape = any(k.arg == "tape" and is_name(k.value, tape) for k in call.keywords)
            return arg(call, 1, "var_list") if uses_tape else None
        args = [*call.args, *(k.value for k in call.keywords)]
        if not any(is_name(a, tape) for a in args):
            return None
        weights = [a for a in args if not is_name(a, tape)
                   and any(s.kind == "weights" for s in self.sources.classify(a, scope))]
        return ast.List(elts=weights, ctx=ast.Load()) if weights else None

    def _next_rebinding(self, tape: str, with_node: ast.AST, scope: Scope) -> Position | None:
        start = position(with_node)
        later = []
        for b in scope.bindings.get(tape, []):
            stmt = b.stmt
            if stmt is not None and stmt is not with_node and position(stmt) > start \
                    and not self._exclusive(with_node, stmt, scope):
                later.append(position(stmt))
        return min(later) if later else None

    def _exclusive(self, a: ast.AST, b: ast.AST, scope: Scope) -> bool:
        """`a` and `b` sit in different branches of one if/else (the tape is opened in either)."""
        if id(scope) not in self._branches:  # the if/else statements of a scope, found once
            body = getattr(scope.node, "body", None)
            nodes = own_nodes(scope.node) if scope.kind == "function" else \
                ast.walk(ast.Module(body=body if isinstance(body, list) else [], type_ignores=[]))
            self._branches[id(scope)] = [n for n in nodes if isinstance(n, ast.If) and n.orelse]
        for node in self._branches[id(scope)]:
            if (in_block(a, node.body) and in_block(b, node.orelse)) or \
                    (in_block(b, node.body) and in_block(a, node.orelse)):
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


def _tape_context(sources: Sources, feeds: bool, found: bool, scope: Scope) -> Context:
    """A tape trains the models whose weights it differentiates; with tensors only it takes input gradients."""
    fn = scope.function
    trained = owners(sources)
    partial = any(s.kind in ("some_weights", "unknown") for s in sources)
    if trained or any(s.kind == "some_weights" for s in sources):
        return Context.tape_train(trained, partial, True, feeds, fn, scope)
    if any(s.kind == "unknown" for s in sources) and feeds:
        return Context.tape_train(frozenset(), True, False, feeds, fn, scope)
    if found and sources and all(s.kind == "tensor" for s in sources):
        return Context.inputs(fn, scope)
    return Context.skipped("tape purpose unresolved", fn, scope, tape=True)
