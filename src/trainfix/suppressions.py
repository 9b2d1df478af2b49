"""Suppression comments: parsing them, finding unused ones (TRN100), adding new ones (`--add-noqa`).

Pure text functions; the engine calls them, the runner writes what they return.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass

from .transform import Edit, LineIndex

IGNORE = re.compile(r"#\s*trainfix:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.I)
NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.I)
UNUSED_CODE = "TRN100"


@dataclass(frozen=True)
class Directive:
    kind: str  # "ignore" | "noqa"
    start: int  # span in the comment
    end: int
    codes: tuple[str, ...] | None  # None: every rule


def directives(comment: str) -> list[Directive]:
    out = []
    for kind, pattern in (("ignore", IGNORE), ("noqa", NOQA)):
        m = pattern.search(comment)
        if m:
            codes = m.group("codes")
            out.append(Directive(kind, m.start(), m.end(),
                                 None if codes is None else tuple(c for c in re.split(r"[\s,]+", codes.strip()) if c)))
    return sorted(out, key=lambda d: d.start)


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


def unused(text: str, comments: dict[int, str], used: dict[int, set[str]], enabled, known: set[str],
           index: LineIndex) -> list[Unused]:
    """One entry per comment whose suppression matched nothing on its line.

    `used` maps a line to the codes its directives suppressed; `enabled(code)` says
    whether a rule ran (a code of a rule not selected is never called unused: this run
    can't know); codes of other tools (`# noqa: E501`) and a bare `# noqa` are left alone.
    """
    out = []
    for line, comment in sorted(comments.items()):
        found = directives(comment)
        if not found:
            continue
        here = {c.upper() for c in used.get(line, ())}
        new_comment, notes, first = comment, {"unused": [], "unknown": []}, None
        for d in reversed(found):  # right to left: earlier spans stay valid
            if d.codes is None:
                if d.kind == "noqa" or here:
                    continue
                new_comment = _without(new_comment, d)
                notes["unused"][:0] = ["(all)"]
            else:
                bad = [c for c in d.codes if c.upper().startswith("TRN") and c.upper() != UNUSED_CODE and
                       c.upper() not in here and (c.upper() not in known or enabled(c.upper()))]
                if not bad:
                    continue
                for kind in notes:  # right to left, so each directive's codes go in front
                    notes[kind][:0] = [f"`{c}`" for c in bad if (c.upper() not in known) == (kind == "unknown")]
                keep = [c for c in d.codes if c not in bad]
                piece = _render(d, keep) if keep else ""
                if keep:
                    new_comment = new_comment[:d.start] + piece + new_comment[d.end:]
                else:
                    new_comment = _without(new_comment, d)
            first = d
        if first is None:
            continue
        start = index.starts[line - 1]
        end = index.starts[line] if line < len(index.starts) else len(text)
        row = text[start:end]
        at = row.rfind(comment)
        comment_start, comment_end = start + at, start + at + len(comment)
        if new_comment:
            edit = Edit(comment_start, comment_end, new_comment)
        elif row[:at].strip() == "":  # a comment on its own line: the line goes
            edit = Edit(start, end, "")
        else:
            code_end = start + len(row[:at].rstrip(" \t\f"))
            edit = Edit(code_end, comment_end, "")
        blanket = "(all)" in notes["unused"]
        notes["unused"] = [c for c in notes["unused"] if c != "(all)"]
        what = "; ".join(f"{k}: {', '.join(v)}" for k, v in notes.items() if v)
        message = "Unused blanket suppression" if blanket else "Unused suppression"
        out.append(Unused(line, at + first.start, at + first.end, f"{message} ({what})" if what else message, edit))
    return out


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
    edits, refused = [], []
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
        if listed:
            d = listed[0]
            at = start + row.rfind(comment)
            have = list(d.codes)
            more = [c for c in sorted(codes) if c not in {x.upper() for x in have}]
            edits.append(Edit(at + d.start, at + d.end, _render(d, have + more)))
        else:
            code_end = start + len(row[:body_end - start].rstrip(" \t\f"))
            edits.append(Edit(code_end, body_end, text[code_end:body_end].rstrip(" \t\f") +
                              f"  # trainfix: ignore[{', '.join(sorted(codes))}]"))
    from .transform import apply_edits

    return (apply_edits(text, edits) if edits else text), refused


def _comments(text: str) -> dict[int, str]:
    return {tok.start[0]: tok.string for tok in tokenize.generate_tokens(io.StringIO(text).readline)
            if tok.type == tokenize.COMMENT}


def verify_comments_only(old: str, new: str) -> None:
    """`new` parses, has the same syntax tree and the same tokens as `old` but for comments."""
    def tokens(text: str):
        return [(t.type, t.string) for t in tokenize.generate_tokens(io.StringIO(text).readline)
                if t.type not in (tokenize.COMMENT, tokenize.NL)]

    try:
        new_tree = ast.dump(ast.parse(new))
        same_tokens = tokens(old) == tokens(new)
    except (SyntaxError, tokenize.TokenError) as exc:
        raise CommentOnlyError(f"the new text does not parse ({exc})") from None
    if not same_tokens or new_tree != ast.dump(ast.parse(old)):
        raise CommentOnlyError("adding the comments would change more than comments")
