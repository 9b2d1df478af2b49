"""The project index: what a name imported from another module of the project is.

`from models import build_generator` in train.py proves nothing in train.py
alone; the index reads models.py (through a loader the engine hands in, so the
analysis does no I/O), builds the same scope and evidence facts there, and
answers "what is `build_generator` in module `models`?". Only modules that a
candidate file imports are read, each once per run, and only as far as a
question needs.
"""
from __future__ import annotations

import ast
import warnings
from collections.abc import Callable
from typing import NamedTuple, Protocol, TypeVar, cast

from .evidence import Caller, Evidence, Module, Symbol
from .scope import Binding, Scope, ScopeTree, param_names
from .syntax import Definition

# Packages that are never project modules, even where a folder of that name sits in the project.
EXTERNAL_TOPS = frozenset({
    "tensorflow", "keras", "tf_keras", "numpy", "jax", "torch", "flax", "sonnet", "haiku", "scipy", "sklearn",
    "pandas", "tensorflow_hub", "tensorflow_datasets", "keras_hub", "keras_nlp", "keras_cv", "os", "sys", "math",
    "functools", "typing", "collections", "dataclasses", "abc", "itertools", "random", "time", "logging",
})

class Loader(Protocol):
    """Reads modules for the index; implemented by the engine (the analysis does no I/O)."""

    def find(self, importer: str, module: str, level: int) -> str | None:
        """The key of the project module `module` (`level` leading dots) imported from `importer`."""

    def source(self, key: str) -> str | None:
        """The text of a module found by `find`, or None when it can't be read."""

    def importers(self, key: str) -> list[str] | None:
        """Every project file whose imports resolve to module `key` (and every notebook that names it);
        None when unsure."""

    def indexed(self) -> bool:
        """Whether `importers` is answered without reading the project (its index is built)."""


class Reference(NamedTuple):
    """A use of a module-level name of one project module in another."""

    node: ast.Name | ast.Attribute
    scope: Scope
    module: Module


T = TypeVar("T")  # another module's analysis (see `Project.analyzer`)


class Project:
    """Memoised answers about the project's modules, for one run."""

    def __init__(self, loader: Loader, factories: tuple[str, ...] = ()):
        self.loader = loader
        self.factories = factories
        self._modules: dict[str, Module | None] = {}
        self._texts: dict[str, str] = {}  # the analysed file's text, when its analysis parsed part of it
        self._read: dict[str, str | None] = {}  # texts read to see whether they name something, not yet parsed
        self._analyzers: dict[str, object] = {}  # what `analyzer`'s `make` returned, by module key
        self._symbols: dict[tuple[str, str], Symbol | None] = {}
        self.read: set[str] = set()  # keys of every module read (the dependencies of a result)
        self.helpers: set[str] = set()  # keys of the modules whose functions the analysed file's steps call

    def lookup(self, importer: str, qualname: str) -> Symbol | None:
        """What the dotted name `qualname`, as imported in module `importer`, is in the project."""
        memo = (importer, qualname)
        if memo in self._symbols:
            return self._symbols[memo]
        self._symbols[memo] = None  # a cycle of re-exports proves nothing
        symbol = self._lookup(importer, qualname)
        self._symbols[memo] = symbol
        return symbol

    def _lookup(self, importer: str, qualname: str) -> Symbol | None:
        stripped = qualname.lstrip(".")
        level = len(qualname) - len(stripped)
        parts = stripped.split(".") if stripped else []
        if level == 0 and (not parts or parts[0] in EXTERNAL_TOPS):
            return None
        for i in range(len(parts), -1, -1):
            if i == 0 and level == 0:
                break
            key = self.loader.find(importer, ".".join(parts[:i]), level)
            if key is not None:
                return self._member(key, parts[i:])
        return None

    def references(self, key: str, definition: Definition, also: str | None = None) -> list[Reference] | None:
        """Uses of a module-level class or function of module `key` in the project's other files, as
        (node, scope, module); None when unsure (a file that can't be read, a notebook that imports the
        module). With `also`, only files that also name that word count."""
        files = self.loader.importers(key)  # only a file that imports the module can name its definitions
        if files is None:
            return None
        out: list[Reference] = []
        for other in files:
            if other == key:
                continue
            found = self._references_in(other, definition, also)
            if found is None:
                return None
            out += found
        return out

    def _references_in(self, other: str, definition: Definition, also: str | None) -> list[Reference] | None:
        """`references` in one importing file; None when it can't be read (or is a notebook)."""
        if not other.endswith(".py"):
            return None  # a notebook that imports the module may use the name in ways not read here
        name = definition.name
        text = self._text(other)
        if text is None:
            return None
        if name not in text or also is not None and also not in text:
            return []  # a use spells the name: no need to parse a file that never does
        module = self.module(other)
        if module is None:
            return None
        t = module.tree
        if also is not None and not t.name_loads.get(also) and not any(n.attr == also for n, _ in t.attr_loads):
            return []  # a method's helper: this file never names it
        return [Reference(node, scope, module) for node, scope in t.name_loads.get(name, ())
                if any(b.kind == "import" and self._is(other, b.qualname, definition) for b in t.lookup(name, scope))] \
            + [Reference(attr, scope, module) for attr, scope in t.attr_loads
               if attr.attr == name and self._is(other, t.qualname(attr, scope), definition)]

    def callers(self, key: str, definition: Definition) -> list[Caller] | None:
        """The calls of a module-level class or function of module `key` in the project's other modules,
        each with its scope and that module's evidence; None when some use of it is not a plain call
        (a subclass, the class handed around, a module that can't be read)."""
        refs = self.references(key, definition)
        if refs is None:
            return None
        out = []
        for node, scope, module in refs:
            call = module.tree.call_of.get(id(node))
            if call is None:
                if module.evidence.type_only(node):
                    continue
                return None
            out.append(Caller(call, scope, module.evidence))
        return out

    def _is(self, importer: str, qualname: str | None, definition: Definition) -> bool:
        symbol = self.lookup(importer, qualname) if qualname else None
        return symbol is not None and symbol.node is definition

    def register(self, key: str, tree: ScopeTree, evidence: Evidence, source: str) -> None:
        """The module being analysed, as analysed (its text may not be on disk: stdin, an editor buffer)."""
        self._modules[key] = Module(key, tree, evidence, source)

    def unimported(self, key: str, read: bool = True) -> bool:
        """No other file of the project imports module `key`: no other module's analysis asks about it.
        Without `read`, False unless the project's imports are already known (reading them costs)."""
        return (read or self.loader.indexed()) and self.loader.importers(key) == []

    def register_text(self, key: str, source: str) -> None:
        """The module being analysed, whose analysis left parts of it unparsed: parsed whole if asked about."""
        self._texts[key] = source

    def analyzer(self, key: str, make: Callable[[Module], T]) -> T | None:
        """Another module's contexts, analysed by `make` once per run (to see which of this module's
        helpers its steps call); None when it can't be read. The contexts pass hands `make` in, so the
        index never imports it."""
        if key not in self._analyzers:
            self._analyzers[key] = None
            module = self.module(key)
            if module is not None:
                self._analyzers[key] = make(module)
        return cast("T | None", self._analyzers[key])  # each key's `make` is the same pass

    def module(self, key: str) -> Module | None:
        if key not in self._modules:
            self._modules[key] = None
            self._modules[key] = self._load(key)
        return self._modules[key]

    def _text(self, key: str) -> str | None:
        """A module's text, read once per run (and a dependency of the result: it decides what it names)."""
        module = self._modules.get(key)
        if module is not None:
            return module.source
        if key in self._texts:
            return self._texts[key]
        if key not in self._read:
            self._read[key] = self.loader.source(key)
            if self._read[key] is not None:
                self.read.add(key)
        return self._read[key]

    def _load(self, key: str) -> Module | None:
        text = self._text(key)
        if text is None:
            return None
        tree = _parse(key, text)
        if tree is None:
            return None
        scopes = _SCOPES.get(id(tree))
        if scopes is None or scopes.module.node is not tree:
            scopes = _SCOPES[id(tree)] = ScopeTree(tree)  # built once per run, like the tree (never mutated)
        return Module(key, scopes, Evidence(scopes, self.factories, project=self, module_key=key), text)

    def _member(self, key: str, rest: list[str]) -> Symbol | None:
        module = self.module(key)
        if module is None:
            return None
        if not rest:
            return Symbol("module", module=module)
        bindings = module.tree.module.bindings.get(rest[0], [])
        if len(bindings) != 1:
            return None
        b = bindings[0]
        if b.kind == "import" and b.qualname:
            inner = self.lookup(key, ".".join([b.qualname, *rest[1:]]))
            if inner is not None:
                return inner
            return Symbol("external", qualname=".".join([b.qualname, *rest[1:]])) \
                if not b.qualname.startswith(".") else None
        if len(rest) > 1:
            return None
        return describe(module, b)


_PARSED: dict[tuple[str, str], ast.Module | None] = {}  # a run's other files import the same modules
_PARSED_MAX = 256
_SCOPES: dict[int, ScopeTree] = {}  # id(tree in _PARSED) -> its scope facts, shared by the run's files


def _parse(key: str, text: str) -> ast.Module | None:
    """The module's syntax tree, parsed once per run for every file that imports it (never mutated)."""
    memo = (key, text)
    if memo not in _PARSED:
        if len(_PARSED) >= _PARSED_MAX:
            dropped = _PARSED.pop(next(iter(_PARSED)))
            _SCOPES.pop(id(dropped), None)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _PARSED[memo] = ast.parse(text)
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            _PARSED[memo] = None
    return _PARSED[memo]


def describe(module: Module, b: Binding) -> Symbol | None:
    """What a module-level binding of a project module is."""
    ev, scope_of = module.evidence, module.tree.scope_of
    if b.kind == "class" and isinstance(b.node, ast.ClassDef):
        if ev.is_keras_class(b.node):
            return Symbol("keras_class", b.node, module)
        return None if ev.class_is_unknown(b.node) else Symbol("class", b.node, module)
    if b.kind == "def" and isinstance(b.node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        if "training" in param_names(b.node):
            return Symbol("training_function", b.node, module)
        if ev.is_factory(b.node, scope_of[b.node]):
            return Symbol("factory", b.node, module)
        if ev.is_nonmodel_factory(b.node, scope_of[b.node]):
            return Symbol("nonmodel_factory", b.node, module)
        return Symbol("function", b.node, module)
    if b.kind == "assign":
        if ev.name_is_model(b.name, module.tree.module):
            return Symbol("model", module=module)
        if ev.call_not_model(b.node, b.scope):
            return Symbol("nonmodel", module=module)
    return None
