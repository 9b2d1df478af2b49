"""What a callee expression resolves to in its module (see `Evidence.resolve_callable`)."""
from __future__ import annotations

import ast
from typing import Literal, NamedTuple, Union

from .arguments import FunctionNode
from .scope import Scope

Definition = Union[ast.ClassDef, FunctionNode]  # what a project module defines and other modules call


class QualTarget(NamedTuple):
    kind: Literal["qual"]
    name: str  # a dotted name (an import, an attribute of one)


class ClassTarget(NamedTuple):
    kind: Literal["class"]
    node: ast.ClassDef  # a class of this module


class DefTarget(NamedTuple):
    kind: Literal["def"]
    node: FunctionNode  # a function of this module
    scope: Scope  # its own scope


Target = Union[QualTarget, ClassTarget, DefTarget]
