"""The methods and classes of a big module that its analysis can leave unparsed, decided on the text.

A big test module holds thousands of methods and a tape or two, and parsing it is most of its cost.
The analysis reads the contexts (tapes, steps, backend loops), what they name, and facts gathered
over the whole module. Those facts come only from code that spells one of a few words
(`GRADIENT_WORDS`: gradients, `training`, `trainable`, weights, variables, optimizers, `backward`,
`global`; and the configured step names), that imports Keras or another framework or reads a
`.keras` attribute, or that is tied by a name to the code kept:

- it defines a function, method or class whose name the kept code spells;
- it spells the name of a function, method or class the kept code defines (every use of a
  function decides what its callers are);
- it may store to an attribute the kept code spells.

A function, method or top-level class that does none of these is replaced by blank lines before
the parse, so every position in the tree is the one in the text. The statements of a class body
other than methods always stay, and so do `__init__`, `call` and `__call__`. The engine cuts only a module that no other file of its project
imports (or a text analysed alone): no other module's analysis asks about it, so the nodes the
analysis holds are the only ones of it anybody compares.

The cut is exact only where every unit is a whole statement, and a line that looks like the start
of one may be inside a string or brackets. So each unit is checked with `symtable` (CPython's
parser without building the tree's Python objects, about a third of `ast.parse`'s cost; a run of
units all kept or all cut is checked as one, since where it is cut inside does not matter): a unit
that ends inside a string or brackets does not parse, and is merged with the next one until it
does. A text whose units don't all parse is not cut, so its errors are the parser's.
"""
from __future__ import annotations

import bisect
import keyword
import re
import symtable
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from .analysis.keras_names import FOREIGN_FRAMEWORKS

PRUNE_CHARS = 32 * 1024  # below this, parsing the whole text costs about what deciding the cut does
CUT_SHARE = 0.4  # cut only when at least this share of the text can go
MAX_MERGES = 64  # units of one body merged because they don't parse alone: beyond, the text isn't cut
MAX_DECISIONS = 3  # decisions made again because a merge joined a unit cut to one kept: beyond, not cut

# Words without which a unit gives no fact the analysis gathers module-wide, and holds no context
GRADIENT_WORDS = ("grad", "Grad", "jacobian", "training", "trainable", "weights", "variables", "optimizer", "minimize",
                  "backward", "global", "nonlocal", "stateless_call", "watch")
# Keras and the other frameworks matter module-wide through imports (`uses_keras`, `foreign`) and through a
# `.keras` attribute (`tf.keras`) only: an import statement naming one, on its line (or continued lines)
_FRAMEWORK_IMPORTS = tuple(re.compile(r"%s\b(?:[^\r\n;#\\]|\\\r?\n)*?(?:keras|\b(?:%s)\b)"
                                      % (word, "|".join(sorted(FOREIGN_FRAMEWORKS))))
                           for word in ("from", "import"))  # (a literal first lets `re` skip ahead)
LOOKED_UP = frozenset({"__init__", "call", "__call__"})  # methods the analysis asks for by name

# A line that may start a statement: not a comment, a closing bracket or a clause that continues one.
# At column 0, a top-level statement (the engine cuts big modules there too, to parse them in pieces).
# Inside a string or brackets it starts none: whatever is cut there is checked to parse.
_STARTS = r"(?![)\]}]|(?:else|elif|except|finally)\b)[^\s#]"
TOP_LEVEL_LINE = re.compile(r"^" + _STARTS, re.M)
_SIMPLE_CLASS = re.compile(r"class[ \t]+\w+[ \t]*(?:\([^()\r\n]*\))?[ \t]*:[ \t]*(?:#[^\r\n]*)?\r?\n")
_BODY_INDENT = re.compile(r"(?:[ \t]*(?:#[^\r\n]*)?\r?\n)*([ \t]+)[^\s#]")
_DEF = re.compile(r"(?:async[ \t]+)?def\b")
_GAP = r"(?:[ \t]|\\\r?\n)*"  # between two tokens of a line: blanks or a backslash continuation
_NAMES = re.compile(r"(?:def|class)%s(\w+)" % _GAP)  # (no `\b` first: a literal first lets `re` skip ahead)
_WORD = re.compile(r"\w+")
_ATTR = re.compile(r"\.%s([^\W\d]\w*)" % _GAP)
_KERAS_ATTR = re.compile(r"\.%skeras\b" % _GAP)
# stores to attributes: `x.name =` (or `+=`, or an annotation), and every attribute in a target list:
# the left side of an assignment made only of names, attributes and subscripts (`self.a, self.b = ...`),
# a `for` target, a `with ... as` target. A unit that may hold a target list spread over lines (a
# bracket closed right before an `=`) may store to any attribute it spells.
_TARGET = r"[(\[]?[\w\[\]*, \t]*\.[\w.\[\]*, \t]*[)\]]?[ \t]*"  # (holding an attribute)
_STORE = re.compile(r"\.%s([^\W\d]\w*)[ \t]*(?:(?:[-+*/%%&|^@]|//|\*\*|<<|>>)?=(?!=)|:)" % _GAP)
_TARGETS = (re.compile(r"for[ \t]+%sin\b" % _TARGET), re.compile(r"as[ \t]+%s" % _TARGET))
# a line that starts with a target list, up to its `=`, found in the reversed text: the search then
# stops only at an `=` instead of trying every line (the regular expression is the line's, reversed:
# `\n[ \t]*[(\[]?[\w.\[\]* \t]*,[\w.\[\]*, \t]*[)\]]?[ \t]*=(?!=)`)
_TARGET_LINE_REVERSED = re.compile(r"(?<!=)=[ \t]*[)\]]?[\w.\[\]*, \t]*,[\w.\[\]* \t]*[(\[]?[ \t]*\n")
_SPREAD = re.compile(r"\)[ \t]*=(?!=)")
_SPREAD_LIST = (re.compile(r"\n[ \t]*\["), re.compile(r"\][ \t]*=(?!=)"))  # `[a.b,\n c] = ...`
_KEYWORDS = frozenset(keyword.kwlist)


@dataclass
class _Unit:
    start: int
    end: int
    kind: str  # "def", "class" or "other"
    heads: tuple[int, ...] = ()  # where the statements it is named by start (a class's first: two)
    methods: list[_Unit] = field(default_factory=list)  # a class's statements, the first with its header
    keep: bool = False
    words: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)  # its words but the names it only defines
    names: set[str] = field(default_factory=set)  # the functions and classes it defines
    stores: set[str] = field(default_factory=set)  # attributes it may store to


Span = tuple[int, int, int]  # start, end, and where the statement a decorator decorates starts


def pruned(text: str, step_names: tuple[str, ...], allowed: Callable[[], bool] = lambda: True) -> str | None:
    """`text` with the units the analysis doesn't need blanked out, or None when little would go (or when
    `allowed`, asked once the cut is known to be worth it, says no)."""
    if len(text) < PRUNE_CHARS or "barry_as_FLUFL" in text or text.count("\r") != text.count("\r\n"):
        return None  # (that future import changes the grammar; a lone CR ends a line for the parser, not `^`)
    units = _units(text)
    words = _Words(text, GRADIENT_WORDS + step_names, _aliases(text, units))
    if _free(units, words) < len(text) * CUT_SHARE:  # what the words alone leave: at most this can go
        return None
    _decide(text, units, words)
    if _cut_size(units) < len(text) * CUT_SHARE or not allowed():
        return None
    for _ in range(MAX_DECISIONS):  # (parsing is the costly part: only a cut worth it is checked)
        checked = _checked(text, units)
        if checked is None:
            return None
        units, same = checked
        if same:
            return _blank(text, sorted((u.start, u.end) for u in _leaves(units) if not u.keep))
        _decide(text, units, words)  # a unit cut was merged into one that stays: decide again, check again
        if _cut_size(units) < len(text) * CUT_SHARE:
            return None
    return None


def _units(text: str) -> list[_Unit]:
    """The top-level statements, a class's split into its own (not yet known to parse)."""
    out = []
    for start, end, head in _spans(text, TOP_LEVEL_LINE, 0, len(text)):
        u = _Unit(start, end, _kind(text, head), (head,))
        if u.kind == "class":
            u.methods = _statements(text, u)
        out.append(u)
    return out


def _statements(text: str, cls: _Unit) -> list[_Unit]:
    """A class's statements, the first with the class's header; none when its body is not indented lines."""
    header = _SIMPLE_CLASS.match(text, cls.heads[0])
    body = _BODY_INDENT.match(text, header.end(), cls.end) if header else None
    if body is None:
        return []
    starts = re.compile(r"^%s%s" % (re.escape(body.group(1)), _STARTS), re.M)
    spans = _spans(text, starts, body.start(1), cls.end)
    out = [_Unit(start, end, _kind(text, head), (head,)) for start, end, head in spans]
    out[0] = _Unit(cls.start, out[0].end, "other", (cls.heads[0], spans[0][2]))
    return out


def _leaves(units: list[_Unit]) -> list[_Unit]:
    return [leaf for u in units for leaf in (u.methods if u.keep and u.methods else [u])]


def _cut_size(units: list[_Unit]) -> int:
    return sum(u.end - u.start for u in _leaves(units) if not u.keep)


def _free(units: list[_Unit], words: _Words) -> int:
    """How much of the text no word makes needed: an upper bound of what can be cut."""
    free = 0
    for u in units:
        if u.kind != "other" and not words.needed(u):
            free += u.end - u.start
        elif u.methods:
            free += sum(m.end - m.start for m in u.methods[1:] if m.kind == "def" and not words.needed(m))
    return free


def _spans(text: str, starts: re.Pattern[str], begin: int, end: int) -> list[Span]:
    """From each line `starts` matches to the next; decorators and what they decorate are one span."""
    heads: list[tuple[int, int]] = []
    decorating = False
    for m in starts.finditer(text, begin, end):
        first = m.end() - 1
        if decorating:  # the decorated statement, or one more decorator
            if heads[-1][1] == heads[-1][0]:
                heads[-1] = (heads[-1][0], first if text[first] != "@" else heads[-1][1])
            decorating = text[first] == "@"
            continue
        heads.append((m.start(), first if text[first] != "@" else m.start()))
        decorating = text[first] == "@"
    if not heads or heads[0][0] != begin:
        heads.insert(0, (begin, begin))
    ends = [start for start, _ in heads[1:]] + [end]
    return [(start, stop, head) for (start, head), stop in zip(heads, ends)]


def _kind(text: str, head: int) -> str:
    if _DEF.match(text, head):
        return "def"
    return "class" if _SIMPLE_CLASS.match(text, head) else "other"


def _parses(unit: str, in_block: bool = False) -> bool:
    """Whether `unit` parses alone (`in_block`: as the body of a block, for a class's statements)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the user's SyntaxWarnings)
            symtable.symtable("if 1:\n" + unit if in_block else unit, "<unit>", "exec")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    return True


def _checked(text: str, units: list[_Unit]) -> tuple[list[_Unit], bool] | None:
    """The units, in runs that each parse alone: a run of units all kept or all cut is checked as one
    (where it is cut inside does not matter), and a unit that does not parse is merged with the next ones
    until it does. With whether the decision still holds (no unit cut was merged into one kept); None
    when the text doesn't parse so."""
    same = True
    merges = 0

    def parses(u: _Unit, in_block: bool) -> bool:
        nonlocal same
        if _opened(u):  # a kept class cut in part: its statements parse (the first with the header), so it does
            statements = merged(u.methods, True)
            if statements is not None:
                u.methods = statements
                return True
            same = same and all(m.keep for m in u.methods)
            u.methods = []
        return _parses(text[u.start:u.end], in_block)

    def merged(pieces: list[_Unit], in_block: bool) -> list[_Unit] | None:
        nonlocal same, merges
        out: list[_Unit] = []
        i = 0
        while i < len(pieces):
            run = i + 1
            while run < len(pieces) and pieces[run].keep == pieces[i].keep and not _opened(pieces[run - 1]) \
                    and not _opened(pieces[run]):
                run += 1
            if run - i > 1 and _parses(text[pieces[i].start:pieces[run - 1].end], in_block and i > 0):
                out += pieces[i:run]
                i = run
                continue
            group = [pieces[i]]
            if not parses(pieces[i], in_block and i > 0):
                while not _parses(text[group[0].start:group[-1].end], in_block and group[0] is not pieces[0]):
                    i += 1
                    merges += 1
                    if i == len(pieces) or merges > MAX_MERGES:
                        return None
                    group.append(pieces[i])
                same = same and all(u.keep for u in _leaves(group))
                group = [_Unit(group[0].start, group[-1].end, "other", (group[0].start,), keep=True)]
            out += group
            i += 1
        return out

    out = merged(units, False)
    return None if out is None else (out, same)


def _opened(u: _Unit) -> bool:
    return u.keep and bool(u.methods)


def _aliases(text: str, units: list[_Unit]) -> set[str]:
    """Names a top-level statement may bind to a tape (`from tensorflow import GradientTape as Tape`)."""
    out: set[str] = set()
    for u in units:
        if u.kind == "other" and "GradientTape" in text[u.start:u.end]:
            out.update(_WORD.findall(text, u.start, u.end))
    return out - _KEYWORDS


class _Words:
    """What a unit spells; the words that make a unit needed are found in one pass over the text."""

    def __init__(self, text: str, trigger: tuple[str, ...], aliases: set[str]):
        self.text = text
        self.aliases = aliases
        self.hits = sorted(_occurrences(text, trigger) + _starts(_KERAS_ATTR, text)
                           + [at for pattern in _FRAMEWORK_IMPORTS for at in _starts(pattern, text)])
        self._stores: tuple[list[int], list[str]] | None = None  # read when a decision is worth making
        self._spread: tuple[list[int], list[int], list[int]] | None = None

    def stores(self, u: _Unit) -> set[str]:
        """The attributes a unit may store to (a superset)."""
        if self._spread is None:
            # (where a target list spread over lines may end: a unit holding one may store to any attribute)
            self._spread = (_starts(_SPREAD, self.text), _starts(_SPREAD_LIST[0], self.text),
                            _starts(_SPREAD_LIST[1], self.text))
            found = sorted(_stores(self.text))
            self._stores = [at for at, _ in found], [name for _, name in found]
        spread, list_lines, list_ends = self._spread
        if _within(spread, u) or _within(list_lines, u) and _within(list_ends, u):
            return set(_ATTR.findall(self.text, u.start, u.end))
        at, names = self._stores or ([], [])
        return set(names[bisect.bisect_left(at, u.start):bisect.bisect_left(at, u.end)])

    def read(self, u: _Unit) -> None:
        text = self.text
        for m in u.methods:
            self.read(m)
        if u.methods:  # a class: its statements together
            u.words = set().union(*(m.words for m in u.methods))
            u.uses = set().union(*(m.uses for m in u.methods))
            u.names = set().union(*(m.names for m in u.methods))
            u.stores = set().union(*(m.stores for m in u.methods))
            return
        names = Counter(_NAMES.findall(text, u.start, u.end))
        u.words = set(_WORD.findall(text, u.start, u.end))
        # (a count of the name as a substring: more than its definitions when it is also used)
        u.uses = u.words - {name for name, n in names.items() if text.count(name, u.start, u.end) == n}
        # a function or class nested in a statement is local to it: only what the statement binds names it
        u.names = set(names) if u.kind == "other" and len(u.heads) < 2 else \
            {m.group(1) for m in (_NAMES.match(text, h) for h in u.heads) if m}
        u.stores = self.stores(u)

    def needed(self, u: _Unit) -> bool:
        """Needed whatever else is kept: it may hold a context or a module-wide fact."""
        return _within(self.hits, u) or not self.aliases.isdisjoint(u.words)


def _occurrences(text: str, words: tuple[str, ...]) -> list[int]:
    """Where each word occurs, in order (`str.find` per word: twice as fast as one alternation)."""
    out = []
    for word in filter(None, words):
        at = text.find(word)
        while at >= 0:
            out.append(at)
            at = text.find(word, at + 1)
    out.sort()
    return out


def _starts(pattern: re.Pattern[str], text: str) -> list[int]:
    return [m.start() for m in pattern.finditer(text)]


def _within(positions: list[int], u: _Unit) -> bool:
    at = bisect.bisect_left(positions, u.start)
    return at < len(positions) and positions[at] < u.end


class _Kept:
    """What the kept units use, define, and spell as attributes."""

    def __init__(self) -> None:
        self.uses: set[str] = set()
        self.names: set[str] = set()
        self.attrs: set[str] = set()

    def add(self, text: str, u: _Unit) -> None:
        self.uses |= u.uses
        self.names |= u.names
        self.attrs.update(_ATTR.findall(text, u.start, u.end))

    def ties(self, u: _Unit) -> bool:
        return not (u.names.isdisjoint(self.uses) and u.uses.isdisjoint(self.names)
                    and u.stores.isdisjoint(self.attrs))


def _decide(text: str, units: list[_Unit], words: _Words) -> None:
    """Mark the units the analysis needs: see the module's docstring."""
    kept = _Kept()
    todo: list[_Unit] = []

    def take(u: _Unit) -> None:
        u.keep = True
        if not u.methods:
            kept.add(text, u)
            return
        for i, m in enumerate(u.methods):  # a kept class: each method decided by itself
            m.keep = False
            if i == 0 or m.kind != "def" or not m.names.isdisjoint(LOOKED_UP) or words.needed(m):
                m.keep = True
                kept.add(text, m)
            else:
                todo.append(m)

    for u in units:
        words.read(u)
        u.keep = False
        if u.kind == "other" or words.needed(u):
            take(u)
        else:
            todo.append(u)
    changed = True
    while changed:
        changed = False
        for u in todo:
            if not u.keep and kept.ties(u):
                take(u)
                changed = True


def _stores(text: str) -> list[tuple[int, str]]:
    """Where the text may store to an attribute, and its name (a superset)."""
    out = [(m.start(1), m.group(1)) for m in _STORE.finditer(text)]
    spans = [m.span() for targets in _TARGETS for m in targets.finditer(text)]
    spans += [(len(text) - m.end(), len(text) - m.start()) for m in _TARGET_LINE_REVERSED.finditer(text[::-1])]
    for start, end in spans:
        out += [(a.start(1), a.group(1)) for a in _ATTR.finditer(text, start, end)]
    return out


def _blank(text: str, cut: list[tuple[int, int]]) -> str:
    pieces: list[str] = []
    at = 0
    for start, end in cut:
        pieces += [text[at:start], "\n" * text.count("\n", start, end)]
        at = end
    pieces.append(text[at:])
    return "".join(pieces)
