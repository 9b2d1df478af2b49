"""What names resolve to: a callee in its own module (`Evidence.resolve_callable`), a name imported from
another project module (`Symbol.kind`, the project index's answer)."""
from __future__ import annotations

import ast
from typing import Literal, NamedTuple, Union

from .syntax import FunctionNode
from .scope import Scope

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

SymbolKind = Literal[
    "module",  # a project module
    "keras_class",  # a class deriving from a Keras Model/Layer
    "class",  # a class whose bases all resolve, none of them Keras (a tf.Module, a plain class)
    "factory",  # a function every return of which is a Keras model
    "nonmodel_factory",  # a function every return of which is visibly not a model
    "training_function",  # a function with a `training` parameter
    "function",  # any other function
    "model",  # a module-level Keras model
    "nonmodel",  # a module-level value that is visibly not a model
    "external",  # a name the module imports from outside the project (see `qualname`)
]
