"""Which expressions are certainly Keras models or layers.

Evidence comes from imports and bindings (never from spelling): a Keras
constructor, a local Keras subclass, a local factory returning one, a
configured factory, `load_model`, differentiated weights, or a call elsewhere
with `training=`. Anything else is unknown and is never rewritten.
"""
from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .keras_names import EXTERNAL_LAYERS, FOREIGN_FRAMEWORKS, canonical_keras, is_keras_model_class, is_not_model, \
    returns_model
from .scope import Binding, Scope, ScopeTree, own_nodes, param_names

if TYPE_CHECKING:
    from .project import Project, Symbol

WEIGHT_ATTRS = {"trainable_variables", "trainable_weights", "variables", "weights"}
KERAS_WEIGHT_ATTRS = {"trainable_weights", "non_trainable_weights"}  # no tf.Module, Sonnet or torch module has these


class Evidence:
    """Lazily evaluated, memoised model evidence for one module."""

    def __init__(self, tree: ScopeTree, factories: tuple[str, ...], project: Project | None = None,
                 module_key: str | None = None):
        self.t = tree
        self.factories = factories
        self.project = project
        self.module_key = module_key
        # Differentiated or used weights prove a Keras model only in Keras code: a
        # tf.Module or a Sonnet module has trainable_variables too and no `training`.
        # Keras use is proven by code (imports, `tf.keras` attributes), never by a word in a comment.
        self.foreign = any(name.lstrip(".").split(".")[0] in FOREIGN_FRAMEWORKS for name in tree.imports)
        self.weights_prove_models = not self.foreign and _uses_keras(tree)
        self._memo: dict = {}
        self.differentiated: set = set()  # owner keys whose weights some gradient uses
        self.called_with_training: set = set()  # model keys called with training=
        self._collect_class_facts()
        self._collect_training_calls()
        # `x.trainable_weights` is Keras' own API (a tf.Module has trainable_variables only): proof by itself
        self.keras_weights = set() if self.foreign else {
            self.model_key(node.value, scope) for node, scope in tree.attr_loads if node.attr in KERAS_WEIGHT_ATTRS}

    # -- generic memo with cycle guard ---------------------------------------
    def _cached(self, key, compute):
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = False  # a cycle proves nothing
        value = compute()
        self._memo[key] = value
        return value

    # -- the project index ----------------------------------------------------------
    def external(self, qualname: str | None) -> Symbol | None:
        """What an imported dotted name is in the project (None: not a project name, or unknown)."""
        if self.project is None or self.module_key is None or not qualname or canonical_keras(qualname):
            return None
        symbol = self.project.lookup(self.module_key, qualname)
        if symbol is not None and symbol.kind == "external":
            return None if symbol.qualname == qualname else symbol
        return symbol

    def star_symbol(self, name: str) -> Symbol | None:
        """What an otherwise unbound name is in the project module a `from M import *` names."""
        if name in BUILTIN_NAMES:
            return None
        found = [s for s in (self.external(f"{m}.{name}") for m in self.t.star_imports) if s is not None]
        return found[0] if len(found) == 1 else None

    def qual_returns_model(self, qualname: str) -> bool:
        if returns_model(qualname, self.factories):
            return True
        symbol = self.external(qualname)
        if symbol is None:
            return False
        if symbol.kind == "external":
            return returns_model(symbol.qualname, self.factories)
        return symbol.kind in ("keras_class", "factory")

    def qual_not_model(self, qualname: str) -> bool:
        if is_not_model(qualname):
            return True
        symbol = self.external(qualname)
        if symbol is None:
            return False
        if symbol.kind == "external":
            return is_not_model(symbol.qualname)
        return symbol.kind in ("class", "nonmodel_factory", "module")

    def qual_is_keras_class(self, qualname: str) -> bool | None:
        """True for a Keras model/layer class, False for a class proven to be something else, None unknown."""
        if is_keras_model_class(qualname):
            return True
        symbol = self.external(qualname)
        if symbol is not None and symbol.kind == "external":
            qualname, symbol = symbol.qualname, None
            if is_keras_model_class(qualname):
                return True
        if symbol is not None:
            return True if symbol.kind == "keras_class" else (False if symbol.kind == "class" else None)
        if canonical_keras(qualname) is not None or is_not_model(qualname):
            return False
        return None

    # -- callables -------------------------------------------------------------
    def resolve_callable(self, func: ast.AST, scope: Scope, depth: int = 0):
        """('qual', name) | ('class', ClassDef) | ('def', FunctionDef, Scope) | None."""
        if depth > 20:
            return None
        if isinstance(func, ast.Attribute):
            base = self.t.qualname(func.value, scope)
            return ("qual", f"{base}.{func.attr}") if base else None
        if not isinstance(func, ast.Name):
            return None
        results = []
        if not self.t.lookup(func.id, scope) and self.star_symbol(func.id) is not None:
            return ("qual", next(f"{m}.{func.id}" for m in self.t.star_imports
                                 if self.external(f"{m}.{func.id}") is not None))
        for b in self.t.lookup(func.id, scope):
            if b.kind == "import":
                results.append(("qual", b.qualname))
            elif b.kind == "def":
                results.append(("def", b.node, self.t.scope_of[b.node]))
            elif b.kind == "class":
                results.append(("class", b.node))
            elif b.kind == "assign" and isinstance(b.node, (ast.Name, ast.Attribute)):
                results.append(self.resolve_callable(b.node, b.scope, depth + 1))
            else:
                return None
        if not results or any(r is None for r in results):
            return None
        first = results[0]
        return first if all(r[:2] == first[:2] for r in results) else None

    def is_keras_class(self, cls: ast.ClassDef) -> bool:
        def compute():
            scope = self.t.scope_of[cls].parent
            unresolved = False
            for base in cls.bases:
                target = self.resolve_callable(base, scope)
                verdict = self.qual_is_keras_class(target[1]) if target and target[0] == "qual" else None
                if verdict is True:
                    return True
                if target is None or (target[0] == "qual" and verdict is None):
                    unresolved = True  # e.g. `from installed_lib.base import BaseModel`
                elif target[0] == "class" and self.is_keras_class(target[1]):
                    return True
            return unresolved and self.weights_prove_models and self._uses_model_api(cls)

        return self._cached(("class", cls), compute)

    def _uses_model_api(self, cls: ast.ClassDef) -> bool:
        """A class that trains `self.trainable_variables` with `self.optimizer` is a Keras Model."""
        facts = self.class_facts.get(cls, {})
        return facts.get("self_weights", False) and facts.get("self_optimizer", False)

    def class_is_unknown(self, cls: ast.ClassDef) -> bool:
        """A local class deriving from something this module can't resolve."""
        scope = self.t.scope_of[cls].parent
        for base in cls.bases:
            target = self.resolve_callable(base, scope)
            if target is None or (target[0] == "class" and self.class_is_unknown(target[1])):
                return True
            if target[0] == "qual" and self.qual_is_keras_class(target[1]) is None:
                return True
        return False

    def local_bases(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """`cls` and the classes of this file it derives from."""
        out, todo = [], [cls]
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.append(c)
            scope = self.t.scope_of[c].parent
            for base in c.bases:
                target = self.resolve_callable(base, scope)
                if target and target[0] == "class":
                    todo.append(target[1])
        return out

    def is_factory(self, fn: ast.AST, fn_scope: Scope) -> bool:
        """A local function whose every return value is a model."""
        return self._returns_all(fn, fn_scope, "factory", self.is_model)

    def is_nonmodel_factory(self, fn: ast.AST, fn_scope: Scope) -> bool:
        """A function every return value of which is visibly not a model (a `tf.Module`, a number)."""
        return self._returns_all(fn, fn_scope, "nonfactory", self.not_model)

    def _returns_all(self, fn: ast.AST, fn_scope: Scope, kind: str, holds) -> bool:
        def compute():
            if isinstance(fn, ast.Lambda):
                return holds(fn.body, fn_scope)
            returns = [r for r in own_nodes(fn) if isinstance(r, ast.Return)]
            return bool(returns) and all(r.value is not None and holds(r.value, fn_scope) for r in returns)

        return self._cached((kind, fn), compute)

    def call_returns_model(self, call: ast.Call, scope: Scope) -> bool:
        target = self.resolve_callable(call.func, scope)
        if target is None:
            if isinstance(call.func, ast.Name):  # `self.net = model(n_actions)`, `model` a class parameter
                bindings = self.t.lookup(call.func.id, scope)
                return len(bindings) == 1 and bindings[0].kind == "param" and \
                    self._cached(("class-param", binding_key(bindings[0])),
                                 lambda: self.param_is_keras_class(bindings[0]))
            return False
        if target[0] == "qual":
            return self.qual_returns_model(target[1])
        if target[0] == "class":
            return self.is_keras_class(target[1])
        return self.is_factory(target[1], target[2])

    def call_not_model(self, value: ast.AST, scope: Scope) -> bool:
        """A value that is visibly not a model (contradicting evidence)."""
        if isinstance(value, (ast.Lambda, ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Tuple)):
            return not (isinstance(value, ast.Constant) and value.value is None)
        if isinstance(value, ast.Call):
            target = self.resolve_callable(value.func, scope)
            if target and target[0] == "qual":
                return self.qual_not_model(target[1])
            if target and target[0] == "class":
                return not self.is_keras_class(target[1]) and not self.class_is_unknown(target[1])
            if target and target[0] == "def":
                return self.is_nonmodel_factory(target[1], target[2])
        return False

    # -- model expressions -------------------------------------------------------
    def is_model(self, expr: ast.AST, scope: Scope) -> bool:
        """`expr` certainly evaluates to a Keras model or layer."""
        if isinstance(expr, ast.Call):
            return self.call_returns_model(expr, scope)
        if isinstance(expr, ast.IfExp):
            return self.is_model(expr.body, scope) and self.is_model(expr.orelse, scope)
        if isinstance(expr, ast.Name):
            if self.t.self_class(expr, scope) is not None:
                return self.is_keras_class(self.t.self_class(expr, scope))
            return self.name_is_model(expr.id, scope)
        if isinstance(expr, ast.Attribute):
            cls = self.t.self_class(expr.value, scope)
            if cls is not None:
                return self.attr_is_model(cls, expr.attr)
            instance = self.instance_of(expr.value, scope)  # `wrapper.model`, `clf.head` of a project class
            return instance is not None and instance[1].attr_is_model(instance[0], expr.attr)
        if isinstance(expr, ast.Subscript):  # `self.heads[i]`: a list, tuple or dict of models
            return self.holds_models(expr.value, scope)
        return False

    def holds_models(self, expr: ast.AST, scope: Scope) -> bool:
        """`expr` is a list, tuple or dict every element of which is a model."""
        values = self.assigned_values(expr, scope)
        if values is None:
            values = [(expr, scope)]  # a literal list or comprehension
        elif isinstance(expr, ast.Name) and len(values) != len(self.t.lookup(expr.id, scope)):
            return False  # also bound otherwise (a parameter, a loop)
        if not values:
            return False

        def elements(value: ast.AST | None) -> list[ast.AST] | None:
            if isinstance(value, (ast.List, ast.Tuple)) and value.elts:
                return None if any(isinstance(e, ast.Starred) for e in value.elts) else list(value.elts)
            if isinstance(value, ast.Dict) and value.values and None not in value.keys:
                return list(value.values)
            if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
                return [value.elt]
            if isinstance(value, ast.DictComp):
                return [value.value]
            return None

        for value, value_scope in values:
            elts = elements(value)
            if elts is None or not all(self.is_model(e, value_scope) for e in elts):
                return False
        return True

    def name_is_model(self, name: str, scope: Scope) -> bool:
        bindings = self.t.lookup(name, scope)
        if not bindings:  # `from net import *`: a module-level model of a project module
            symbol = self.star_symbol(name)
            return symbol is not None and symbol.kind == "model"
        key = binding_key(bindings[0])

        def compute():
            positive = key in self.called_with_training or key in self.keras_weights or \
                (self.weights_prove_models and key in self.differentiated)
            for b in bindings:
                if b.kind in ("def", "class"):
                    return False
                if b.kind == "import":  # a module-level model of another project module
                    symbol = self.external(b.qualname)
                    if symbol is not None and symbol.kind != "model":
                        return False
                    positive = positive or symbol is not None
                if b.kind == "other" and b.node is not None:  # a loop over a list of models
                    positive = positive or self.holds_models(b.node, b.scope)
                if b.kind == "param":
                    annotated = self.annotation_says(b.node, b.scope)
                    if annotated is False:
                        return False
                    positive = positive or annotated is True or self.param_from_callers(b)
                if b.kind == "assign":
                    if self.call_not_model(b.node, b.scope):
                        return False
                    if self.is_model(b.node, b.scope):
                        positive = True
            # a call that passes a non-model vetoes the rest (looked up only when something is positive)
            return positive and not any(b.kind == "param" and self.param_not_model(b) for b in bindings)

        return self._cached(("name", key), compute)

    def annotation_says(self, annotation: ast.AST | None, scope: Scope) -> bool | None:
        """True for a Keras model/layer annotation, False for another class, None when absent or unclear."""
        if annotation is None:
            return None
        if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
            try:
                annotation = ast.parse(annotation.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(annotation, ast.Subscript):  # Optional[...] and the like prove nothing either way
            return None
        target = self.resolve_callable(annotation, scope)
        if target is None:
            return None
        if target[0] == "qual":
            verdict = self.qual_is_keras_class(target[1])
            return True if verdict else (False if verdict is False or self.external(target[1]) is None else None)
        if target[0] == "class":
            return self.is_keras_class(target[1])
        return None

    def param_from_callers(self, binding: Binding) -> bool:
        """A parameter is a model when every call of its function in the project passes one there.

        For a class's `__init__` the calls are its instantiations. Every use of the class
        or function name must be a call: one handed around (or subclassed) may be called
        with anything. A Keras subclass counts its instantiations in this module when the
        rest of the project can't be read (GAN(generator, discriminator)).
        """
        return self._passed_to(binding, lambda ev, value, scope: ev.is_model(value, scope))

    def param_not_model(self, binding: Binding) -> bool:
        """Some call of the function passes something visibly not a model there (`fit(NaiveSequential())`,
        a `tf.Module`): its differentiated weights prove nothing then."""
        return self._cached(("param-not", binding_key(binding)), lambda: self._passed_to(
            binding, lambda ev, value, scope: ev.not_model(value, scope), every=False))

    def param_is_keras_class(self, binding: Binding) -> bool:
        """Every call passes a Keras model *class* there (`DQN(QNetwork, ...)`, `self.net = model(n)`)."""

        def keras_class(ev: Evidence, value: ast.AST, scope: Scope) -> bool:
            target = ev.resolve_callable(value, scope)
            if target is not None and target[0] == "class":
                return ev.is_keras_class(target[1])
            return target is not None and target[0] == "qual" and ev.qual_is_keras_class(target[1]) is True

        return self._passed_to(binding, keras_class)

    def _passed_to(self, binding: Binding, proves, every: bool = True) -> bool:
        """Every call of the parameter's function passes a value that `proves` holds of (with
        `every=False`: some call does)."""
        fn = binding.scope.node
        if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return False
        cls = binding.scope.cls
        if fn.name == "__init__" and cls is not None and binding.scope.self_name is not None:
            target_def, offset = cls, 1
        elif binding.scope.self_name is None and binding.scope.parent is not None and \
                binding.scope.parent.kind == "module":
            target_def, offset = fn, 0  # a module-level function: `fit_one_epoch(net, ...)`
        else:
            return False
        calls = self._callers(target_def)
        if not calls:
            return False
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        index = params.index(binding.name) - offset if binding.name in params else None
        kwonly = binding.name in [a.arg for a in fn.args.kwonlyargs]
        if index is None and not kwonly:
            return False
        for call, scope, ev in calls:
            if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
                if every:
                    return False
                continue
            value = next((k.value for k in call.keywords if k.arg == binding.name), None)
            if value is None and index is not None and 0 <= index < len(call.args):
                value = call.args[index]
            holds = value is not None and proves(ev, value, scope)
            if holds != every:
                return holds
        return every

    def _callers(self, target_def: ast.AST) -> list | None:
        """Calls of a class or function of this module, here and in the rest of the project."""
        name = target_def.name
        calls = []
        for node, scope in self.t.name_loads.get(name, ()):
            if not any(b.node is target_def for b in self.t.lookup(name, scope)) or self.type_only(node):
                continue
            call = self.t.call_of.get(id(node))
            if call is None:
                return None
            calls.append((call, scope, self))
        top = self.t.scope_of[target_def].parent
        if top is None or top.kind != "module" or self.project is None or self.module_key is None:
            # nothing else can call it, or nothing else can be read: a Keras subclass keeps its
            # instantiations here; anything else proves nothing
            return calls if top is not None and (top.kind != "module" or isinstance(target_def, ast.ClassDef)
                                                 and self.is_keras_class(target_def)) else None
        remote = self.project.callers(self.module_key, target_def)
        if remote is None:
            return calls if isinstance(target_def, ast.ClassDef) and self.is_keras_class(target_def) else None
        return calls + remote

    def not_model(self, value: ast.AST, scope: Scope) -> bool:
        """Visibly not a model: a non-model value, or a name bound to one (or annotated as another class)."""
        if self.call_not_model(value, scope):
            return True
        if isinstance(value, ast.Name):
            for b in self.t.lookup(value.id, scope):
                if b.kind == "param" and (self.annotation_says(b.node, b.scope) is False or self.param_not_model(b)):
                    return True
                if b.kind == "assign" and self.call_not_model(b.node, b.scope):
                    return True
        return False

    def instance_of(self, expr: ast.AST, scope: Scope) -> tuple[ast.ClassDef, Evidence] | None:
        """The class (of this module or another project module) a plain name is an instance of."""
        if not isinstance(expr, ast.Name) or self.t.self_class(expr, scope) is not None:
            return None
        bindings = self.t.lookup(expr.id, scope)
        if not bindings or any(b.kind != "assign" or not isinstance(b.node, ast.Call) for b in bindings):
            return None
        found = set()
        for b in bindings:
            target = self.resolve_callable(b.node.func, b.scope)
            if target is not None and target[0] == "class":
                found.add((target[1], self))
            elif target is not None and target[0] == "qual":
                symbol = self.external(target[1])
                if symbol is None or symbol.kind not in ("keras_class", "class") or symbol.module is None:
                    return None
                found.add((symbol.node, symbol.module.evidence))
            else:
                return None
        return found.pop() if len(found) == 1 else None

    def assigned_values(self, expr: ast.AST, scope: Scope) -> list[tuple[ast.AST | None, Scope]] | None:
        """(value, scope) of every assignment to a name, or to `self.attr` in the class and its local
        bases; None for any other expression."""
        if isinstance(expr, ast.Name):
            return [(b.node, b.scope) for b in self.t.lookup(expr.id, scope) if b.kind == "assign"]
        cls = self.t.self_class(expr.value, scope) if isinstance(expr, ast.Attribute) else None
        if cls is None:
            return None
        return [v for c in self.local_bases(cls) for v in self.class_facts.get(c, {}).get("stores", {})
                .get(expr.attr, ())]

    def local_class_of(self, expr: ast.AST, scope: Scope) -> ast.ClassDef | None:
        """The class of this module that `self`, `self.attr` or a name is an instance of, if provable."""
        cls = self.t.self_class(expr, scope)
        if cls is not None:
            return cls
        values = self.assigned_values(expr, scope)
        if values is None:
            return None
        classes = set()
        for value, value_scope in values:
            target = self.resolve_callable(value.func, value_scope) if isinstance(value, ast.Call) else None
            classes.add(target[1] if target and target[0] == "class" else None)
        return classes.pop() if len(classes) == 1 else None

    def call_signature(self, cls: ast.ClassDef) -> list[str] | None:
        """Positional parameters of the class's own `call` (after self), None when inherited from elsewhere."""
        for c in self.local_bases(cls):
            for node in c.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == "call":
                    return [a.arg for a in [*node.args.posonlyargs, *node.args.args]][1:]
        return None

    def why_not_model(self, func: ast.AST, scope: Scope) -> str:
        """For --show-skipped: what a callee that is not provably a model is, when visible."""
        values = []
        if isinstance(func, ast.Name):
            bindings = self.t.lookup(func.id, scope)
            if any(b.kind == "def" for b in bindings):
                return "a local function without a `training` parameter"
            values = [(b.node, b.scope) for b in bindings if b.kind == "assign"]
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                self.t.self_class(func.value, scope) is None:
            owner = self.why_not_model(func.value, scope)
            if owner.startswith("bound to"):
                return f"a method of an object {owner}"
        elif isinstance(func, ast.Attribute) and self.t.self_class(func.value, scope) is not None:
            cls = self.t.self_class(func.value, scope)
            values = [v for c in self.local_bases(cls) for v in self.class_facts.get(c, {}).get("stores", {})
                      .get(func.attr, ()) if v[0] is not None]
        params = []
        if isinstance(func, ast.Name):
            params = [b for b in self.t.lookup(func.id, scope) if b.kind == "param"]
        for value, value_scope in values:
            if isinstance(value, ast.Lambda):
                return "a lambda, not a Keras model"
            if isinstance(value, ast.Call):
                target = self.resolve_callable(value.func, value_scope)
                if target and target[0] == "qual" and self.qual_not_model(target[1]):
                    return f"bound to `{target[1]}(...)`, not a Keras model"
            if isinstance(value, ast.Name):
                params += [b for b in self.t.lookup(value.id, value_scope) if b.kind == "param"]
        if params:
            return "unknown callee: " + self._why_param(params[0])
        return "unknown callee: nothing proves it is a Keras model"

    def _why_param(self, binding: Binding) -> str:
        """Why a parameter is not proven a model, naming what was looked for."""
        fn, cls = binding.scope.node, binding.scope.cls
        what = f"`{binding.name}` is a parameter of `{getattr(fn, 'name', 'lambda')}`"
        if getattr(fn, "name", None) == "__init__" and cls is not None:
            target, kind = cls, f"instantiation of `{cls.name}`"
            what = f"`{binding.name}` is an `__init__` parameter"
        else:
            target, kind = fn, f"call of `{getattr(fn, 'name', 'lambda')}`"
        if not isinstance(target, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            return f"{what}, and nothing proves what is passed"
        calls = self._callers(target)
        if calls is None:
            return f"{what}, and `{target.name}` is used other than by calls (passed around, subclassed, " \
                   "or in files not read)"
        if not calls:
            return f"{what} and no {kind} was found"
        return f"{what}, and not every {kind} passes a Keras model there"

    def type_only(self, node: ast.AST) -> bool:
        """`super(Cls, self)`, `isinstance(x, Cls)`: reads that never build an instance."""
        call = self.t.arg_of.get(id(node))
        return call is not None and isinstance(call.func, ast.Name) and \
            call.func.id in ("super", "isinstance", "issubclass")

    def attr_is_model(self, cls: ast.ClassDef, attr: str) -> bool:
        def compute():
            facts = [self.class_facts.get(c, {}) for c in self.local_bases(cls)]
            values = [v for f in facts for v in f.get("stores", {}).get(attr, ())]
            if any(value is None or self.not_model(value, scope) for value, scope in values):
                return False
            weights_prove = self.weights_prove_models or self.is_keras_class(cls)
            if weights_prove and any(attr in f.get("weights", ()) for f in facts):
                return True
            if not self.foreign and any(attr in f.get("keras_weights", ()) for f in facts):
                return True
            if ("attr", cls, attr) in self.called_with_training:  # `self.encoder(x, training=training)`
                return True
            return any(self.is_model(value, scope) for value, scope in values)

        return self._cached(("attr", cls, attr), compute)

    def is_frozen(self, cls: ast.ClassDef, attr: str) -> bool:
        return any(attr in self.class_facts.get(c, {}).get("frozen", ()) for c in self.local_bases(cls))

    # -- keys identify a model across the module -------------------------------
    def model_key(self, expr: ast.AST, scope: Scope):
        """A hashable identity for `name`, `self` or `self.attr`; None otherwise."""
        if isinstance(expr, ast.Name):
            cls = self.t.self_class(expr, scope)
            if cls is not None:
                return ("self", cls)
            bindings = self.t.lookup(expr.id, scope)
            if not bindings:
                return ("star", expr.id) if self.star_symbol(expr.id) is not None else None
            return binding_key(bindings[0])
        if isinstance(expr, ast.Attribute):
            cls = self.t.self_class(expr.value, scope)
            if cls is not None:
                return ("attr", cls, expr.attr)
            if isinstance(expr.value, ast.Name):  # `wrapper.model`: the attribute of one binding
                bindings = self.t.lookup(expr.value.id, scope)
                return ("nattr", binding_key(bindings[0]), expr.attr) if bindings else None
        if isinstance(expr, ast.Subscript):  # an element of a container of models: the container's identity
            return self.model_key(expr.value, scope)
        return None

    def training_callable(self, func: ast.AST, scope: Scope, depth: int = 0) -> TrainingFn | None:
        """The project function or method a call of `func` runs, when it takes a `training` parameter.

        A local function, one imported from another project module, a method of
        `self`'s class, or `functools.partial` / `jax.value_and_grad` / `jax.grad`
        of one of those (the wrapper's calls take `training` too).
        """
        if depth > 5:
            return None
        if isinstance(func, ast.Attribute):
            cls = self.t.self_class(func.value, scope)
            if cls is not None:
                method = self.method(cls, func.attr)
                if method is not None and "training" in param_names(method) and \
                        not _is_static(method):
                    return TrainingFn(method, self.t.scope_of[method], self, 1)
                return None
            base = self.t.qualname(func.value, scope)
            return self._imported_training_fn(f"{base}.{func.attr}") if base else None
        if not isinstance(func, ast.Name):
            return None
        bindings = self.t.lookup(func.id, scope)
        if len(bindings) != 1:
            return None
        b = bindings[0]
        if b.kind == "def" and "training" in param_names(b.node):
            return TrainingFn(b.node, self.t.scope_of[b.node], self, 0)
        if b.kind == "import":
            return self._imported_training_fn(b.qualname)
        if b.kind == "assign" and isinstance(b.node, ast.Call) and b.node.args and \
                self.t.qualname(b.node.func, b.scope) in WRAPPERS:
            wrapped = b.node.args[0]
            inner = self.training_callable(wrapped, b.scope, depth + 1)
            if inner is None or any(k.arg == "training" or k.arg is None for k in b.node.keywords) or \
                    any(isinstance(a, ast.Starred) for a in b.node.args):
                return None
            if self.t.qualname(b.node.func, b.scope) == "functools.partial":
                wrapper = TrainingFn(inner.node, inner.scope, inner.evidence, inner.offset + len(b.node.args) - 1,
                                     inner.bound | frozenset(k.arg for k in b.node.keywords))
                slot = wrapper.slot
                return None if slot is not None and slot < 0 else wrapper  # training bound positionally
            return inner
        return None

    def _imported_training_fn(self, qualname: str | None) -> TrainingFn | None:
        symbol = self.external(qualname)
        if symbol is None or symbol.kind != "training_function" or symbol.module is None:
            return None
        return TrainingFn(symbol.node, symbol.module.tree.scope_of[symbol.node], symbol.module.evidence, 0)

    def method(self, cls: ast.ClassDef, name: str) -> ast.FunctionDef | None:
        """`cls`'s own method `name`, or one inherited from a class of this file."""
        for c in self.local_bases(cls):
            for node in c.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                    return node
        return None

    def is_pretrained(self, expr: ast.AST, scope: Scope) -> bool:
        """Built from pretrained weights: `keras.applications.*` without `weights=None`, `from_preset`,
        `from_pretrained`, `load_model`, `hub.KerasLayer` (the fine-tuning idiom keeps its BatchNorm frozen)."""
        values = self.assigned_values(expr, scope)
        return bool(values) and all(self._pretrained_value(v, s) for v, s in values)

    def _pretrained_value(self, value: ast.AST | None, scope: Scope) -> bool:
        if not isinstance(value, ast.Call):
            return False
        if isinstance(value.func, ast.Attribute) and value.func.attr in ("from_preset", "from_pretrained"):
            return True
        qual = self.t.qualname(value.func, scope)
        canon = canonical_keras(qual)
        if canon in ("keras.models.load_model", "keras.saving.load_model") or qual in EXTERNAL_LAYERS:
            return True
        if canon and canon.startswith("keras.applications.") and canon.split(".")[-1][:1].isupper():
            weights = next((k.value for k in value.keywords if k.arg == "weights"), None)
            return not (isinstance(weights, ast.Constant) and weights.value is None)
        return False

    # -- facts collected once ------------------------------------------------------
    def _collect_class_facts(self) -> None:
        self.class_facts: dict = {}
        for target, value, scope in self.t.attr_stores:
            cls = self.t.self_class(target.value, scope)
            if cls is not None:
                facts = self.class_facts.setdefault(cls, {})
                facts.setdefault("stores", {}).setdefault(target.attr, []).append((value, scope))
            # `self.backbone.trainable = False`: a sub-layer that self.trainable_variables excludes
            if target.attr == "trainable" and isinstance(value, ast.Constant) and value.value is False \
                    and isinstance(target.value, ast.Attribute):
                owner_cls = self.t.self_class(target.value.value, scope)
                if owner_cls is not None:
                    self.class_facts.setdefault(owner_cls, {}).setdefault("frozen", set()).add(target.value.attr)
        for node, scope in self.t.attr_loads:
            if node.attr in WEIGHT_ATTRS and isinstance(node.value, ast.Attribute):
                cls = self.t.self_class(node.value.value, scope)
                if cls is not None:
                    self.class_facts.setdefault(cls, {}).setdefault("weights", set()).add(node.value.attr)
                    if node.attr in KERAS_WEIGHT_ATTRS:
                        self.class_facts[cls].setdefault("keras_weights", set()).add(node.value.attr)
            elif node.attr in ("trainable_variables", "trainable_weights", "optimizer"):
                cls = self.t.self_class(node.value, scope)
                if cls is not None:
                    fact = "self_optimizer" if node.attr == "optimizer" else "self_weights"
                    self.class_facts.setdefault(cls, {})[fact] = True

    def _collect_training_calls(self) -> None:
        for call, scope in self.t.calls:
            if any(k.arg == "training" for k in call.keywords):
                func = call.func
                # names and attributes holding objects: methods such as Keras 3's `self.compute_loss`
                # take `training` too, so an attribute named like a method of the class proves nothing
                if isinstance(func, ast.Name):
                    key = self.model_key(func, scope)
                    if key is not None and key[0] == "name":
                        self.called_with_training.add(key)
                elif isinstance(func, ast.Attribute):
                    cls = self.t.self_class(func.value, scope)
                    if cls is not None and self.method(cls, func.attr) is None and \
                            func.attr in self.class_facts.get(cls, {}).get("stores", {}):
                        self.called_with_training.add(("attr", cls, func.attr))


WRAPPERS = {"functools.partial", "jax.value_and_grad", "jax.grad"}


class TrainingFn:
    """A project function that takes `training`: its definition, where it lives, and how a call's
    positional arguments line up with its parameters (`offset`: a method's `self`, a partial's bound args)."""

    __slots__ = ("node", "scope", "evidence", "offset", "bound")

    def __init__(self, node, scope: Scope, evidence: "Evidence", offset: int, bound: frozenset = frozenset()):
        self.node, self.scope, self.evidence, self.offset, self.bound = node, scope, evidence, offset, bound

    @property
    def slot(self) -> int | None:
        """The positional index at which a call passes `training`, None when it can't positionally."""
        params = [a.arg for a in [*self.node.args.posonlyargs, *self.node.args.args]]
        if "training" not in params or any(p in self.bound for p in params[:params.index("training")]):
            return None
        return params.index("training") - self.offset


def _is_static(fn: ast.AST) -> bool:
    return any(getattr(d, "id", None) in ("staticmethod", "classmethod") for d in fn.decorator_list)


def binding_key(binding: Binding):
    return ("name", id(binding.scope), binding.name)


BUILTIN_NAMES = frozenset(dir(__import__("builtins")))


def _uses_keras(tree: ScopeTree) -> bool:
    """The module's code names Keras: an import of it, or a `tf.keras` attribute."""
    for scope in tree.scope_of.values():
        for bindings in scope.bindings.values():
            if any(b.kind == "import" and canonical_keras(b.qualname) for b in bindings):
                return True
    return any(node.attr == "keras" and canonical_keras(tree.qualname(node, scope))
               for node, scope in tree.attr_loads)
