"""Which expressions are certainly Keras models or layers.

Evidence comes from imports and bindings (never from spelling): a Keras
constructor, a local Keras subclass, a local factory returning one, a
configured factory, `load_model`, differentiated weights, or a call elsewhere
with `training=`. Anything else is unknown and is never rewritten.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from .keras_names import canonical_keras, is_keras_model_class, is_not_model, returns_model
from .keys import AttrKey, ModelKey, NamedAttrKey, SelfKey, StarKey, binding_key
from .module_facts import KERAS_WEIGHT_ATTRS, NO_FACTS, ClassFacts, collect_class_facts, uses_foreign_framework, \
    uses_keras
from .scope import Binding, Scope, ScopeTree, own_nodes
from .syntax import Definition, FunctionNode, ParamSlot, called_definition, literal_elements, unpacks
from .targets import ClassTarget, DefTarget, QualTarget, SymbolKind, Target


@dataclass(frozen=True)
class Symbol:
    """What a name imported from another project module is (the project index's answer)."""

    kind: SymbolKind
    node: ast.AST | None = None  # the definition, for classes and functions
    module: Module | None = None
    qualname: str | None = None  # for "external"


@dataclass(eq=False)
class Module:
    """A project module as analysed: its scopes and evidence."""

    key: str
    tree: ScopeTree
    evidence: Evidence
    source: str = ""


class Caller(NamedTuple):
    """A call of a class or function, with its scope and the evidence of the module it is in."""

    call: ast.Call
    scope: Scope
    evidence: Evidence


class ProjectIndex(Protocol):
    """What the evidence asks of the rest of the project (implemented by `project.Project`)."""

    def lookup(self, importer: str, qualname: str) -> Symbol | None:
        """What the dotted name `qualname`, as imported in module `importer`, is in the project."""

    def callers(self, key: str, definition: Definition) -> list[Caller] | None:
        """The calls of a module-level definition of module `key` in the project's other modules."""


Proves = Callable[["Evidence", ast.AST, Scope], bool]  # a judgment of a value passed in a call


class Evidence:
    """Lazily evaluated, memoised model evidence for one module."""

    def __init__(self, tree: ScopeTree, factories: tuple[str, ...], project: ProjectIndex | None = None,
                 module_key: str | None = None):
        self.t = tree
        self.factories = factories
        self.project = project
        self.module_key = module_key
        # Differentiated or used weights prove a Keras model only in Keras code: a
        # tf.Module or a Sonnet module has trainable_variables too and no `training`.
        # Keras use is proven by code (imports, `tf.keras` attributes), never by a word in a comment.
        self.foreign = uses_foreign_framework(tree)
        self.weights_prove_models = not self.foreign and uses_keras(tree)
        self._memo: dict[Hashable, bool] = {}
        self.differentiated: set[ModelKey] = set()  # owner keys whose weights some gradient uses
        self.called_with_training: set[ModelKey] = set()  # model keys called with training=
        self.class_facts = collect_class_facts(tree)
        self._collect_training_calls()
        # `x.trainable_weights` is Keras' own API (a tf.Module has trainable_variables only): proof by itself
        self.keras_weights: set[ModelKey | None] = set() if self.foreign else {
            self.model_key(node.value, scope) for node, scope in tree.attr_loads if node.attr in KERAS_WEIGHT_ATTRS}

    # -- generic memo with cycle guard ---------------------------------------
    def _cached(self, key: Hashable, compute: Callable[[], bool]) -> bool:
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = False  # a cycle proves nothing
        value = compute()
        self._memo[key] = value
        return value

    def facts(self, cls: ast.ClassDef) -> ClassFacts:
        """What the methods of `cls` itself do with `self`'s attributes."""
        return self.class_facts.get(cls, NO_FACTS)

    def stores(self, cls: ast.ClassDef, attr: str) -> list[tuple[ast.AST | None, Scope]]:
        """(value, scope) of every `self.attr = value` in `cls` and its local bases."""
        return [v for c in self.local_bases(cls) for v in self.facts(c).stores.get(attr, ())]

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

    def qual_is_keras_class(self, qualname: str | None) -> bool | None:
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
    def resolve_callable(self, func: ast.AST, scope: Scope, depth: int = 0) -> Target | None:
        """What a callee expression is: a dotted name, a class or a function of this module; None unknown."""
        if depth > 20:
            return None
        if isinstance(func, ast.Attribute):
            base = self.t.qualname(func.value, scope)
            return QualTarget("qual", f"{base}.{func.attr}") if base else None
        if not isinstance(func, ast.Name):
            return None
        if not self.t.lookup(func.id, scope) and self.star_symbol(func.id) is not None:
            return QualTarget("qual", next(f"{m}.{func.id}" for m in self.t.star_imports
                                           if self.external(f"{m}.{func.id}") is not None))
        results: list[Target | None] = []
        for b in self.t.lookup(func.id, scope):
            if not _may_be_callable(b):
                return None
            results.append(self._binding_target(b, depth))
        if not results or any(r is None for r in results):
            return None
        first = results[0]
        return first if all(r is not None and first is not None and r[:2] == first[:2] for r in results) else None

    def _binding_target(self, b: Binding, depth: int) -> Target | None:
        if b.kind == "import" and b.qualname is not None:
            return QualTarget("qual", b.qualname)
        if b.kind == "def" and isinstance(b.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return DefTarget("def", b.node, self.t.scope_of[b.node])
        if b.kind == "class" and isinstance(b.node, ast.ClassDef):
            return ClassTarget("class", b.node)
        if b.kind == "assign" and isinstance(b.node, (ast.Name, ast.Attribute)):
            return self.resolve_callable(b.node, b.scope, depth + 1)
        return None

    def _base_targets(self, cls: ast.ClassDef) -> Iterator[Target | None]:
        """What each base of a class resolves to, one at a time (a verdict may need only the first)."""
        scope = self.t.scope_of[cls].parent
        for base in cls.bases:
            yield self.resolve_callable(base, scope) if scope is not None else None

    def is_keras_class(self, cls: ast.ClassDef) -> bool:
        def compute() -> bool:
            unresolved = False
            for target in self._base_targets(cls):
                verdict = self.qual_is_keras_class(target.name) if target and target.kind == "qual" else None
                if verdict is True:
                    return True
                if target is None or (target.kind == "qual" and verdict is None):
                    unresolved = True  # e.g. `from installed_lib.base import BaseModel`
                elif target.kind == "class" and self.is_keras_class(target.node):
                    return True
            return unresolved and self.weights_prove_models and self._uses_model_api(cls)

        return self._cached(("class", cls), compute)

    def _uses_model_api(self, cls: ast.ClassDef) -> bool:
        """A class that trains `self.trainable_variables` with `self.optimizer` is a Keras Model."""
        facts = self.facts(cls)
        return facts.self_weights and facts.self_optimizer

    def class_is_unknown(self, cls: ast.ClassDef) -> bool:
        """A local class deriving from something this module can't resolve."""
        for target in self._base_targets(cls):
            if target is None or (target.kind == "class" and self.class_is_unknown(target.node)):
                return True
            if target.kind == "qual" and self.qual_is_keras_class(target.name) is None:
                return True
        return False

    def local_bases(self, cls: ast.ClassDef) -> list[ast.ClassDef]:
        """`cls` and the classes of this file it derives from."""
        out: list[ast.ClassDef] = []
        todo = [cls]
        while todo:
            c = todo.pop()
            if c in out:
                continue
            out.append(c)
            todo += [target.node for target in self._base_targets(c) if target and target.kind == "class"]
        return out

    def is_factory(self, fn: FunctionNode | ast.Lambda, fn_scope: Scope) -> bool:
        """A local function whose every return value is a model."""
        return self._returns_all(fn, fn_scope, "factory", self.is_model)

    def is_nonmodel_factory(self, fn: FunctionNode | ast.Lambda, fn_scope: Scope) -> bool:
        """A function every return value of which is visibly not a model (a `tf.Module`, a number)."""
        return self._returns_all(fn, fn_scope, "nonfactory", self.not_model)

    def _returns_all(self, fn: FunctionNode | ast.Lambda, fn_scope: Scope, kind: str,
                     holds: Callable[[ast.AST, Scope], bool]) -> bool:
        def compute() -> bool:
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
        if target.kind == "qual":
            return self.qual_returns_model(target.name)
        if target.kind == "class":
            return self.is_keras_class(target.node)
        return self.is_factory(target.node, target.scope)

    def call_not_model(self, value: ast.AST | None, scope: Scope) -> bool:
        """A value that is visibly not a model (contradicting evidence)."""
        if isinstance(value, (ast.Lambda, ast.Constant, ast.JoinedStr, ast.List, ast.Dict, ast.Tuple)):
            return not (isinstance(value, ast.Constant) and value.value is None)
        if isinstance(value, ast.Call):
            target = self.resolve_callable(value.func, scope)
            if target and target.kind == "qual":
                return self.qual_not_model(target.name)
            if target and target.kind == "class":
                return not self.is_keras_class(target.node) and not self.class_is_unknown(target.node)
            if target and target.kind == "def":
                return self.is_nonmodel_factory(target.node, target.scope)
        return False

    # -- model expressions -------------------------------------------------------
    def is_model(self, expr: ast.AST, scope: Scope) -> bool:
        """`expr` certainly evaluates to a Keras model or layer."""
        if isinstance(expr, ast.Call):
            return self.call_returns_model(expr, scope)
        if isinstance(expr, ast.IfExp):
            return self.is_model(expr.body, scope) and self.is_model(expr.orelse, scope)
        if isinstance(expr, ast.Name):
            cls = self.t.self_class(expr, scope)
            if cls is not None:
                return self.is_keras_class(cls)
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
        for value, value_scope in values:
            elts = literal_elements(value)
            if elts is None or not all(self.is_model(e, value_scope) for e in elts):
                return False
        return True

    def name_is_model(self, name: str, scope: Scope) -> bool:
        bindings = self.t.lookup(name, scope)
        if not bindings:  # `from net import *`: a module-level model of a project module
            symbol = self.star_symbol(name)
            return symbol is not None and symbol.kind == "model"
        key = binding_key(bindings[0])

        def compute() -> bool:
            positive = key in self.called_with_training or key in self.keras_weights or \
                (self.weights_prove_models and key in self.differentiated)
            for b in bindings:
                verdict = self._binding_says(b, positive)
                if verdict is False:
                    return False
                positive = positive or verdict is True
            # a call that passes a non-model vetoes the rest (looked up only when something is positive)
            return positive and not any(b.kind == "param" and self.param_not_model(b) for b in bindings)

        return self._cached(("name", key), compute)

    def _binding_says(self, b: Binding, known: bool) -> bool | None:
        """What one binding of a name proves: a model (True), not one (False), or nothing (None).
        With `known` (another binding proved a model) only contradictions are looked for."""
        if b.kind in ("def", "class"):
            return False
        if b.kind == "import":  # a module-level model of another project module
            symbol = self.external(b.qualname)
            return None if symbol is None else symbol.kind == "model"
        if b.kind == "other" and b.node is not None:  # a loop over a list of models
            return None if known else self.holds_models(b.node, b.scope) or None
        if b.kind == "param":
            annotated = self.annotation_says(b.node, b.scope)
            if annotated is False or known:
                return annotated
            return annotated is True or self.param_from_callers(b) or None
        if b.kind == "assign":
            if self.call_not_model(b.node, b.scope):
                return False
            return b.node is not None and self.is_model(b.node, b.scope) or None
        return None

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
        if target.kind == "qual":
            verdict = self.qual_is_keras_class(target.name)
            return True if verdict else (False if verdict is False or self.external(target.name) is None else None)
        if target.kind == "class":
            return self.is_keras_class(target.node)
        return None

    # -- parameters: what the calls of their function pass ---------------------------
    def param_from_callers(self, binding: Binding) -> bool:
        """A parameter is a model when every call of its function in the project passes one there.

        For a class's `__init__` the calls are its instantiations. Every use of the class
        or function name must be a call: one handed around (or subclassed) may be called
        with anything. A Keras subclass counts its instantiations in this module when the
        rest of the project can't be read (GAN(generator, discriminator)).
        """
        return self.passed_to(binding, lambda ev, value, scope: ev.is_model(value, scope))

    def param_not_model(self, binding: Binding) -> bool:
        """Some call of the function passes something visibly not a model there (`fit(NaiveSequential())`,
        a `tf.Module`): its differentiated weights prove nothing then."""
        return self._cached(("param-not", binding_key(binding)), lambda: self.passed_to(
            binding, lambda ev, value, scope: ev.not_model(value, scope), every=False))

    def param_is_keras_class(self, binding: Binding) -> bool:
        """Every call passes a Keras model *class* there (`DQN(QNetwork, ...)`, `self.net = model(n)`)."""

        def keras_class(ev: Evidence, value: ast.AST, scope: Scope) -> bool:
            target = ev.resolve_callable(value, scope)
            if target is not None and target.kind == "class":
                return ev.is_keras_class(target.node)
            return target is not None and target.kind == "qual" and ev.qual_is_keras_class(target.name) is True

        return self.passed_to(binding, keras_class)

    def passed_to(self, binding: Binding, proves: Proves, every: bool = True) -> bool:
        """Every call of the parameter's function passes a value that `proves` holds of (with
        `every=False`: some call does)."""
        called = called_definition(binding)
        if called is None:
            return False
        fn, definition, offset = called
        calls = self.callers(definition)
        slot = ParamSlot.of(fn, binding.name, offset) if calls else None
        if not calls or slot is None:
            return False
        for call, scope, ev in calls:
            if unpacks(call):
                if every:
                    return False
                continue
            value = slot.value(call)
            holds = value is not None and proves(ev, value, scope)
            if holds != every:
                return holds
        return every

    def callers(self, definition: Definition) -> list[Caller] | None:
        """Calls of a class or function of this module, here and in the rest of the project; None when
        some use of it is not a call (or, outside this module, can't be read)."""
        calls = self._local_callers(definition)
        if calls is None:
            return None
        top = self.t.scope_of[definition].parent
        if top is None or top.kind != "module" or self.project is None or self.module_key is None:
            # nothing else can call it, or nothing else can be read: a Keras subclass keeps its
            # instantiations here; anything else proves nothing
            return calls if top is not None and (top.kind != "module" or isinstance(definition, ast.ClassDef)
                                                 and self.is_keras_class(definition)) else None
        remote = self.project.callers(self.module_key, definition)
        if remote is None:
            return calls if isinstance(definition, ast.ClassDef) and self.is_keras_class(definition) else None
        return calls + remote

    def _local_callers(self, definition: Definition) -> list[Caller] | None:
        name = definition.name
        calls = []
        for node, scope in self.t.name_loads.get(name, ()):
            if not any(b.node is definition for b in self.t.lookup(name, scope)) or self.type_only(node):
                continue
            call = self.t.call_of.get(id(node))
            if call is None:
                return None
            calls.append(Caller(call, scope, self))
        return calls

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

    # -- instances of project classes ---------------------------------------------
    def instance_of(self, expr: ast.AST, scope: Scope) -> tuple[ast.ClassDef, Evidence] | None:
        """The class (of this module or another project module) a plain name is an instance of."""
        if not isinstance(expr, ast.Name) or self.t.self_class(expr, scope) is not None:
            return None
        bindings = self.t.lookup(expr.id, scope)
        if not bindings or any(b.kind != "assign" or not isinstance(b.node, ast.Call) for b in bindings):
            return None
        found = set()
        for b in bindings:
            instance = self._constructed(b)
            if instance is None:
                return None
            found.add(instance)
        return found.pop() if len(found) == 1 else None

    def _constructed(self, b: Binding) -> tuple[ast.ClassDef, Evidence] | None:
        """The project class a binding `name = Cls(...)` instantiates."""
        if b.kind != "assign" or not isinstance(b.node, ast.Call):
            return None
        target = self.resolve_callable(b.node.func, b.scope)
        if target is not None and target.kind == "class":
            return target.node, self
        if target is None or target.kind != "qual":
            return None
        symbol = self.external(target.name)
        if symbol is None or symbol.kind not in ("keras_class", "class") or symbol.module is None or \
                not isinstance(symbol.node, ast.ClassDef):
            return None
        return symbol.node, symbol.module.evidence

    def assigned_values(self, expr: ast.AST, scope: Scope) -> list[tuple[ast.AST | None, Scope]] | None:
        """(value, scope) of every assignment to a name, or to `self.attr` in the class and its local
        bases; None for any other expression."""
        if isinstance(expr, ast.Name):
            return [(b.node, b.scope) for b in self.t.lookup(expr.id, scope) if b.kind == "assign"]
        cls = self.t.self_class(expr.value, scope) if isinstance(expr, ast.Attribute) else None
        if cls is None or not isinstance(expr, ast.Attribute):
            return None
        return self.stores(cls, expr.attr)

    def method(self, cls: ast.ClassDef, name: str) -> FunctionNode | None:
        """`cls`'s own method `name`, or one inherited from a class of this file."""
        for c in self.local_bases(cls):
            for node in c.body:
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
                    return node
        return None

    def type_only(self, node: ast.AST) -> bool:
        """`super(Cls, self)`, `isinstance(x, Cls)`: reads that never build an instance."""
        call = self.t.arg_of.get(id(node))
        return call is not None and isinstance(call.func, ast.Name) and \
            call.func.id in ("super", "isinstance", "issubclass")

    def attr_is_model(self, cls: ast.ClassDef, attr: str) -> bool:
        def compute() -> bool:
            facts = [self.facts(c) for c in self.local_bases(cls)]
            values = [v for f in facts for v in f.stores.get(attr, ())]
            if any(value is None or self.not_model(value, scope) for value, scope in values):
                return False
            weights_prove = self.weights_prove_models or self.is_keras_class(cls)
            if weights_prove and any(attr in f.weights for f in facts):
                return True
            if not self.foreign and any(attr in f.keras_weights for f in facts):
                return True
            if AttrKey("attr", cls, attr) in self.called_with_training:  # `self.encoder(x, training=training)`
                return True
            return any(value is not None and self.is_model(value, scope) for value, scope in values)

        return self._cached(("attr", cls, attr), compute)

    # -- keys identify a model across the module -------------------------------
    def model_key(self, expr: ast.AST, scope: Scope) -> ModelKey | None:
        """A hashable identity for `name`, `self` or `self.attr`; None otherwise."""
        if isinstance(expr, ast.Name):
            cls = self.t.self_class(expr, scope)
            if cls is not None:
                return SelfKey("self", cls)
            bindings = self.t.lookup(expr.id, scope)
            if not bindings:
                return StarKey("star", expr.id) if self.star_symbol(expr.id) is not None else None
            return binding_key(bindings[0])
        if isinstance(expr, ast.Attribute):
            cls = self.t.self_class(expr.value, scope)
            if cls is not None:
                return AttrKey("attr", cls, expr.attr)
            if isinstance(expr.value, ast.Name):  # `wrapper.model`: the attribute of one binding
                bindings = self.t.lookup(expr.value.id, scope)
                return NamedAttrKey("nattr", binding_key(bindings[0]), expr.attr) if bindings else None
        if isinstance(expr, ast.Subscript):  # an element of a container of models: the container's identity
            return self.model_key(expr.value, scope)
        return None

    # -- facts collected once ------------------------------------------------------
    def _collect_training_calls(self) -> None:
        for call, scope in self.t.calls:
            if any(k.arg == "training" for k in call.keywords):
                func = call.func
                # names and attributes holding objects: methods such as Keras 3's `self.compute_loss`
                # take `training` too, so an attribute named like a method of the class proves nothing
                if isinstance(func, ast.Name):
                    key = self.model_key(func, scope)
                    if key is not None and key.kind == "name":
                        self.called_with_training.add(key)
                elif isinstance(func, ast.Attribute):
                    cls = self.t.self_class(func.value, scope)
                    if cls is not None and self.method(cls, func.attr) is None and \
                            func.attr in self.facts(cls).stores:
                        self.called_with_training.add(AttrKey("attr", cls, func.attr))


def _may_be_callable(b: Binding) -> bool:
    """A binding `resolve_callable` follows: an import, a definition, an alias of a name or attribute."""
    return b.kind in ("import", "def", "class") or \
        b.kind == "assign" and isinstance(b.node, (ast.Name, ast.Attribute))


BUILTIN_NAMES = frozenset(dir(__import__("builtins")))
