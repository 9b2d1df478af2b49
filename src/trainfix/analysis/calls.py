"""One call in a context: what it passes as `training`, and whether the model it runs is trained there."""
from __future__ import annotations

import ast

from .callees import TrainingFn, call_signature, is_frozen, is_pretrained, local_class_of
from .evidence import Evidence
from .keys import AttrKey, ModelKey, SelfKey
from .scope import SCOPE_NODES, Scope, own_nodes, param_names
from .sites import CallSite, Context, Position, State, position
from .tapes import is_name

OTHER_FLAGS = {"is_training", "train", "deterministic", "mode", "is_train", "train_mode", "phase_train"}
NOT_TRAINED = "not trained in this step"


def literal_state(value: ast.AST) -> State:
    if isinstance(value, ast.Constant):
        if value.value is True:
            return "true"
        if value.value is False:
            return "false"
        if value.value is None:
            return "none"
    return "expr"


def _unreadable(call: ast.Call) -> tuple[State, str] | None:
    """A call whose `training` can't be read: arguments unpacked, or another library's flag."""
    if any(k.arg is None for k in call.keywords) or any(isinstance(a, ast.Starred) for a in call.args):
        return "kwargs", "arguments unpacked with * or **"
    other = next((k.arg for k in call.keywords if k.arg in OTHER_FLAGS), None)
    if other is not None:  # Sonnet's is_training, Flax's deterministic, ...: not a Keras call
        return "expr", f"passes `{other}=`, not a Keras `training` flag"
    return None


def passed_for(func: ast.AST, fn: ast.AST, call: ast.Call, offset: int, params: list[str]) -> ast.AST | None:
    """The caller's argument for a parameter of `fn` that `func` (a name or `param.attr`) refers to."""
    root = func
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id not in params or root.id in ("self", "cls"):
        return None
    value = _argument(fn, call, root.id, offset)
    if value is None or func is root:
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


def _argument(fn: ast.AST, call: ast.Call, name: str, offset: int) -> ast.expr | None:
    """What `call` passes for `fn`'s parameter `name` (`offset`: positional parameters it doesn't pass)."""
    value = next((k.value for k in call.keywords if k.arg == name), None)
    args = getattr(fn, "args", None)
    positional = [a.arg for a in [*args.posonlyargs, *args.args]] if isinstance(args, ast.arguments) else []
    if value is None and name in positional:
        index = positional.index(name) - offset
        if 0 <= index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:index + 1]):
            value = call.args[index]
    return value


class Judge:
    """Reads a call's `training` argument and judges whether its model is trained in a context."""

    def __init__(self, evidence: Evidence):
        self.ev = evidence
        self._deliberate: dict[ast.AST, set[int]] = {}

    # -- the `training` argument ------------------------------------------------------
    def read_training(self, site: CallSite, call: ast.Call, local_fn: TrainingFn | None, scope: Scope,
                      stateless: bool = False) -> None:
        unreadable = _unreadable(call)
        if unreadable is not None:
            site.state, site.skip_reason = unreadable
            return
        keyword = next((k for k in call.keywords if k.arg == "training"), None)
        if keyword is not None:
            site.where = "keyword"
            site.state = literal_state(keyword.value)
            if site.state == "expr":
                site.skip_reason = "training is an expression"
            return
        slot: int | None = 1  # Sequential, functional and built-in layers: call(inputs, training=None, ...)
        if stateless:
            slot = None  # stateless_call(trainable, non_trainable, *args, **kwargs): keyword only
        elif local_fn is not None:
            slot = local_fn.slot
        else:
            slot = self._model_slot(call, scope)
            if slot is None and len(call.args) > 1 and literal_state(call.args[1]) == "expr":
                # a call() without `training` given a second data argument: the SPEC leaves such calls alone
                site.state, site.skip_reason = "expr", "a non-literal second positional argument"
                return
        if slot is not None and len(call.args) > slot:
            self._read_positional(site, call, slot, local_fn is not None)
        elif len(call.args) == 1 and isinstance(call.args[0], ast.GeneratorExp) and not call.keywords:
            site.fixable = False

    def _model_slot(self, call: ast.Call, scope: Scope) -> int | None:
        """Where a model call passes `training` positionally: a local model's own call() says
        (`critic(states, actions)` passes data); any other takes it second."""
        cls = local_class_of(self.ev, call.func, scope)
        params = call_signature(self.ev, cls) if cls is not None else None
        if params is None:
            return 1
        return params.index("training") if "training" in params else None

    @staticmethod
    def _read_positional(site: CallSite, call: ast.Call, slot: int, training_fn: bool) -> None:
        state = literal_state(call.args[slot])
        if training_fn or state == "expr" or slot != 1:
            site.state, site.skip_reason = "expr", "training passed positionally"
            return
        site.where, site.state = "positional", state
        site.fixable = len(call.args) == slot + 1

    def deliberate(self, fn: ast.AST) -> set[int]:
        """Calls without `training` in one branch of an if/else (or a conditional expression) whose other
        branch calls the same callee with an explicit `training=`: written so on purpose."""
        if fn not in self._deliberate:
            nodes = own_nodes(fn) if isinstance(fn, SCOPE_NODES) else ()
            self._deliberate[fn] = {id(c) for node in nodes for c in _deliberate_in(node)}
        return self._deliberate[fn]

    # -- trained or not -------------------------------------------------------------------
    def judge_trained(self, site: CallSite, subject: ast.AST, local_fn: TrainingFn | None, scope: Scope) -> None:
        """Whether a model call in a training context runs a trained model (`site.trained`)."""
        ctx, call = site.context, site.call
        if local_fn is not None:
            site.trained = self.local_fn_trained(local_fn, ctx, call, scope)
        else:
            key = site.key
            site.trained = self.trained(key, ctx, position(call)) if key is not None else None
            site.explicit = key is not None and key in ctx.trained and ctx.explicit and ctx.feeds
            site.pretrained = is_pretrained(self.ev, subject, scope)
        if site.trained is False:
            site.skip_reason = NOT_TRAINED
        elif site.trained is None and not ctx.unknown:
            site.trained = False
            site.skip_reason = NOT_TRAINED

    def trained(self, key: ModelKey, ctx: Context, at: Position | None = None) -> bool | None:
        """True when the context trains the model `key`, False when not, None when unknown. `at`: the
        call's position, for a tapeless step whose updates train different models in turn."""
        trained, unknown = ctx.trained, ctx.unknown
        if ctx.segments and at is not None:
            following = [seg for seg in ctx.segments if seg.at > at]
            if not following:
                return False  # nothing updated after this call
            if following[0].owners:
                trained, unknown = following[0].owners, following[0].unresolved
        if key in trained:
            return True
        if isinstance(key, AttrKey) and SelfKey("self", key.cls) in trained:
            return not is_frozen(self.ev, key.cls, key.attr)
        if unknown and not self._never_differentiated(key):
            return None
        return False

    def _never_differentiated(self, key: ModelKey) -> bool:
        """The module differentiates other models' weights explicitly, never these (a target network)."""
        done = self.ev.differentiated
        if not done or key in done:
            return False
        return not (isinstance(key, AttrKey) and SelfKey("self", key.cls) in done)

    def local_fn_trained(self, local_fn: TrainingFn, ctx: Context, call: ast.Call, scope: Scope) -> bool | None:
        """A function that takes `training` is trained when every model it forwards `training` to is.

        A model it receives as a parameter is looked up as the caller passes it, so a helper in
        another module (`generator_loss(self.generator, z, training=...)`) is judged by the caller's tape.
        """
        targets = [node.func for node in own_nodes(local_fn.node) if isinstance(node, ast.Call)
                   and any(kw.arg == "training" and is_name(kw.value, "training") for kw in node.keywords)]
        if not targets:
            return None if ctx.unknown else False
        results = [self._forwarded_trained(func, local_fn, ctx, call, scope) for func in targets]
        if all(r is True for r in results):
            return True
        if any(r is False for r in results) and not ctx.unknown:
            return False
        return None if ctx.unknown else False

    def _forwarded_trained(self, func: ast.AST, local_fn: TrainingFn, ctx: Context, call: ast.Call,
                           scope: Scope) -> bool | None:
        """Whether the model a training function forwards `training` to is trained in the caller's context."""
        passed = passed_for(func, local_fn.node, call, local_fn.offset, param_names(local_fn.node))
        if passed is not None:
            key = self.ev.model_key(passed, scope)
        elif local_fn.evidence is self.ev:
            key = self.ev.model_key(func, local_fn.scope)
        else:
            return None
        return self.trained(key, ctx) if key is not None else None


def _deliberate_in(node: ast.AST) -> list[ast.Call]:
    """The calls of an if/else whose other branch calls the same callee with `training=`."""
    if isinstance(node, ast.If) and node.orelse:
        branches: tuple[list[ast.stmt], ...] | tuple[list[ast.expr], ...] = (node.body, node.orelse)
    elif isinstance(node, ast.IfExp):
        branches = ([node.body], [node.orelse])
    else:
        return []
    calls = [[n for stmt in branch for n in ast.walk(stmt) if isinstance(n, ast.Call)] for branch in branches]
    explicit = [{ast.dump(c.func) for c in group if any(k.arg == "training" for k in c.keywords)} for group in calls]
    return [c for mine, theirs in ((0, 1), (1, 0)) for c in calls[mine]
            if not any(k.arg == "training" for k in c.keywords) and ast.dump(c.func) in explicit[theirs]]
