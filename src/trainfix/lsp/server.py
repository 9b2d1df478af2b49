"""The language server: pygls wiring around `places` (which holds the engine's results per document).

Analysis never runs on the event loop: each document's text (or a notebook's
cells) is analysed on a small thread pool, and the results are published from
the loop only if the document has not changed meanwhile. Typing is debounced;
opening and saving analyse at once. An exception while analysing one document
is logged and gives that document no diagnostics; the server goes on.
"""
from __future__ import annotations

import asyncio
import logging
import os
import traceback
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import FeatureRequestError
from pygls.lsp.server import LanguageServer

from ..version import __version__
from ..config import Config, ConfigError
from ..settings import Overrides, Settings, UnknownCodes, parse_codes
from .places import Analysis, Cell, Change, Spot, analyse_notebook, analyse_text

DEBOUNCE_SECONDS = 0.3
ANALYSIS_THREADS = 2
FIX_ALL = f"{types.CodeActionKind.SourceFixAll.value}.trainfix"
PYTHON_SUFFIXES = (".py", ".pyi")

log = logging.getLogger("trainfix.lsp")


class Job(NamedTuple):
    """What one key's analysis is of, read on the event loop, and the analysis to run off it."""

    texts: dict[str, str]  # uri -> text
    versions: dict[str, int | None]  # uri -> document version
    run: Callable[[], Analysis]


@dataclass
class Options:
    """Initialization options: the CLI's `--select`, `--ignore`, `--unsafe-fixes`, and where rule pages live."""

    select: str | None = None
    ignore: str | None = None
    unsafe_fixes: bool | None = None
    rules_url: str | None = None
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, raw: object) -> Options:
        options = cls(rules_url=default_rules_url())
        if not isinstance(raw, dict):
            return options
        for key in ("select", "ignore"):
            value = raw.get(key)
            if value is None:
                continue
            text = ",".join(value) if isinstance(value, list) else str(value)
            try:
                parse_codes(text)
            except UnknownCodes as exc:
                options.problems.append(f"initialization option {key!r}: {exc}")
                continue
            setattr(options, key, text)
        if isinstance(raw.get("unsafeFixes"), bool):
            options.unsafe_fixes = raw["unsafeFixes"]
        if isinstance(raw.get("rulesUrl"), str) and raw["rulesUrl"]:
            url = raw["rulesUrl"]
            options.rules_url = url if url.endswith("/") else url + "/"
        return options

    def overrides(self) -> Overrides:
        """The settings flags `trainfix check` would be given."""
        return Overrides(select=self.select, ignore=self.ignore, unsafe_fixes=self.unsafe_fixes)


def default_rules_url() -> str | None:
    """docs/rules/ of the checkout trainfix runs from (an editable install), as a file URI."""
    folder = Path(__file__).resolve().parents[3] / "docs" / "rules"
    return folder.as_uri() + "/" if (folder / "index.md").is_file() else None


def uri_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = unquote(parsed.path)
    if os.name == "nt" and path.startswith("/") and len(path) > 2 and path[2] == ":":
        path = path[1:]
    return path


def hover_markdown(code: str, rules_url: str | None) -> str:
    from ..docs import sections
    from ..rules import BY_CODE

    rule = BY_CODE[code]
    s = sections(rule)
    parts = [f"**{rule.code}** `{rule.name}`: {rule.summary}.", "",
             f"Fix: **{rule.fix.label}**. Suppress with `# trainfix: ignore[{rule.code}]` on the call's line.", ""]
    for name in ("What it does", "Why is this bad?", "Fix safety"):
        if name in s:
            parts += [f"### {name}", "", s[name], ""]
    if rules_url:
        parts.append(f"[{rule.code} rule page]({rules_url}{rule.code}.md)")
    return "\n".join(parts).rstrip() + "\n"


class TrainfixServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__(
            "trainfix", __version__,
            text_document_sync_kind=types.TextDocumentSyncKind.Incremental,
            notebook_document_sync=types.NotebookDocumentSyncOptions(
                notebook_selector=[types.NotebookDocumentFilterWithCells(
                    notebook="*", cells=[types.NotebookCellLanguage(language="python")])],
                save=True,
            ),
        )
        self.options = Options(rules_url=default_rules_url())
        self.executor = ThreadPoolExecutor(ANALYSIS_THREADS, thread_name_prefix="trainfix-analysis")
        self.analyses: dict[str, Analysis] = {}  # document or notebook uri -> latest analysis
        self.running: dict[str, tuple[dict[str, str], asyncio.Future[Analysis]]] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.published: dict[str, set[str]] = {}  # key -> uris that have diagnostics from it
        self.shown_problems: set[str] = set()

    # -- errors never pop up, they are logged ---------------------------------------------
    def report_server_error(self, error: Exception, source: object) -> None:
        if source is FeatureRequestError:
            return  # the response carries it
        self.log(f"internal error: {type(error).__name__}: {error}", types.MessageType.Error)

    def log(self, message: str, kind: types.MessageType = types.MessageType.Info) -> None:
        try:
            self.window_log_message(types.LogMessageParams(type=kind, message=f"trainfix: {message}"))
        except Exception:  # no client yet / gone
            log.warning("%s", message)

    def warn_once(self, message: str) -> None:
        if message in self.shown_problems:
            return
        self.shown_problems.add(message)
        self.window_show_message(types.ShowMessageParams(type=types.MessageType.Warning,
                                                         message=f"trainfix: {message}"))

    # -- what to analyse ---------------------------------------------------------------
    @property
    def encoding(self) -> str:
        enc = self.workspace.position_encoding
        return str(getattr(enc, "value", enc) or "utf-16")

    def key_of(self, uri: str) -> str | None:
        """The analysed unit a document belongs to: its notebook, itself, or None (not Python)."""
        notebook = self.workspace.get_notebook_document(cell_uri=uri)
        if notebook is not None:
            return notebook.uri
        if self.workspace.get_notebook_document(notebook_uri=uri) is not None:
            return uri
        doc = self.workspace.text_documents.get(unquote(uri))
        if doc is None:
            return None
        path = uri_path(uri) or ""
        if doc.language_id == "python" or path.endswith(PYTHON_SUFFIXES):
            return uri
        return None

    def job(self, key: str) -> Job | None:
        """The texts of one key, read on the loop, and a function that analyses them; None when gone."""
        notebook = self.workspace.get_notebook_document(notebook_uri=key)
        options = self.options
        fallback = self.workspace.root_path or os.getcwd()
        if notebook is not None:
            cells = []
            versions = {}
            for cell in notebook.cells:
                doc = self.workspace.text_documents.get(unquote(cell.document))
                if doc is None:
                    continue
                kind = "code" if cell.kind == types.NotebookCellKind.Code else "markdown"
                cells.append(Cell(cell.document, kind, doc.language_id, doc.source))
                versions[cell.document] = doc.version
            metadata = notebook.metadata if isinstance(notebook.metadata, dict) else None
            path = uri_path(key)
            texts = {c.uri: c.text for c in cells}

            def run() -> Analysis:
                return analyse_notebook(cells, config_for(options, path, fallback), metadata, path)
        else:
            doc = self.workspace.text_documents.get(unquote(key))
            if doc is None:
                return None
            text, path = doc.source, uri_path(key)
            texts, versions = {key: text}, {key: doc.version}

            def run() -> Analysis:
                return analyse_text(key, text, config_for(options, path, fallback), path)

        def guarded() -> Analysis:
            try:
                return run()
            except ConfigProblem as exc:  # a bad [tool.trainfix]: said once, not per keystroke
                return Analysis(dict(texts), error=str(exc))
            except Exception as exc:  # one document's crash is that document's problem only
                detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
                return Analysis(dict(texts), error=f"internal error: {type(exc).__name__}: {exc}\n{detail}")

        return Job(texts, versions, guarded)

    # -- analysing and publishing --------------------------------------------------------
    async def analysis_for(self, key: str) -> Analysis | None:
        """The analysis of the key's current texts: the cached one, the one under way, or a new one."""
        job = self.job(key)
        if job is None:
            return None
        texts, _, run = job
        cached = self.analyses.get(key)
        if cached is not None and cached.texts == texts:
            return cached
        running = self.running.get(key)
        if running is not None and running[0] == texts:
            return await asyncio.shield(running[1])
        future = asyncio.get_running_loop().run_in_executor(self.executor, run)
        self.running[key] = (texts, future)
        try:
            analysis = await asyncio.shield(future)
        finally:
            if self.running.get(key, (None, None))[1] is future:
                del self.running[key]
        if analysis.error:
            if analysis.error.startswith("internal error"):
                self.log(f"{key}: {analysis.error}", types.MessageType.Error)
            elif analysis.error.startswith("config:"):
                self.warn_once(analysis.error)
            else:
                self.log(f"{key}: no diagnostics: {analysis.error}")
        self.analyses[key] = analysis
        return analysis

    def schedule(self, key: str | None, delay: float = 0.0) -> None:
        if key is None:
            return
        old = self.pending.pop(key, None)
        if old is not None:
            old.cancel()
        self.pending[key] = asyncio.get_running_loop().create_task(self._refresh(key, delay))

    async def _refresh(self, key: str, delay: float) -> None:
        try:
            if delay:
                await asyncio.sleep(delay)
            analysis = await self.analysis_for(key)
            job = self.job(key)
            if analysis is None or job is None or job[0] != analysis.texts:
                return  # changed or closed meanwhile: a newer refresh is scheduled
            self.publish(key, analysis, job[1])
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.log(f"{key}: internal error: {type(exc).__name__}: {exc}", types.MessageType.Error)
        finally:
            if self.pending.get(key) is asyncio.current_task():
                del self.pending[key]

    def publish(self, key: str, analysis: Analysis, versions: dict[str, int | None]) -> None:
        uris = set(analysis.texts)
        for uri in sorted(self.published.get(key, set()) - uris):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
        for uri in analysis.texts:
            diagnostics = [self.diagnostic(analysis, s) for s in analysis.spots_in(uri)]
            self.text_document_publish_diagnostics(
                types.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics, version=versions.get(uri)))
        self.published[key] = uris

    def forget(self, key: str, uris: Iterable[str]) -> None:
        task = self.pending.pop(key, None)
        if task is not None:
            task.cancel()
        self.analyses.pop(key, None)
        for uri in sorted(set(uris) | self.published.pop(key, set())):
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    # -- LSP shapes ----------------------------------------------------------------------
    def range(self, analysis: Analysis, uri: str, start: int, end: int) -> types.Range:
        lines = analysis.lines(uri)
        (l1, c1), (l2, c2) = lines.position(start, self.encoding), lines.position(end, self.encoding)
        return types.Range(types.Position(l1, c1), types.Position(l2, c2))

    def diagnostic(self, analysis: Analysis, spot: Spot) -> types.Diagnostic:
        f = spot.finding
        href = f"{self.options.rules_url}{f.code}.md" if self.options.rules_url else None
        return types.Diagnostic(
            range=self.range(analysis, spot.uri, spot.start, spot.end),
            message=f.message,
            severity=types.DiagnosticSeverity.Warning,
            code=f.code,
            code_description=types.CodeDescription(href=href) if href else None,
            source="trainfix",
            data={"fix": f.fix.applicability if f.fix is not None else None},
        )

    def workspace_edit(self, analysis: Analysis, changes: dict[str, list[Change]]) -> types.WorkspaceEdit:
        edits = {uri: [types.TextEdit(range=self.range(analysis, uri, c.start, c.end), new_text=c.text)
                       for c in cs] for uri, cs in changes.items()}
        caps = self.client_capabilities.workspace
        if caps and caps.workspace_edit and caps.workspace_edit.document_changes:
            document_changes = []
            for uri, text_edits in edits.items():
                doc = self.workspace.text_documents.get(unquote(uri))
                document_changes.append(types.TextDocumentEdit(
                    text_document=types.OptionalVersionedTextDocumentIdentifier(
                        uri=uri, version=doc.version if doc is not None else None),
                    edits=text_edits))
            return types.WorkspaceEdit(document_changes=document_changes)
        return types.WorkspaceEdit(changes=edits)

    def code_actions(self, analysis: Analysis, uri: str, params: types.CodeActionParams) -> list[types.CodeAction]:
        """Quick fixes and suppressions for the diagnostics in the range, and fix-all."""
        only = params.context.only
        actions: list[types.CodeAction] = []
        if _wants(only, types.CodeActionKind.QuickFix.value):
            for spot in analysis.spots_in(uri):
                diagnostic = self.diagnostic(analysis, spot)
                if not _overlaps(diagnostic.range, params.range):
                    continue
                f = spot.finding
                if spot.fix is not None and f.fix is not None:
                    safe = f.fix.applicability == "safe"
                    actions.append(types.CodeAction(
                        title=f"{f.fix.message} ({f.code})" + ("" if safe else " [unsafe fix]"),
                        kind=types.CodeActionKind.QuickFix, diagnostics=[diagnostic], is_preferred=safe,
                        edit=self.workspace_edit(analysis, {uri: [spot.fix]})))
                if spot.suppress is not None:
                    actions.append(types.CodeAction(
                        title=f"Suppress {f.code} on this line", kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic], edit=self.workspace_edit(analysis, {uri: [spot.suppress]})))
        if _wants(only, FIX_ALL) and analysis.fix_all:
            actions.append(types.CodeAction(
                title="Fix all trainfix findings", kind=FIX_ALL,
                edit=self.workspace_edit(analysis, {u: [c] for u, c in analysis.fix_all.items()})))
        return actions

    def hover_at(self, analysis: Analysis, uri: str, position: types.Position) -> types.Hover | None:
        """The rule's documentation for the finding under the cursor."""
        point = types.Range(position, position)
        for spot in analysis.spots_in(uri):
            where = self.range(analysis, uri, spot.start, spot.end)
            if _overlaps(where, point):
                return types.Hover(
                    contents=types.MarkupContent(kind=types.MarkupKind.Markdown,
                                                 value=hover_markdown(spot.finding.code, self.options.rules_url)),
                    range=where)
        return None


def config_for(options: Options, path: str | None, fallback: str) -> Config:
    """The Config `trainfix check PATH` would use: the CLI's own resolver, with the initialization options."""
    settings = Settings(options.overrides())
    try:
        return settings.for_path(Path(path), is_file=True) if path else settings.for_path(Path(fallback))
    except ConfigError as exc:
        raise ConfigProblem(f"config: {exc}") from None


class ConfigProblem(Exception):
    pass


def _wants(only: Sequence[str] | None, kind: str) -> bool:
    return not only or any(kind == o or kind.startswith(o + ".") for o in only)


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character
    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def make_server() -> TrainfixServer:
    server = TrainfixServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: TrainfixServer, params: types.InitializeParams) -> None:
        ls.options = Options.parse(params.initialization_options)

    @server.feature(types.INITIALIZED)
    def initialized(ls: TrainfixServer, params: types.InitializedParams) -> None:
        for problem in ls.options.problems:
            ls.warn_once(problem)

    @server.feature(types.SHUTDOWN)
    def shutdown(ls: TrainfixServer, params: None) -> None:
        for task in ls.pending.values():
            task.cancel()
        ls.executor.shutdown(wait=False, cancel_futures=True)

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: TrainfixServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.schedule(ls.key_of(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: TrainfixServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.schedule(ls.key_of(params.text_document.uri), DEBOUNCE_SECONDS)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: TrainfixServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.schedule(ls.key_of(params.text_document.uri))

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: TrainfixServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.forget(uri, [uri])

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_OPEN)
    def notebook_open(ls: TrainfixServer, params: types.DidOpenNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CHANGE)
    def notebook_change(ls: TrainfixServer, params: types.DidChangeNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri, DEBOUNCE_SECONDS)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_SAVE)
    def notebook_save(ls: TrainfixServer, params: types.DidSaveNotebookDocumentParams) -> None:
        ls.schedule(params.notebook_document.uri)

    @server.feature(types.NOTEBOOK_DOCUMENT_DID_CLOSE)
    def notebook_close(ls: TrainfixServer, params: types.DidCloseNotebookDocumentParams) -> None:
        ls.forget(params.notebook_document.uri, [c.uri for c in params.cell_text_documents])

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix, FIX_ALL]))
    async def code_action(ls: TrainfixServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        uri = params.text_document.uri
        key = ls.key_of(uri)
        analysis = await ls.analysis_for(key) if key else None
        if analysis is None or uri not in analysis.texts:
            return None
        return ls.code_actions(analysis, uri, params)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: TrainfixServer, params: types.HoverParams) -> types.Hover | None:
        uri = params.text_document.uri
        key = ls.key_of(uri)
        analysis = await ls.analysis_for(key) if key else None
        if analysis is None or uri not in analysis.texts:
            return None
        return ls.hover_at(analysis, uri, params.position)

    return server


def serve() -> int:
    make_server().start_io()
    return 0
