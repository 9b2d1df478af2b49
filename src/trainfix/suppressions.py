"""Suppression comments: parsing them, finding unused ones (TRN100), adding new ones (`--add-noqa`).

Pure text functions; the engine calls them, the runner writes what they return.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Callable
from dataclasses import dataclass

from .rules import trn100
from .transform import Edit, LineIndex, apply_edits

IGNORE = re.compile(r"#\s*trainfix:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.I)
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
UNUSED_CODE = trn100.RULE.code


@dataclass(frozen=True)
class Directive:
    kind: str  # "ignore" | "noqa"
    start: int  # span in the comment
    end: int
    codes: tuple[str, ...] | None  # None: every rule


def directives(comment: str) -> list[Directive]:
    out: list[Directive] = []
    for kind, pattern in (("ignore", IGNORE), ("noqa", NOQA)):
        m = pattern.search(comment)
        if m:
            codes = m.group("codes")
            out.append(Directive(kind, m.start(), m.end(),
                                 None if codes is None else tuple(c for c in re.split(r"[\s,]+", codes.strip()) if c)))
    return sorted(out, key=lambda d: d.start)


def suppressed(code: str, comment: str) -> bool:
    """Whether a directive in the comment silences `code` (a directive without codes silences all)."""
    return any(d.codes is None or code in d.codes for d in directives(comment))


def _render(d: Directive, codes: list[str]) -> str:
    return f"# trainfix: ignore[{', '.join(codes)}]" if d.kind == "ignore" else f"# noqa: {', '.join(codes)}"


def _without(comment: str, d: Directive) -> str:
    """The comment with directive `d` removed ("" when nothing else is left)."""
    before, after = comment[:d.start].rstrip(), comment[d.end:].strip()
    if after and not after.startswith("#"):
        after = "# " + after
    if before.strip("# \t") == "":
        return after
    return f"{before}  {after}" if after else before


@dataclass(frozen=True)
class Unused:
    line: int
    start: int  # column span (0-based, characters) of the first unused directive on the line
    end: int
    message: str
    edit: Edit


@dataclass(frozen=True)
class _Pruned:
    """A comment's directives without the codes that suppressed nothing."""

    comment: str  # what is left of the comment ("" when nothing is)
    first: Directive  # the leftmost directive that lost a code
    unused: list[str]  # the codes removed, as `TRN003`
    unknown: list[str]  # codes removed that no rule has
    blanket: bool  # a bare `# trainfix: ignore` was removed


def unused(text: str, comments: dict[int, str], used: dict[int, set[str]], enabled: Callable[[str], bool],
           known: set[str], index: LineIndex) -> list[Unused]:
    """One entry per comment whose suppression matched nothing on its line.

    `used` maps a line to the codes its directives suppressed; `enabled(code)` says
    whether a rule ran (a code of a rule not selected is never called unused: this run
    can't know); codes of other tools (`# noqa: E501`) and a bare `# noqa` are left alone.
    """
    out = []
    for line, comment in sorted(comments.items()):
        pruned = _prune(comment, {c.upper() for c in used.get(line, ())}, enabled, known)
        if pruned is None:
            continue
        at, edit = _comment_edit(text, index, line, comment, pruned.comment)
        out.append(Unused(line, at + pruned.first.start, at + pruned.first.end, _message(pruned), edit))
    return out


def _prune(comment: str, here: set[str], enabled: Callable[[str], bool], known: set[str]) -> _Pruned | None:
    """The comment without its unused codes, or None when every directive in it suppressed something."""
    new_comment, first, blanket = comment, None, False
    unused_codes: list[str] = []
    unknown: list[str] = []
    for d in reversed(directives(comment)):  # right to left: earlier spans stay valid, codes go in front
        if d.codes is None:
            if d.kind == "noqa" or here:
                continue
            new_comment, blanket = _without(new_comment, d), True
        else:
            bad = [c for c in d.codes if _unused_code(c.upper(), here, enabled, known)]
            if not bad:
                continue
            unused_codes[:0] = [f"`{c}`" for c in bad if c.upper() in known]
            unknown[:0] = [f"`{c}`" for c in bad if c.upper() not in known]
            keep = [c for c in d.codes if c not in bad]
            new_comment = new_comment[:d.start] + _render(d, keep) + new_comment[d.end:] if keep else \
                _without(new_comment, d)
        first = d
    return None if first is None else _Pruned(new_comment, first, unused_codes, unknown, blanket)


def _unused_code(code: str, here: set[str], enabled: Callable[[str], bool], known: set[str]) -> bool:
    """A trainfix code that suppressed nothing here: unknown, or a rule that ran (TRN100 itself is never unused)."""
    return code.startswith("TRN") and code != UNUSED_CODE and code not in here and (code not in known or enabled(code))


def _message(pruned: _Pruned) -> str:
    what = "; ".join(f"{kind}: {', '.join(codes)}" for kind, codes in
                     (("unused", pruned.unused), ("unknown", pruned.unknown)) if codes)
    message = "Unused blanket suppression" if pruned.blanket else "Unused suppression"
    return f"{message} ({what})" if what else message


def _comment_edit(text: str, index: LineIndex, line: int, comment: str, new_comment: str) -> tuple[int, Edit]:
    """Where `comment` starts in its line, and the edit that writes `new_comment` in its place; an empty
    one removes the comment, and the whole line when the comment was alone on it."""
    start = index.starts[line - 1]
    end = index.starts[line] if line < len(index.starts) else len(text)
    row = text[start:end]
    at = row.rfind(comment)
    if new_comment:
        return at, Edit(start + at, start + at + len(comment), new_comment)
    if row[:at].strip() == "":
        return at, Edit(start, end, "")
    return at, Edit(start + len(row[:at].rstrip(" \t\f")), start + at + len(comment), "")


# -- --add-noqa -------------------------------------------------------------------------
class CommentOnlyError(ValueError):
    """A suppression could not be added without changing more than comments."""


def commentable_lines(text: str) -> set[int]:
    """Lines whose end is the end of a physical line of code (not inside a string, not continued by `\\`)."""
    lines = set()
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in (tokenize.NEWLINE, tokenize.NL) or tok.type == tokenize.COMMENT:
            lines.add(tok.start[0])
    return lines


def add_ignores(text: str, codes_by_line: dict[int, set[str]]) -> tuple[str, list[int]]:
    """The text with `# trainfix: ignore[CODES]` on each line; returns it and the lines it could not take.

    A line's existing `# trainfix: ignore[...]` or `# noqa: ...` gains the codes; another
    comment is kept and the directive follows it.
    """
    index = LineIndex(text)
    comments = _comments(text)
    ok = commentable_lines(text)
    edits: list[Edit] = []
    refused: list[int] = []
    for line, codes in sorted(codes_by_line.items()):
        if line not in ok:
            refused.append(line)
            continue
        start = index.starts[line - 1]
        end = index.starts[line] if line < len(index.starts) else len(text)
        row = text[start:end]
        body_end = start + len(row.rstrip("\r\n"))
        comment = comments.get(line)
        listed = [d for d in directives(comment) if d.codes is not None] if comment else []
        if comment and listed:
            d = listed[0]
            at = start + row.rfind(comment)
            have = list(d.codes or ())
            more = [c for c in sorted(codes) if c not in {x.upper() for x in have}]
            edits.append(Edit(at + d.start, at + d.end, _render(d, have + more)))
        else:
            code_end = start + len(row[:body_end - start].rstrip(" \t\f"))
            edits.append(Edit(code_end, body_end, text[code_end:body_end].rstrip(" \t\f") +
                              f"  # trainfix: ignore[{', '.join(sorted(codes))}]"))
    return (apply_edits(text, edits) if edits else text), refused


def _comments(text: str) -> dict[int, str]:
    return {tok.start[0]: tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.COMMENT}


def verify_comments_only(old: str, new: str) -> None:
    """`new` parses, has the same syntax tree and the same tokens as `old` but for comments."""
    def tokens(text: str) -> list[tuple[int, str]]:
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type not in (tokenize.COMMENT, tokenize.NL)]

    try:
        new_tree = ast.dump(ast.parse(new))
        same_tokens = tokens(old) == tokens(new)
    except (SyntaxError, tokenize.TokenError) as exc:
        raise CommentOnlyError(f"the new text does not parse ({exc})") from None
    if not same_tokens or new_tree != ast.dump(ast.parse(old)):
        raise CommentOnlyError("adding the comments would change more than comments")
