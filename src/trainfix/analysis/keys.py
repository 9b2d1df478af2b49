"""A model's identity across one module: which name, `self` or `self.attr` a call's callee is.

Keys are tagged tuples (the tag first), so gradient sources, trained sets and call
sites can compare and hash them, and code can narrow them by `key.kind`.
"""
from __future__ import annotations

import ast
from typing import Literal, NamedTuple, Union

from .scope import Binding


class SelfKey(NamedTuple):
    """`self` in a method of `cls`."""

    kind: Literal["self"]
    cls: ast.ClassDef


class NameKey(NamedTuple):
    """A name bound in one scope (identified by `id(scope)`)."""

    kind: Literal["name"]
    scope: int
    name: str


class AttrKey(NamedTuple):
    """`self.attr` in the methods of `cls`."""

    kind: Literal["attr"]
    cls: ast.ClassDef
    attr: str


class NamedAttrKey(NamedTuple):
    """`wrapper.attr`: an attribute of the object one name is bound to."""

    kind: Literal["nattr"]
    owner: NameKey
    attr: str


class StarKey(NamedTuple):
    """A name that only a `from M import *` of a project module binds."""

    kind: Literal["star"]
    name: str


class FnKey(NamedTuple):
    """A project function that takes `training` (identified by `id(definition)`)."""

    kind: Literal["fn"]
    fn: int


ModelKey = Union[SelfKey, NameKey, AttrKey, NamedAttrKey, StarKey, FnKey]


def binding_key(binding: Binding) -> NameKey:
    return NameKey("name", id(binding.scope), binding.name)
