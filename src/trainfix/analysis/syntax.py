"""Pure functions of syntax: how a call's arguments line up with a function's parameters, the
elements of a literal container."""
from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Union

from .scope import Binding

FunctionNode = Union[ast.FunctionDef, ast.AsyncFunctionDef]
Definition = Union[ast.ClassDef, FunctionNode]  # what a project module defines and other modules call


def positional_params(fn: FunctionNode | ast.Lambda) -> list[str]:
    return [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]


def unpacks(call: ast.Call) -> bool:
    """`f(*args)` or `f(**kwargs)`: which argument lands where is unknown."""
    return any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords)


@dataclass(frozen=True)
class ParamSlot:
    """Where a call passes the parameter `name`: by keyword, or at positional `index` (None: keyword-only)."""

    name: str
    index: int | None

    @classmethod
    def of(cls, fn: FunctionNode, name: str, offset: int) -> ParamSlot | None:
        """`offset`: leading parameters a call doesn't pass (a method's `self`); None for `*args`/`**kwargs`."""
        params = positional_params(fn)
        if name in params:
            return cls(name, params.index(name) - offset)
        return cls(name, None) if name in [a.arg for a in fn.args.kwonlyargs] else None

    def value(self, call: ast.Call) -> ast.expr | None:
        """The argument a call (without unpacking) passes here, None when it passes none."""
        value = next((k.value for k in call.keywords if k.arg == self.name), None)
        if value is None and self.index is not None and 0 <= self.index < len(call.args):
            value = call.args[self.index]
        return value


def called_definition(binding: Binding) -> tuple[FunctionNode, Definition, int] | None:
    """For a parameter: its function, what a call of it names (the class, for `__init__`), and how many
    leading parameters a call doesn't pass. None for a method or a nested function."""
    fn, cls = binding.scope.node, binding.scope.cls
    if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return None
    if fn.name == "__init__" and cls is not None and binding.scope.self_name is not None:
        return fn, cls, 1
    parent = binding.scope.parent
    if binding.scope.self_name is None and parent is not None and parent.kind == "module":
        return fn, fn, 0  # a module-level function: `fit_one_epoch(net, ...)`
    return None


def literal_elements(value: ast.AST | None) -> list[ast.expr] | None:
    """The elements of a literal list, tuple or dict (of a comprehension: its element), None otherwise."""
    if isinstance(value, (ast.List, ast.Tuple)) and value.elts:
        return None if any(isinstance(e, ast.Starred) for e in value.elts) else list(value.elts)
    if isinstance(value, ast.Dict) and value.values and None not in value.keys:
        return list(value.values)
    if isinstance(value, (ast.ListComp, ast.GeneratorExp)):
        return [value.elt]
    if isinstance(value, ast.DictComp):
        return [value.value]
    return None
