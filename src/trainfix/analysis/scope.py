"""What each name is bound to, where: a small scope model over Python's `ast`.

LibCST's generic ScopeProvider costs several times the parse itself; this pass
records only what the analysis asks about (bindings, imports, `self`, the
calls of each function) in one walk of the tree.
"""
from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from .keras_names import canonical_keras

# what gives a name its value: an import, an assignment, a parameter, a def, a class, anything else (a loop)
BindingKind = Literal["import", "assign", "param", "def", "class", "other"]
ScopeKind = Literal["module", "function", "class"]
FUNCTION_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)
SCOPE_NODES = (*FUNCTION_NODES, ast.ClassDef)


@dataclass(eq=False)
class Binding:
    """One place where `name` gets a value in `scope`."""

    name: str
    kind: BindingKind
    scope: "Scope"
    # assign: the value; def/class: the definition; param: its annotation; other: what a loop iterates over
    node: ast.AST | None = None
    qualname: str | None = None  # import: the imported dotted name
    stmt: ast.AST | None = None  # the statement that binds (for positions)


@dataclass(eq=False)
class Scope:
    kind: ScopeKind
    node: ast.AST
    parent: "Scope | None"
    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    calls: list[ast.Call] = field(default_factory=list)  # calls directly in this scope
    withs: list[ast.AST] = field(default_factory=list)  # with-statements directly in this scope
    cls: ast.ClassDef | None = None  # for a method: its class
    self_name: str | None = None  # for a method: the name of its first parameter

    def add(self, binding: Binding) -> None:
        self.bindings.setdefault(binding.name, []).append(binding)

    @property
    def function(self) -> ast.AST | None:
        return self.node if self.kind == "function" else None


class ScopeTree:
    """Scopes of one module, the scope of every scope-defining node, class attribute facts."""

    def __init__(self, tree: ast.Module):
        self.module = Scope("module", tree, None)
        self.scope_of: dict[ast.AST, Scope] = {tree: self.module}
        # (target Attribute, value or None, scope) for every `x.attr = value` / `x.attr` use
        self.attr_stores: list[tuple[ast.Attribute, ast.AST | None, Scope]] = []
        self.attr_loads: list[tuple[ast.Attribute, Scope]] = []
        self.calls: list[tuple[ast.Call, Scope]] = []
        self.name_loads: dict[str, list[tuple[ast.Name, Scope]]] = {}  # every read of each name
        self.call_of: dict[int, ast.Call] = {}  # id(callee node) -> its call
        self.arg_of: dict[int, ast.Call] = {}  # id(positional argument) -> its call
        self.imports: list[str] = []  # every imported module or name, dotted
        self.star_imports: list[str] = []  # modules of `from M import *` at module level
        _Builder(self).run(tree)

    def release(self) -> None:
        """Break the scope <-> binding cycles, so a finished module's tree is freed at once
        by reference counting instead of waiting for the cycle collector."""
        for scope in self.scope_of.values():
            scope.bindings.clear()
            scope.parent = None
        self.__dict__.clear()

    # -- name resolution ------------------------------------------------
    def lookup(self, name: str, scope: Scope) -> list[Binding]:
        """Bindings that `name` refers to when used in `scope` (empty if unbound)."""
        current: Scope | None = scope
        first = True
        while current is not None:
            if name in current.global_names:
                return self.module.bindings.get(name, [])
            if (first or current.kind != "class") and name in current.bindings and name not in current.nonlocal_names:
                return current.bindings[name]
            first = False
            current = current.parent
        return []

    def qualname(self, expr: ast.AST, scope: Scope, _depth: int = 0) -> str | None:
        """Dotted name an expression stands for, through imports and simple aliases."""
        if _depth > 20:
            return None
        if isinstance(expr, ast.Attribute):
            base = self.qualname(expr.value, scope, _depth + 1)
            return f"{base}.{expr.attr}" if base else None
        if isinstance(expr, ast.Name):
            bindings = self.lookup(expr.id, scope)
            names = set()
            for b in bindings:
                if b.kind == "import":
                    names.add(b.qualname)
                elif b.kind == "assign" and isinstance(b.node, (ast.Name, ast.Attribute)):
                    names.add(self.qualname(b.node, b.scope, _depth + 1))
                else:
                    return None
            if len(names) == 1:
                return names.pop()
            # `try: import tf_keras as keras` / `except ImportError: import keras`: both are Keras
            canon = {canonical_keras(n) for n in names}
            return canon.pop() if len(canon) == 1 and None not in canon else None
        return None

    def self_class(self, expr: ast.AST, scope: Scope) -> ast.ClassDef | None:
        """The class whose instance `expr` is, when `expr` is a method's `self`."""
        if not isinstance(expr, ast.Name):
            return None
        bindings = self.lookup(expr.id, scope)
        if len(bindings) == 1 and bindings[0].kind == "param":
            owner = bindings[0].scope
            if owner.cls is not None and owner.self_name == expr.id:
                return owner.cls
        return None


def _params(args: ast.arguments) -> list[ast.arg]:
    out = [*args.posonlyargs, *args.args]
    if args.vararg:
        out.append(args.vararg)
    out.extend(args.kwonlyargs)
    if args.kwarg:
        out.append(args.kwarg)
    return out


def child_nodes(node: ast.AST) -> list[ast.AST]:
    """`ast.iter_child_nodes` without its generator and field-tuple overhead (a hot path)."""
    out: list[ast.AST] = []
    cls = node.__class__
    fields = _CHILD_FIELDS.get(cls)
    if fields is None:
        fields = _CHILD_FIELDS[cls] = _child_fields(cls)
    for name in fields:
        value = getattr(node, name, None)
        if value.__class__ is list:
            out += [item for item in value if isinstance(item, ast.AST)]
        elif isinstance(value, ast.AST):
            out.append(value)
    return out


def own_nodes(fn: ast.AST) -> Iterator[ast.AST]:
    """Nodes of a function body, not descending into nested functions or classes."""
    body = getattr(fn, "body", [])
    todo: list[ast.AST] = list(body) if isinstance(body, list) else [body]
    pop, push, fields_of = todo.pop, todo.append, _CHILD_FIELDS
    while todo:
        node = pop()
        yield node
        cls = node.__class__
        fields = fields_of.get(cls)
        if fields is None:
            fields = fields_of[cls] = _child_fields(cls)
        for name in fields:  # child_nodes(node), inlined: this loop runs for every node of every function
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST) and not isinstance(item, SCOPE_NODES):
                        push(item)
            elif isinstance(value, ast.AST) and not isinstance(value, SCOPE_NODES):
                push(value)


# fields that never hold a node (identifiers, strings, numbers, constants), per class
_PLAIN_FIELDS = {ast.Name: ("id",), ast.Constant: ("value", "kind"), ast.Attribute: ("attr",), ast.keyword: ("arg",),
                 ast.arg: ("arg", "type_comment"), ast.alias: ("name", "asname")}
_CHILD_FIELDS: dict[type[ast.AST], tuple[str, ...]] = {}


def _child_fields(cls: type[ast.AST]) -> tuple[str, ...]:
    plain = _PLAIN_FIELDS.get(cls, ())
    return tuple(name for name in cls._fields if name not in plain)


def param_names(fn: ast.AST) -> list[str]:
    return [a.arg for a in _params(fn.args)] if isinstance(fn, FUNCTION_NODES) else []


def _skip(self: "_Builder", node: ast.AST) -> None:
    pass


# nodes with nothing to record below them
_LEAVES = (ast.Constant, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop, ast.Pass, ast.Break,
           ast.Continue)


class _Builder:
    """One walk over the tree. Dispatch is cached per node type: `ast.NodeVisitor`'s
    per-node method lookup was most of the analysis time on big files."""

    _dispatch: dict[type[ast.AST], Callable[["_Builder", ast.AST], None]] = {}

    def __init__(self, tree: ScopeTree):
        self.t = tree
        self.scope = tree.module
        self.stmt: ast.AST | None = None

    def visit(self, node: ast.AST) -> None:
        kind = node.__class__
        method = self._dispatch.get(kind)
        if method is None:
            method = _skip if issubclass(kind, _LEAVES) else \
                getattr(_Builder, "visit_" + kind.__name__, _Builder.generic_visit)
            self._dispatch[kind] = method
        method(self, node)

    def _children(self, node: ast.AST) -> None:
        for name in node._fields:
            value = getattr(node, name, None)
            if value.__class__ is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def run(self, node: ast.Module) -> None:
        for stmt in node.body:
            self.visit(stmt)

    def bind(self, name: str, kind: BindingKind, node: ast.AST | None = None, qualname: str | None = None,
             scope: Scope | None = None) -> None:
        (scope or self.scope).add(Binding(name, kind, scope or self.scope, node, qualname, self.stmt))

    def bind_target(self, target: ast.AST, value: ast.AST | None) -> None:
        if isinstance(target, ast.Name):
            self.bind(target.id, "assign" if value is not None else "other", value)
        elif isinstance(target, (ast.Tuple, ast.List)):
            values = value.elts if isinstance(value, (ast.Tuple, ast.List)) else None
            if values is not None and len(values) != len(target.elts):
                values = None
            for i, elt in enumerate(target.elts):
                self.bind_target(elt, values[i] if values is not None else None)
        elif isinstance(target, ast.Starred):
            self.bind_target(target.value, None)
        elif isinstance(target, ast.Attribute):
            self.t.attr_stores.append((target, value, self.scope))
            self.visit(target.value)
        else:
            self.visit(target)

    # -- statements -------------------------------------------------------
    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.stmt):
            previous, self.stmt = self.stmt, node
            self._children(node)
            self.stmt = previous
        else:
            self._children(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.stmt = node
        self.t.imports.extend(alias.name for alias in node.names)
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, "import", qualname=alias.name)
            else:
                top = alias.name.split(".")[0]
                self.bind(top, "import", qualname=top)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self.stmt = node
        module = "." * node.level + (node.module or "")
        self.t.imports.append(module)
        for alias in node.names:
            if alias.name == "*":
                if self.scope is self.t.module and module:
                    self.t.star_imports.append(module)
                continue
            self.bind(alias.asname or alias.name, "import", qualname=f"{module}.{alias.name}" if module else alias.name)

    def visit_Global(self, node: ast.Global) -> None:
        self.scope.global_names.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.scope.nonlocal_names.update(node.names)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.stmt = node
        self.visit(node.value)
        for target in node.targets:
            self.bind_target(target, node.value)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self.stmt = node
        if node.value is not None:
            self.visit(node.value)
        self.bind_target(node.target, node.value)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.stmt = node
        self.visit(node.value)
        if isinstance(node.target, ast.Name):
            self.bind(node.target.id, "other")
        else:
            self.visit(node.target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target.id, "assign", node.value)

    def bind_loop(self, target: ast.AST, iterable: ast.AST) -> None:
        """A loop variable is bound "other"; its node is what it iterates over, when that is plain
        (`for head in self.heads`, `for i, head in enumerate(heads)`, `for a, b in zip(xs, ys)`)."""
        if isinstance(target, ast.Name):
            self.bind(target.id, "other", iterable)
            return
        if isinstance(target, ast.Tuple) and isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) \
                and not iterable.keywords:
            if iterable.func.id == "enumerate" and len(iterable.args) == 1 and len(target.elts) == 2:
                self.bind_target(target.elts[0], None)
                self.bind_loop(target.elts[1], iterable.args[0])
                return
            if iterable.func.id == "zip" and len(iterable.args) == len(target.elts):
                for elt, arg in zip(target.elts, iterable.args):
                    self.bind_loop(elt, arg)
                return
        self.bind_target(target, None)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.stmt = node
        self.visit(node.iter)
        self.bind_loop(node.target, node.iter)
        for stmt in node.body + node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        self.stmt = node
        self.scope.withs.append(node)
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                self.bind_target(item.optional_vars, None)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.name:
            self.bind(node.name, "other")
        self.generic_visit(node)

    def visit_comprehension(self, node: ast.comprehension) -> None:
        self.visit(node.iter)
        self.bind_loop(node.target, node.iter)
        for cond in node.ifs:
            self.visit(cond)

    def visit_Delete(self, node: ast.Delete) -> None:
        self.stmt = node  # `del tape` unbinds nothing we track

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.t.attr_loads.append((node, self.scope))
        self.visit(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        self.scope.calls.append(node)
        self.t.calls.append((node, self.scope))
        self.t.call_of[id(node.func)] = node
        for arg in node.args:
            self.t.arg_of[id(arg)] = node
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.t.name_loads.setdefault(node.id, []).append((node, self.scope))

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.name:
            self.bind(node.name, "other")
        self.generic_visit(node)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name:
            self.bind(node.name, "other")

    # -- scopes -------------------------------------------------------------
    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, name: str | None) -> None:
        self.stmt = node
        decorator_list: list[ast.expr] = getattr(node, "decorator_list", [])  # a lambda has none
        for deco in decorator_list:
            self.visit(deco)
        for default in [*node.args.defaults, *[d for d in node.args.kw_defaults if d is not None]]:
            self.visit(default)
        if name is not None:
            self.bind(name, "def", node)
        scope = Scope("function", node, self.scope)
        owner = self.scope.node
        if isinstance(owner, ast.ClassDef) and name is not None:  # a method
            params = [*node.args.posonlyargs, *node.args.args]
            decorators = {getattr(d, "id", getattr(d, "attr", None)) for d in decorator_list}
            if params and "staticmethod" not in decorators:
                scope.cls = owner
                scope.self_name = params[0].arg if "classmethod" not in decorators else None
        self.t.scope_of[node] = scope
        for param in _params(node.args):
            scope.add(Binding(param.arg, "param", scope, param.annotation, None, node))
        previous, self.scope = self.scope, scope
        body = node.body if isinstance(node.body, list) else [node.body]
        for stmt in body:
            self.visit(stmt)
        self.scope = previous

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self._function(node, node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._function(node, None)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        self.stmt = node
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.bind(node.name, "class", node)
        scope = Scope("class", node, self.scope)
        self.t.scope_of[node] = scope
        previous, self.scope = self.scope, scope
        for stmt in node.body:
            self.visit(stmt)
        self.scope = previous
