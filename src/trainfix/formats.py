"""Machine-readable renderings of a `Report`: json, github annotations, SARIF 2.1.0.

Each renderer takes the report and returns the whole text to print; the CLI
only chooses one. Text output stays in `report.py` (`Report.text_lines`).
"""
from __future__ import annotations

import bisect
import json
import os
from pathlib import Path
from urllib.parse import quote

from . import __version__
from .config import OUTPUT_FORMATS
from .docs import fix_safety, sections
from .report import FileOutcome, Report
from .rules import BY_CODE, RULES, Finding
from .transform import LineIndex

FORMATS = OUTPUT_FORMATS
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/trainfix/"


def render(report: Report, fmt: str, root: Path | None = None) -> str:
    """The report in one of the machine formats (`json`, `github`, `sarif`)."""
    if fmt == "json":
        return report.json() + "\n"
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
        lines.append(f"::error title=trainfix (error),file={_escape_property(o.path)}::{_escape_data(o.error)}")
    return "".join(line + "\n" for line in lines)


# -- SARIF 2.1.0 ----------------------------------------------------------------------
def repo_root(start: Path | None = None) -> Path:
    """The enclosing git work tree (where code scanning resolves URIs), else the folder itself."""
    start = (start or Path.cwd()).absolute()
    for folder in (start, *start.parents):
        if (folder / ".git").exists():
            return folder
    return start


def rule_descriptor(rule) -> dict:
    s = sections(rule)
    _, _, body = (rule.__doc__ or "").partition("\n")
    return {
        "id": rule.CODE,
        "name": rule.NAME,
        "shortDescription": {"text": rule.SUMMARY},
        "fullDescription": {"text": " ".join(s.get("What it does", rule.SUMMARY).split())},
        "help": {"text": body.strip(), "markdown": body.strip()},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness", "keras"], "precision": "high", "fixSafety": fix_safety(rule)},
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


def _region(line: int, col: int, end_line: int, end_col: int) -> dict:
    return {"startLine": line, "startColumn": col, "endLine": end_line, "endColumn": end_col}


def _fix(report: Report, o: FileOutcome, f: Finding, artifact: dict) -> dict | None:
    """The fix as one replacement in the file (None for notebooks: cell text is not file text)."""
    if f.fix is None or f.edit is None or o.locate is not None:
        return None
    written = report.mode == "apply" and not report.diff and o.written
    text = o.new if written else o.old  # the text the finding's positions and edit refer to
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


def file_region(o: FileOutcome, f: Finding) -> dict | None:
    """The region in the file itself; for a notebook, where the cell's JSON string holds the call
    (None when a notebook outcome can't say)."""
    if o.locate is None:
        return _region(f.line, f.column, f.end_line, f.end_column)
    position = getattr(o.locate, "file_position", None)
    try:
        (line, col), (end_line, end_col) = position(f.line, f.column), position(f.end_line, f.end_column)
    except (KeyError, TypeError):
        return None
    return _region(line, col, end_line, end_col)


def sarif_log(report: Report, root: Path | None = None) -> dict:
    """The report as a SARIF 2.1.0 log (a dict ready for `json.dumps`)."""
    root = (root or repo_root()).absolute()
    index = {rule.CODE: i for i, rule in enumerate(RULES)}
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
        properties = {}
        if f.fix is not None:
            properties["fixApplicability"] = f.fix.applicability
        if cell is not None:
            properties["cell"] = cell
        if properties:
            result["properties"] = properties
        results.append(result)
    notifications = []
    for o in report.errors:
        uri, relative = _uri(o.path, root)
        artifact = {"uri": uri, "uriBaseId": "%SRCROOT%"} if relative else {"uri": uri}
        notifications.append({"level": "error", "message": {"text": o.error},
                              "locations": [{"physicalLocation": {"artifactLocation": artifact}}]})
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
    return json.dumps([{"code": code, "name": BY_CODE[code].NAME, "count": n, "fixable": k}
                       for code, n, k in report.statistics()], indent=2) + "\n"
