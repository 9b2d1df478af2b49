"""One source text in, findings and a verified new text out. No I/O here."""
from __future__ import annotations

import ast
import io
import os
import re
import sys
import threading
import tokenize
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from . import rules
from .analysis.contexts import analyze
from .analysis.project import Project
from .analysis.sites import CallSite
from .config import Config
from .errors import SourceError
from .prefilter import may_have_findings, may_have_findings_bytes  # noqa: F401 (part of the engine API)
from .regions import TOP_LEVEL_LINE, pruned
from .findings import Finding, Fix
from .rules import KNOWN_CODES, Rule, Source, Violation
from .suppressions import IGNORE, NOQA, UNUSED_CODE, suppressed, unused
from .transform import Edit, LineIndex, apply_edits, training_edit

SKIP_FILE = re.compile(r"#\s*trainfix:\s*skip-file\b")
Located = tuple[Finding, "CallSite | None"]  # a finding and the call it is at (None: a comment's, TRN100)


@dataclass
class Result:
    source: str
    new_source: str
    findings: list[Finding] = field(default_factory=list)
    skipped: list[CallSite] = field(default_factory=list)  # calls considered and left alone
    remaining: list[Finding] = field(default_factory=list)  # what new_source still reports, at its positions
    dependencies: tuple[str, ...] = ()  # other project modules the analysis read (their changes change findings)
    imports: tuple[str, ...] = ()  # the project modules whose functions this file's steps call (among the above)

    @property
    def changed(self) -> bool:
        return self.new_source != self.source


def skip_file(text: str) -> bool:
    """`# trainfix: skip-file` in the header comment block (shebang and coding lines included)."""
    if "skip-file" not in text:
        return False
    for line in text.splitlines():
        stripped = line.strip(" \t\f\ufeff")
        if not stripped:
            continue
        if not stripped.startswith("#"):
            return False
        if SKIP_FILE.search(stripped):
            return True
    return False


def _ast_parse(text: str) -> ast.Module:
    """ast.parse without printing the user's SyntaxWarnings (`invalid escape sequence` on 3.12+)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text)


PIECE_CHARS = 64 * 1024
INDEX_WORTH_CHARS = 256 * 1024  # from this size a cut saves more than reading a project's imports costs


def _parse_in_pieces(text: str) -> ast.Module:
    """The tree ast.parse(text) returns, built from pieces of at least PIECE_CHARS cut before top-level lines.

    CPython's parser holds its own copy of the whole tree (an arena) while it builds the Python
    objects: parsing a 3 MB module whole peaks at twice the memory of the tree it returns. Pieces
    parsed one after another free each arena before the next. Each piece is preceded by as many
    newlines as the text before it holds, so every position in the tree is the one in `text`.
    A cut inside a statement (a string, brackets, a backslash continuation, a decorator) leaves a
    piece that does not parse: then the rest of the text is parsed as one piece. Only pieces that
    parse are used, each starts where the one before ended, and a piece that starts inside a
    statement never parses; a text that does not parse is parsed whole, so errors and trees are
    exactly those of ast.parse(text).
    """
    if len(text) < 2 * PIECE_CHARS or "barry_as_FLUFL" in text:  # that future import changes the grammar
        return _ast_parse(text)
    cuts = [0]
    for m in TOP_LEVEL_LINE.finditer(text, PIECE_CHARS):
        if m.start() - cuts[-1] >= PIECE_CHARS and len(text) - m.start() >= PIECE_CHARS // 2:
            cuts.append(m.start())
    if len(cuts) == 1:
        return _ast_parse(text)
    cuts.append(len(text))
    body: list[ast.stmt] = []
    lines = 0
    try:
        for start, end in zip(cuts, cuts[1:]):
            piece = text[start:end]
            try:
                body += _ast_parse("\n" * lines + piece).body
            except (SyntaxError, ValueError, MemoryError):
                body += _ast_parse("\n" * lines + text[start:]).body  # the cut was inside a statement
                break
            lines += piece.count("\n") + piece.count("\r") - piece.count("\r\n")
    except (SyntaxError, ValueError, MemoryError):
        del body
        return _ast_parse(text)
    return ast.Module(body=body, type_ignores=[])


def parse(text: str) -> ast.Module:
    try:
        return _parse_in_pieces(text)
    except SyntaxError as exc:
        raise SourceError(f"syntax error: {exc.msg}", exc.lineno, exc.offset) from None
    except RecursionError:
        raise  # fix_source retries with a larger stack, then reports it
    except MemoryError:  # the parser's own stack overflowed
        raise SourceError("cannot parse: too complex for Python's parser (MemoryError)") from None
    except ValueError as exc:
        raise SourceError(f"cannot parse: {exc}") from None


def comments_by_line(text: str) -> dict[int, str]:
    out: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type == tokenize.COMMENT:
                out[tok.start[0]] = tok.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        for n, line in enumerate(re.split(r"\r\n|\r|\n", text), 1):
            if "#" in line:
                out[n] = line[line.index("#"):]
    return out


def comments_asked(text: str, index: LineIndex, calls: Iterable[ast.Call], unused: bool) -> dict[int, str]:
    """`comments_by_line(text)` as far as anyone asks: the rules ask for the lines from above each of `calls`
    to its end, TRN100 (when `unused` runs) for the comments that hold a directive. When none of those
    lines holds a `#` and the text holds no directive, every answer is "no comment": no tokenizing."""
    if text.count("\r") != text.count("\r\n") or unused and (IGNORE.search(text) or NOQA.search(text)):
        return comments_by_line(text)  # (a lone CR ends a line for `ast` but not for the tokenizer's lines)
    starts = index.starts
    for call in calls:
        first, last = call.lineno - 1, call.end_lineno or call.lineno
        if "#" in text[starts[max(first, 1) - 1]:starts[last] if last < len(starts) else len(text)]:
            return comments_by_line(text)
    return {}


def _char_col(index: LineIndex, line: int, col: int) -> int:
    return index.offset(line, col) - index.starts[line - 1] + 1


def find(text: str, config: Config, tree: ast.Module | None = None, project: Project | None = None,
         module_key: str | None = None, imported: bool = False
         ) -> tuple[list[Located], list[CallSite], LineIndex | None, ast.Module | None]:
    """Findings (enabled, not suppressed) with their calls, skipped calls, the line index and the tree of one source."""
    if skip_file(text) or not (imported or may_have_findings(text, config)):
        return [], [], None, None
    index = LineIndex(text)
    cut = None if tree is not None or imported else _cut(text, config, project, module_key)
    tree = tree or parse(cut or text)
    sites = analyze(tree, text, config, index, project, module_key, whole=cut is None)
    source = Source({})
    found: list[Located] = []
    skipped: list[CallSite] = []
    used: dict[int, set[str]] = {}  # line -> codes its suppression comments silenced
    loaded = False
    for site in sites:
        violations = rules.check(site, source)
        if violations and not loaded:  # the comments are read once a call has a finding (most files have none)
            source.comments.update(comments_asked(text, index, (s.call for s in sites), config.enabled(UNUSED_CODE)))
            loaded = True
            violations = rules.check(site, source)
        reported = select(site, violations, config, source.comments.get(site.call.lineno, ""), used)
        if not reported:
            skipped.append(site)
        found += [(_finding(rule.code, violation, site.call, index), site) for rule, violation in reported]
    if config.enabled(UNUSED_CODE):
        found = _with_unused(text, found, used, config, index,
                             source.comments if loaded else comments_asked(text, index, [], True))
    return found, skipped, index, tree if cut is None else None  # (verify compares whole trees)


def _cut(text: str, config: Config, project: Project | None, module_key: str | None) -> str | None:
    """The text with what its analysis can't need blanked out (see `regions`), for a big module that no
    other file of its project imports (another module's analysis would ask about the whole of it)."""
    if project is None or module_key is None:
        return pruned(text, config.step_names)
    # (the project's import index costs: asked last, and read for this only when the cut saves more)
    return pruned(text, config.step_names, lambda: project.unimported(module_key, len(text) >= INDEX_WORTH_CHARS))


def select(site: CallSite, violations: list[tuple[Rule, Violation]], config: Config, comment: str,
           used: dict[int, set[str]]) -> list[tuple[Rule, Violation]]:
    """The violations reported at `site`: each enabled rule's that the line's `comment` does not suppress.

    The codes suppressed are added to `used[line]` (TRN100); a site with nothing reported keeps the
    reason the first violation was withheld (`--show-skipped`).
    """
    reported, withheld = [], []
    for rule, violation in violations:
        if not config.enabled(rule.code):
            withheld.append(f"{rule.code} not selected")
        elif suppressed(rule.code, comment):
            withheld.append(f"suppressed ({rule.code})")
            used.setdefault(site.call.lineno, set()).add(rule.code)
        else:
            reported.append((rule, violation))
    if withheld and not reported:
        site.skip_reason = withheld[0]
    return reported


def _finding(code: str, violation: Violation, call: ast.Call, index: LineIndex) -> Finding:
    """The rule's violation at the call's position (1-based character columns)."""
    end_line = call.end_lineno if call.end_lineno is not None else call.lineno  # set on every parsed node
    end_col = call.end_col_offset if call.end_col_offset is not None else call.col_offset
    return Finding(code, violation.message, call.lineno, _char_col(index, call.lineno, call.col_offset),
                   end_line, _char_col(index, end_line, end_col), violation.fix)


def _with_unused(text: str, found: list[Located], used: dict[int, set[str]], config: Config, index: LineIndex,
                 comments: dict[int, str]) -> list[Located]:
    """The findings plus a TRN100 for each suppression comment that silenced nothing."""
    extra: list[Located] = []
    for u in unused(text, comments, used, config.enabled,
                    set(KNOWN_CODES), index):
        extra.append((Finding(UNUSED_CODE, u.message, u.line, u.start + 1, u.line, u.end + 1,
                              Fix("safe", "Remove unused suppression", ""), edit=u.edit), None))
    return sorted(found + extra, key=lambda pair: (pair[0].line, pair[0].column)) if extra else found


def fix_source(text: str, *, config: Config | None = None, unsafe: bool | None = None,
               path: str | os.PathLike[str] | None = None, imported: bool = False) -> Result:
    """Analyse `text`; return its findings and the text with the applicable fixes.

    `path` is where the text lives (or would live): models imported from the other
    modules of its project are then followed (the project index). Without it the
    text is analysed alone. `imported`: the text is a module that the project's
    steps import, so its helpers are analysed even though it holds no step.

    Raises SourceError when the text does not parse or a fix fails verification.
    """
    try:
        return _fix_source(text, config, unsafe, path, imported)
    except RecursionError:
        pass
    # Deeply nested code (a 1,000-term concatenation in generated code) is valid Python:
    # retry once on a thread with a large stack and a higher recursion limit.
    return _deep(lambda: _fix_source(text, config, unsafe, path, imported))


DEEP_STACK_BYTES = 512 * 1024 * 1024
DEEP_RECURSION_LIMIT = 30_000


def _deep(fn: Callable[[], Result]) -> Result:
    box: dict[str, Result] = {}
    errors: list[BaseException] = []

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            errors.append(exc)

    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    try:
        threading.stack_size(DEEP_STACK_BYTES)
        sys.setrecursionlimit(max(old_limit, DEEP_RECURSION_LIMIT))
        worker = threading.Thread(target=target, name="trainfix-deep")
        worker.start()
        worker.join()
    except (RuntimeError, ValueError, MemoryError):  # no thread with such a stack here
        errors.append(RecursionError())
    finally:
        sys.setrecursionlimit(old_limit)
        threading.stack_size(old_stack)
    error = errors[0] if errors else None
    if isinstance(error, RecursionError):
        raise SourceError("code nested too deeply to analyse (beyond the recursion limit); not changed") from None
    if error is not None:
        raise error
    return box["result"]


def _fix_source(text: str, config: Config | None, unsafe: bool | None, path: str | os.PathLike[str] | None = None,
                imported: bool = False) -> Result:
    config = config or Config()
    unsafe = config.unsafe_fixes if unsafe is None else unsafe
    project, key = None, None
    if path is not None:
        from .loader import FileLoader

        key = os.path.abspath(path)
        project = Project(FileLoader(key), config.model_factories)
    found, skipped, index, tree = find(text, config, None, project, key, imported and project is not None)
    findings = [finding for finding, _ in found]
    edits = _edits(found, index, unsafe) if index is not None else []
    new_text = apply_edits(text, edits) if edits else text
    remaining = verify(text, new_text, config, unsafe, tree, index, project, key, imported) if edits else \
        [f for f in findings if not f.applied]
    dependencies = tuple(sorted(project.read)) if project is not None else ()
    return Result(text, new_text, findings, skipped, remaining, dependencies,
                  tuple(sorted(project.helpers)) if project else ())


def _edits(found: list[Located], index: LineIndex, unsafe: bool) -> list[Edit]:
    """The edits of the fixes to apply; each finding gets its `edit`, and `applied` when it is taken."""
    edits: list[Edit] = []
    for finding, site in sorted(found, key=lambda pair: pair[0].code == UNUSED_CODE):  # comment edits last
        fix = finding.fix
        if fix is None:
            continue
        if site is None:  # TRN100: its edit is a comment's, taken unless a `training` edit spans that text
            if finding.edit is not None and not any(e.start < finding.edit.end and finding.edit.start < e.end
                                                    for e in edits):
                edits.append(finding.edit)
                finding.applied = True
            continue
        finding.edit = training_edit(index, site.call, site.where, fix.value)
        if finding.edit is None:
            finding.fix = None  # no layout keeps the code valid: report only
        elif fix.applicability == "safe" or unsafe:
            edits.append(finding.edit)
            finding.applied = True
    return edits


def verify(old: str, new: str, config: Config, unsafe: bool, old_tree: ast.Module | None = None,
           old_index: LineIndex | None = None, project: Project | None = None,
           module_key: str | None = None, imported: bool = False) -> list[Finding]:
    """The new text parses, differs only in `training` arguments, and is stable.

    Returns the findings left in the new text (with positions in the new text).
    `old_tree` and `old_index`, from the pass that found the fixes, are reused; the tree is consumed.
    """
    try:
        new_tree = _parse_in_pieces(new)
    except SyntaxError as exc:
        raise SourceError(f"fix verification failed: the fixed code does not parse ({exc.msg}); file not written",
                          exc.lineno) from None
    found, _, new_index, _ = find(new, config, new_tree, project, module_key, imported)  # before the comparison strips `training` from new_tree
    again = [finding for finding, _ in found]
    if not _same_but_training(old_tree or _parse_in_pieces(old), old_index or LineIndex(old), new_tree,
                              new_index or LineIndex(new)):
        raise SourceError("fix verification failed: the fix changed more than `training` arguments; file not written")
    # (an unused suppression whose comment a `training` edit re-wrote is left for the next run)
    if any(f.fix and (f.fix.applicability == "safe" or unsafe) and f.code != UNUSED_CODE for f in again):
        raise SourceError("fix verification failed: a second pass would change the file again; file not written")
    return again


def _same_but_training(old_tree: ast.Module, old_index: LineIndex, new_tree: ast.Module, new_index: LineIndex) -> bool:
    """Both modules' trees are equal once `training` arguments are dropped.

    A statement whose source text is unchanged has an unchanged tree, so only the
    statements an edit touched are compared, and those field by field: a block of
    statements inside them (a class's methods, a function's body) is compared
    statement by statement in turn, so only the innermost statements that hold an
    edit are dumped (dumping whole modules, then whole test classes, was most of
    the cost of a fix).
    """
    return _same_block(old_tree.body, old_index, new_tree.body, new_index)


def _same_block(old: list[ast.stmt], old_index: LineIndex, new: list[ast.stmt], new_index: LineIndex) -> bool:
    if len(old) != len(new):
        return False
    return all(_statement_text(a, old_index) == _statement_text(b, new_index) or _same_node(a, old_index, b, new_index)
               for a, b in zip(old, new))


# nodes compared field by field (they hold blocks of statements); any other node is compared by its dump
_COMPOUND = (ast.stmt, ast.excepthandler, ast.match_case)


def _same_node(old: ast.AST, old_index: LineIndex, new: ast.AST, new_index: LineIndex) -> bool:
    """ast.dump(_normalized(old)) == ast.dump(_normalized(new)), one field at a time."""
    if type(old) is not type(new):
        return False
    for name in old._fields:
        a, b = getattr(old, name, None), getattr(new, name, None)
        if isinstance(a, list) and isinstance(b, list):
            if a and b and isinstance(a[0], ast.stmt) and all(isinstance(x, ast.stmt) for x in (*a, *b)):
                if not _same_block(a, old_index, b, new_index):
                    return False
            elif len(a) != len(b) or not all(_same_value(x, old_index, y, new_index) for x, y in zip(a, b)):
                return False
        elif not _same_value(a, old_index, b, new_index):
            return False
    return True


def _same_value(a: object, old_index: LineIndex, b: object, new_index: LineIndex) -> bool:
    if isinstance(a, _COMPOUND) and isinstance(b, _COMPOUND):
        return _same_node(a, old_index, b, new_index)
    if isinstance(a, ast.AST) and isinstance(b, ast.AST):
        return _normalized(a) == _normalized(b)
    if isinstance(a, (ast.AST, list)) or isinstance(b, (ast.AST, list)):
        return False
    return repr(a) == repr(b)  # as ast.dump writes a name, a level, a type comment or None


def _statement_text(stmt: ast.stmt, index: LineIndex) -> str:
    decorators: list[ast.expr] = getattr(stmt, "decorator_list", [])
    first: ast.stmt | ast.expr = decorators[0] if decorators else stmt
    return index.text[index.start_of(first):index.end_of(stmt)]


def _normalized(tree: ast.AST) -> str:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            node.keywords = [k for k in node.keywords if k.arg != "training"]
            if len(node.args) == 2 and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, bool):
                node.args = node.args[:1]
    return ast.dump(tree, include_attributes=False)
