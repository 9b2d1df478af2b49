"""How a call's arguments line up with a function's parameters (pure functions of syntax)."""
from __future__ import annotations

import ast
from dataclasses import dataclass

FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef


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
