"""Machine-readable renderings of a `Report`: json, github annotations, SARIF 2.1.0.

Each renderer takes the report and returns the whole text to print; the CLI
only chooses one. Text for a person is in `textout.py`.
"""
from __future__ import annotations

import bisect
import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import quote

from .version import __version__
from .docs import rule_markdown, sections
from .findings import Finding
from .outcome import FileOutcome
from .report import Report
from .rules import BY_CODE, RULES, Rule
from .transform import LineIndex

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/trainfix/"
# where each rule's page (docs/rules/CODE.md) is published; one place to change
RULE_URL = "https://github.com/trainfix/trainfix/blob/main/docs/rules/{code}.md"
Json = dict[str, Any]  # a JSON object, as json.dumps takes it
ERROR = re.compile(r"^(?::cell (?P<cell>\d+))?(?::(?P<line>\d+))?(?::(?P<column>\d+))?: error: (?P<reason>.*)$", re.S)


def rule_url(code: str) -> str:
    return RULE_URL.format(code=code)


class ErrorPlace(NamedTuple):
    reason: str
    line: int | None
    column: int | None
    cell: int | None


def error_location(o: FileOutcome) -> ErrorPlace:
    """An error outcome's reason, line, column and cell, from its `path[:cell N][:line[:col]]: error: reason`."""
    error = o.error or ""
    m = ERROR.match(error[len(o.path):]) if error.startswith(o.path) else None
    if m is None:
        return ErrorPlace(error, None, None, None)

    def number(group: str) -> int | None:
        return int(m.group(group)) if m.group(group) else None

    return ErrorPlace(m.group("reason"), number("line"), number("column"), number("cell"))


def render(report: Report, fmt: str, root: Path | None = None) -> str:
    """The report in one of the machine formats."""
    if fmt == "json":
        return json.dumps(json_records(report), indent=2) + "\n"
    if fmt == "json-lines":
        return "".join(json.dumps(record) + "\n" for record in json_records(report))
    if fmt == "junit":
        return junit(report)
    if fmt == "gitlab":
        return gitlab(report)
    if fmt == "github":
        return github(report)
    if fmt == "sarif":
        return sarif(report, root) + "\n"
    raise ValueError(f"no renderer for {fmt!r}")


# -- GitHub workflow commands ---------------------------------------------------------
def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(report: Report) -> str:
    """One `::error file=…,line=…,col=…::` workflow command per finding and per failed file."""
    lines = []
    for o, f in report.remaining():
        path, line, col, end_line, end_col, cell = report.location(o, f)
        props = [f"title={_escape_property(f'trainfix ({f.code})')}", f"file={_escape_property(path)}"]
        region = file_region(o, f)  # for a notebook: a line of the .ipynb text, not of the cell
        if region is not None:
            props += [f"line={region['startLine']}", f"col={region['startColumn']}",
                      f"endLine={region['endLine']}", f"endColumn={region['endColumn']}"]
        where = f"{path}:cell {cell}:{line}:{col}" if cell is not None else f"{path}:{line}:{col}"
        mark = " [*]" if report.fixable(f) else ""
        lines.append(f"::error {','.join(props)}::{_escape_data(f'{where}: {f.code} {f.message}{mark}')}")
    for o in report.errors:
        place = error_location(o)
        error = f"title=trainfix (error),file={_escape_property(o.path)}"
        if place.line and place.cell is None:  # a cell's line is not a line of the .ipynb file
            error += f",line={place.line}" + (f",col={place.column}" if place.column else "")
        lines.append(f"::error {error}::{_escape_data(o.error or '')}")
    return "".join(line + "\n" for line in lines)


# -- SARIF 2.1.0 ----------------------------------------------------------------------
def repo_root(start: Path | None = None) -> Path:
    """The enclosing git work tree (where code scanning resolves URIs), else the folder itself."""
    start = (start or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def rule_descriptor(rule: Rule) -> Json:
    s = sections(rule)
    _, _, body = rule.doc.partition("\n")
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.summary},
        "fullDescription": {"text": " ".join(s.get("What it does", rule.summary).split())},
        "help": {"text": body.strip(), "markdown": body.strip()},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness", "keras"], "precision": "high", "fixSafety": rule.fix.label},
    }


def _uri(path: str, root: Path) -> tuple[str, bool]:
    """(uri, relative to root?) — code scanning wants repository-relative URIs."""
    if path == "-":
        return "-", False
    absolute = Path(os.path.abspath(path))
    try:
        rel = absolute.relative_to(root)
    except ValueError:
        return absolute.as_uri(), False
    return quote(rel.as_posix()), True


def _region(line: int, col: int, end_line: int, end_col: int) -> Json:
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def _fix(report: Report, o: FileOutcome, f: Finding, artifact: Json) -> Json | None:
    """The fix as one replacement in the file (None for notebooks: cell text is not file text)."""
    if f.fix is None or f.edit is None or o.texts.cells is not None:
        return None
    text = report.text_of(o)  # the text the finding's positions and edit refer to
    if not text:
        return None
    starts = LineIndex(text).starts
    edit = f.edit

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(starts, offset)
        return line, offset - starts[line - 1] + 1

    start_line, start_col = position(edit.start)
    end_line, end_col = position(edit.end)
    deleted = _region(start_line, start_col, end_line, end_col)
    deleted.update(charOffset=edit.start, charLength=edit.end - edit.start)
    return {
        "description": {"text": f"{f.fix.message} ({f.fix.applicability} fix)"},
        "artifactChanges": [{
            "artifactLocation": artifact,
            "replacements": [{"deletedRegion": deleted, "insertedContent": {"text": edit.text}}],
        }],
        "properties": {"applicability": f.fix.applicability},
    }


def file_region(o: FileOutcome, f: Finding) -> Json | None:
    """The region in the file itself; for a notebook, where the cell's JSON string holds the call
    (None when a notebook outcome can't say)."""
    cells = o.texts.cells
    if cells is None:
        return _region(f.line, f.column, f.end_line, f.end_column)
    try:
        (line, col), (end_line, end_col) = cells.file_position(f.line, f.column), \
            cells.file_position(f.end_line, f.end_column)
    except KeyError:
        return None
    return _region(line, col, end_line, end_col)


def sarif_log(report: Report, root: Path | None = None) -> Json:
    """The report as a SARIF 2.1.0 log (a dict ready for `json.dumps`)."""
    root = (root or repo_root()).absolute()
    index = {rule.code: i for i, rule in enumerate(RULES)}
    results = []
    for o, f in report.remaining():
        path, line, col, end_line, end_col, cell = report.location(o, f)
        uri, relative = _uri(o.path, root)
        artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"} if relative else {"uri": uri}
        result = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error",
            # SARIF has no notebook cells: the region is in the cell, and the message says which
            "message": {"text": f.message if cell is None else f"Cell {cell}, line {line}: {f.message}"},
            "locations": [{"physicalLocation": {"artifactLocation": artifact,
                                                "region": file_region(o, f) or
                                                _region(line, col, end_line, end_col)}}],
        }
        fix = _fix(report, o, f, artifact)
        if fix is not None:
            result["fixes"] = [fix]
        properties: Json = {}
        if f.fix is not None:
            properties["fixApplicability"] = f.fix.applicability
        if cell is not None:  # where the call is within the notebook as Jupyter shows it
            properties.update(cell=cell, cellLine=line, cellColumn=col)
        if properties:
            result["properties"] = properties
        results.append(result)
    notifications = []
    for o in report.errors:
        uri, relative = _uri(o.path, root)
        artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"} if relative else {"uri": uri}
        physical: Json = {"artifactLocation": artifact}
        place = error_location(o)
        if place.line and place.cell is None:
            physical["region"] = {"startLine": place.line, **({"startColumn": place.column} if place.column else {})}
        notifications.append({"level": "error", "message": {"text": o.error}, "locations": [{"physicalLocation": physical}]})
    run = {
        "tool": {"driver": {
            "name": "trainfix",
            "version": __version__,
            "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": [rule_descriptor(rule) for rule in RULES],
        }},
        "originalUriBaseIds": {"%SRCROOT%": {"uri": root.as_uri().rstrip("/") + "/"}},
        "invocations": [{"executionSuccessful": not report.errors,
                         "toolExecutionNotifications": notifications}],
        "columnKind": "unicodeCodePoints",
        "results": results,
    }
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}


def sarif(report: Report, root: Path | None = None) -> str:
    return json.dumps(sarif_log(report, root), indent=2)


def statistics_json(report: Report) -> str:
    return json.dumps([{"code": code, "name": BY_CODE[code].name, "count": n, "fixable": k}
                       for code, n, k in report.statistics()], indent=2) + "\n"


# -- json / json-lines: ruff's record shape, plus trainfix's own fields ---------------------
def _edit_json(report: Report, o: FileOutcome, f: Finding) -> list[Json] | None:
    """The fix's edits as ruff gives them: replacement `content` and 1-based `location`/`end_location`
    (row, column), plus the character offsets in the file; None for a notebook (offsets of its cells)."""
    if f.edit is None or o.texts.cells is not None:
        return None
    text = report.text_of(o)
    if not text:
        return None
    starts = LineIndex(text).starts

    def position(offset: int) -> Json:
        line = bisect.bisect_right(starts, offset)
        return {"row": line, "column": offset - starts[line - 1] + 1}

    return [{"content": f.edit.text, "location": position(f.edit.start), "end_location": position(f.edit.end),
             "offset": f.edit.start, "end_offset": f.edit.end}]


def json_records(report: Report) -> list[Json]:
    """Findings (trainfix 0.1's fields, ruff's `location`, `fix.edits`, `url`), then errors (`code`: null)."""
    records = []
    for (o, f), record in zip(report.remaining(), report.json_records()):
        record["url"] = rule_url(f.code)
        record["location"] = {"row": record["line"], "column": record["column"]}
        record["end_location"] = {"row": record["end_line"], "column": record["end_column"]}
        if record["fix"] is not None and f.fix is not None:
            record["fix"]["edits"] = _edit_json(report, o, f)
            if f.fix.reason:
                record["fix"]["reason"] = f.fix.reason
        records.append(record)
    for o in report.errors:
        place = error_location(o)
        error: Json = {"code": None, "name": "error", "message": place.reason, "filename": o.path,
                       "line": place.line, "column": place.column, "end_line": place.line,
                       "end_column": place.column, "fix": None, "url": None,
                       "location": {"row": place.line, "column": place.column} if place.line else None}
        if place.cell is not None:
            error["cell"] = place.cell
        records.append(error)
    return records


# -- JUnit XML (what Jenkins, GitLab and CI test reports read) --------------------------------
def junit(report: Report) -> str:
    """One <testsuite> per file, one failing <testcase> per finding, an <error> per file that failed."""
    from xml.sax.saxutils import quoteattr, escape

    by_file: dict[str, list[tuple[FileOutcome, Finding]]] = {}
    for o, f in report.remaining():
        by_file.setdefault(o.path, []).append((o, f))
    for o in report.errors:
        by_file.setdefault(o.path, [])
    errors = {o.path: o for o in report.errors}
    total = sum(len(v) for v in by_file.values()) + len(errors)
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuites name="trainfix" tests="{total}" failures="{total - len(errors)}" errors="{len(errors)}">']
    for path, items in by_file.items():
        n_err = int(path in errors)
        out.append(f'  <testsuite name={quoteattr(path)} tests="{len(items) + n_err}" failures="{len(items)}" '
                   f'errors="{n_err}" skipped="0">')
        for o, f in items:
            _, line, col, _, _, cell = report.location(o, f)
            where = f"cell {cell}, line {line}, col {col}" if cell is not None else f"line {line}, col {col}"
            out.append(f'    <testcase name={quoteattr(f"trainfix.{f.code}")} classname={quoteattr(path)} '
                       f'file={quoteattr(path)} line="{line}">')
            out.append(f'      <failure message={quoteattr(f.message)} type={quoteattr(f.code)}>'
                       f'{escape(f"{where}, {f.message}")}</failure>')
            out.append("    </testcase>")
        if n_err:
            o = errors[path]
            out.append(f'    <testcase name="trainfix.error" classname={quoteattr(path)} file={quoteattr(path)}>')
            out.append(f'      <error message={quoteattr(error_location(o).reason)} type="error">'
                       f'{escape(o.error or "")}</error>')
            out.append("    </testcase>")
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


# -- GitLab Code Quality -----------------------------------------------------------------------
def gitlab(report: Report) -> str:
    """A Code Quality report: a JSON array of issues, each with a fingerprint that stays the same
    while the finding does (path, code, message and the call's source text; not its line number)."""
    issues: list[Json] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for o, f in report.remaining():
        path, line, col, end_line, end_col, cell = report.location(o, f)
        text = report.text_of(o)
        snippet = ""
        if text:
            starts = LineIndex(text).starts
            if f.line <= len(starts):
                end = starts[f.line] if f.line < len(starts) else len(text)
                snippet = text[starts[f.line - 1]:end].strip()
        key = (o.path, f.code, f.message, snippet)
        seen[key] = seen.get(key, 0) + 1  # the same call twice in a file: told apart by its rank
        digest = hashlib.sha256(json.dumps([*key, seen[key]]).encode()).hexdigest()
        issues.append({
            "type": "issue",
            "check_name": f.code,
            "description": f"{f.code}: {f.message}" + (f" (cell {cell})" if cell is not None else ""),
            "categories": ["Bug Risk"],
            "severity": "major",
            "fingerprint": digest,
            "location": {"path": o.path, "lines": {"begin": line, "end": end_line}},
        })
    for o in report.errors:
        place = error_location(o)
        issues.append({
            "type": "issue", "check_name": "trainfix-error", "description": o.error, "categories": ["Bug Risk"],
            "severity": "blocker",
            "fingerprint": hashlib.sha256(json.dumps([o.path, "error", place.reason]).encode()).hexdigest(),
            "location": {"path": o.path, "lines": {"begin": place.line or 1, "end": place.line or 1}},
        })
    return json.dumps(issues, indent=2) + "\n"


def rules_json() -> str:
    """`trainfix rules --output-format json`: every rule, as ruff's `rule --all --output-format json`."""
    return json.dumps([{"code": rule.code, "name": rule.name, "summary": rule.summary, "fix": rule.fix.label,
                        "default": not rule.opt_in, "url": rule_url(rule.code),
                        "explanation": rule_markdown(rule)} for rule in RULES], indent=2) + "\n"
