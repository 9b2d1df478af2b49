"""`trainfix server` end to end: a real LSP client (pytest-lsp) drives the real server over stdio.

Every exchange is bounded by a timeout, so a hung server fails the test instead of the run.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities, make_test_lsp_client

from trainfix.docs import sections
from trainfix.lsp.server import Options
from trainfix.rules import BY_CODE

from conftest import BUGGY, CASES, ROOT, code_blocks, run_trainfix as cli, trainfix_exe

TIMEOUT = 60  # seconds for any one exchange with the server
EXAMPLE = ROOT / "examples" / "train_custom_loop.py"
NEWLINE = re.compile(r"\r\n|\r|\n")


def bounded(test):
    """Fail an async test that runs longer than TIMEOUT instead of hanging the suite."""

    @functools.wraps(test)
    async def run(*args, **kwargs):
        await asyncio.wait_for(test(*args, **kwargs), TIMEOUT * 2)

    return pytest.mark.asyncio(run)


def vscode(notebooks: bool = True) -> types.ClientCapabilities:
    caps = client_capabilities("visual-studio-code")
    if notebooks:  # the recorded 1.65 capabilities predate notebook sync; VS Code has it since 1.70
        caps.notebook_document = types.NotebookDocumentClientCapabilities(
            synchronization=types.NotebookDocumentSyncClientCapabilities())
    return caps


@contextlib.asynccontextmanager
async def served(root: Path, options: dict | None = None, capabilities: types.ClientCapabilities | None = None):
    client: LanguageClient = make_test_lsp_client()
    await client.start_io(trainfix_exe(), "server")
    try:
        result = await asyncio.wait_for(client.initialize_session(types.InitializeParams(
            capabilities=capabilities or vscode(), root_uri=root.as_uri(),
            initialization_options=options)), TIMEOUT)
        client.encoding = str(getattr(result.capabilities.position_encoding, "value", None) or "utf-16")
        yield client
        await asyncio.wait_for(client.shutdown_session(), TIMEOUT)  # shutdown, exit, and the process ends
        assert client._server.returncode == 0
    finally:
        if client._server is not None and client._server.returncode is None:
            client._server.kill()  # a failed test: don't wait for an exit the client never asked for
        await asyncio.wait_for(client.stop(), TIMEOUT)


def open_doc(client: LanguageClient, path: Path, text: str | None = None, language: str = "python") -> str:
    uri = path.as_uri()
    client.text_document_did_open(types.DidOpenTextDocumentParams(types.TextDocumentItem(
        uri=uri, language_id=language, version=1, text=path.read_bytes().decode("utf-8") if text is None else text)))
    return uri


async def diagnostics_of(client: LanguageClient, uri: str, until=lambda d: True) -> list[types.Diagnostic]:
    async def poll():
        while True:
            got = client.diagnostics.get(uri)
            if got is not None and until(got):
                return list(got)
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), TIMEOUT)


async def actions_at(client: LanguageClient, uri: str, where: types.Range, only=None) -> list[types.CodeAction]:
    return await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri), range=where,
        context=types.CodeActionContext(diagnostics=[], only=only))), TIMEOUT) or []


# -- applying what the server returns, independently of the server's own position code -----------
def _offset(text: str, pos: types.Position, encoding: str) -> int:
    starts = [0] + [m.end() for m in NEWLINE.finditer(text)]
    start = starts[pos.line]
    end = starts[pos.line + 1] if pos.line + 1 < len(starts) else len(text)
    line = NEWLINE.sub("", text[start:end])
    units = 0
    for i, ch in enumerate(line):
        if units >= pos.character:
            return start + i
        units += {"utf-8": len(ch.encode("utf-8")), "utf-32": 1}.get(encoding, 2 if ord(ch) > 0xFFFF else 1)
    return start + len(line)


def edits_by_uri(edit: types.WorkspaceEdit) -> dict[str, list[types.TextEdit]]:
    if edit.document_changes:
        return {change.text_document.uri: list(change.edits) for change in edit.document_changes}
    return {uri: list(edits) for uri, edits in (edit.changes or {}).items()}


def apply_edit(texts: dict[str, str], edit: types.WorkspaceEdit, encoding: str) -> dict[str, str]:
    out = dict(texts)
    for uri, edits in edits_by_uri(edit).items():
        text = out[uri]
        spans = sorted(((_offset(text, e.range.start, encoding), _offset(text, e.range.end, encoding), e.new_text)
                        for e in edits), key=lambda s: s[0], reverse=True)
        for start, end, new in spans:
            text = text[:start] + new + text[end:]
        out[uri] = text
    return out


def cli_findings(cwd: Path, *args) -> list[dict]:
    proc = cli("check", "--no-cache", "--output-format", "json", *args, cwd=cwd)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return json.loads(proc.stdout)


def applied(tmp_path: Path, text: str, *flags: str, name: str = "applied.py") -> str:
    """What `trainfix apply` writes for `text`, read back as bytes decoded without newline translation."""
    path = tmp_path / "apply" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    proc = cli("apply", "--no-cache", *flags, path, cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr.decode()
    return path.read_bytes().decode("utf-8")


WHOLE = types.Range(types.Position(0, 0), types.Position(100_000, 0))


# -- the tests --------------------------------------------------------------------------------
@pytest.mark.parametrize("client_spec", ["visual-studio-code", "neovim"])
@bounded
async def test_buggy_file_gives_trn001_whose_quick_fix_writes_what_apply_writes(tmp_path, client_spec):
    # CRLF line ends and a non-ASCII character before the call on its line (UTF-16 vs UTF-8 columns)
    text = BUGGY.replace("loss = tf.reduce_mean(model(x))", "loss = tf.reduce_mean(model(x)) if 'é😀' else 0")
    text = text.replace("\n", "\r\n").replace("    with", "    é = '😀'\r\n    with")
    path = tmp_path / "train.py"
    path.write_bytes(text.encode("utf-8"))
    caps = vscode() if client_spec == "visual-studio-code" else client_capabilities("neovim")
    async with served(tmp_path, capabilities=caps) as client:
        uri = open_doc(client, path, text)
        [diagnostic] = await diagnostics_of(client, uri, bool)
        assert (diagnostic.code, diagnostic.source) == ("TRN001", "trainfix")
        assert diagnostic.code_description.href.endswith("/docs/rules/TRN001.md")
        page = Path(diagnostic.code_description.href.removeprefix("file://"))
        assert page.is_file() and page.read_text().startswith("<!-- Generated")
        [record] = cli_findings(tmp_path, path)
        assert (diagnostic.message, diagnostic.range.start.line) == (record["message"], record["line"] - 1)
        line = NEWLINE.split(text)[diagnostic.range.start.line]
        assert _offset(text, diagnostic.range.start, client.encoding) - sum(
            len(ln) for ln in re.findall(r"[^\r\n]*(?:\r\n|\r|\n)", text)[:diagnostic.range.start.line]) \
            == line.index("model(x)")
        actions = await actions_at(client, uri, diagnostic.range)
        [fix] = [a for a in actions if a.kind == types.CodeActionKind.QuickFix and "training=True" in a.title]
        assert fix.is_preferred and "unsafe" not in fix.title
        fixed = apply_edit({uri: text}, fix.edit, client.encoding)[uri]
        assert fixed == applied(tmp_path, text)
        assert fixed == text.replace("model(x))", "model(x, training=True))")
        [fix_all] = await actions_at(client, uri, WHOLE, only=[types.CodeActionKind.SourceFixAll])
        assert (fix_all.kind, fix_all.title) == ("source.fixAll.trainfix", "Fix all trainfix findings")
        assert apply_edit({uri: text}, fix_all.edit, client.encoding)[uri] == fixed


@bounded
async def test_change_the_document_and_the_diagnostic_goes(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(BUGGY)
    async with served(tmp_path) as client:
        uri = open_doc(client, path)
        [diagnostic] = await diagnostics_of(client, uri, bool)
        end = diagnostic.range.end
        insert_at = types.Position(end.line, end.character - 1)  # before the call's closing bracket
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangePartial(
                range=types.Range(insert_at, insert_at), text=", training=True")]))
        assert await diagnostics_of(client, uri, lambda d: not d) == []
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=3),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY)]))
        [again] = await diagnostics_of(client, uri, bool)
        assert again.range == diagnostic.range
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
        client.text_document_did_close(types.DidCloseTextDocumentParams(types.TextDocumentIdentifier(uri)))
        assert await diagnostics_of(client, uri, lambda d: not d) == []


@bounded
async def test_typing_is_analysed_once_it_pauses_and_saving_analyses_again(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(BUGGY)
    async with served(tmp_path) as client:
        uri = open_doc(client, path)
        await diagnostics_of(client, uri, bool)
        published = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        for version in range(2, 22):  # a burst of keystrokes, closer together than the pause
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY + f"# {version}\n")]))
            await asyncio.sleep(0.01)
        params = await asyncio.wait_for(published, TIMEOUT)
        assert (params.uri, params.version, len(params.diagnostics)) == (uri, 21, 1)  # one analysis, of the last
        published = client.protocol.wait_for_notification_async(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        client.text_document_did_save(types.DidSaveTextDocumentParams(types.TextDocumentIdentifier(uri)))
        params = await asyncio.wait_for(published, TIMEOUT)
        assert (params.uri, params.version, len(params.diagnostics)) == (uri, 21, 1)


@bounded
async def test_cli_and_server_report_the_same_findings_and_fix_all_writes_what_apply_writes(tmp_path):
    tree = tmp_path / "tree"
    tree.mkdir()
    files = []
    for i, case in enumerate(CASES):
        if (case / "before.py").is_file():
            files.append(tree / f"case_{i:02d}.py")
            shutil.copyfile(case / "before.py", files[-1])
        else:  # a directory case: models imported from a sibling module (the project index needs the path)
            shutil.copytree(case / "before", tree / f"case_{i:02d}")
            files += sorted((tree / f"case_{i:02d}").rglob("*.py"))
    project = tree / "project"  # a [tool.trainfix] table upward of the file, found as the CLI finds it
    (project / "src").mkdir(parents=True)
    (project / "pyproject.toml").write_text('[tool.trainfix]\nignore = ["TRN004"]\n')
    files.append(project / "src" / "example.py")
    shutil.copyfile(EXAMPLE, files[-1])
    shutil.copytree(tree, tmp_path / "applied")
    proc = cli("apply", "--no-cache", tmp_path / "applied", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr.decode()

    def key(record):
        return record["code"], record["message"], record["line"] - 1, record["column"] - 1, \
            record["end_line"] - 1, record["end_column"] - 1

    expected = {path.as_uri(): [] for path in files}
    for record in cli_findings(tmp_path, *files):
        expected[(tmp_path / record["filename"]).as_uri()].append(key(record))
    assert sum(map(len, expected.values())) > 40
    assert expected[files[-1].as_uri()] == [  # TRN004 ignored by the project's table
        ("TRN001", "Trained model `classifier` called without `training=True`", 25, 17, 25, 30)]
    async with served(tmp_path, capabilities=vscode()) as client:
        got = {}
        for path in files:
            uri = open_doc(client, path)
            got[uri] = sorted((d.code, d.message, d.range.start.line, d.range.start.character, d.range.end.line,
                               d.range.end.character) for d in await diagnostics_of(client, uri))
        assert got == {uri: sorted(v) for uri, v in expected.items()}  # the files are ASCII: columns agree
        changed = 0
        for path in files:
            uri, text = path.as_uri(), path.read_bytes().decode("utf-8")
            actions = await actions_at(client, uri, WHOLE, only=["source.fixAll.trainfix"])
            after = apply_edit({uri: text}, actions[0].edit, client.encoding)[uri] if actions else text
            written = (tmp_path / "applied" / path.relative_to(tree)).read_bytes().decode("utf-8")
            assert after == written, path.name
            changed += after != text
        assert changed > 30


@bounded
async def test_select_and_ignore_initialization_options_match_the_cli(tmp_path):
    path = tmp_path / "example.py"
    shutil.copyfile(EXAMPLE, path)
    for options, flags in (({"select": ["TRN004"]}, ["--select", "TRN004"]), ({"ignore": "TRN004"}, ["--ignore", "TRN004"])):
        expected = [r["code"] for r in cli_findings(tmp_path, *flags, path)]
        async with served(tmp_path, options=options) as client:
            uri = open_doc(client, path)
            assert [d.code for d in await diagnostics_of(client, uri, bool)] == expected
    assert expected == ["TRN001"]
    async with served(tmp_path, options={"select": ["TRN999"], "ignore": "TRN004"}) as client:
        uri = open_doc(client, path)
        assert [d.code for d in await diagnostics_of(client, uri, bool)] == ["TRN001"]  # select left out
        [message] = client.messages
        assert message.type == types.MessageType.Warning and "TRN999" in message.message


@bounded
async def test_unsafe_fix_is_offered_labelled_and_left_out_of_fix_all(tmp_path):
    text = ("import keras\n\nmodel = keras.Sequential([keras.layers.Dense(4), keras.layers.Dropout(0.5)])\n\n\n"
            "def predict_step(x):\n    return model(x, training=True)\n")
    path = tmp_path / "serve.py"
    path.write_text(text)
    [record] = cli_findings(tmp_path, path)
    assert record["fix"]["applicability"] == "unsafe"
    async with served(tmp_path) as client:
        uri = open_doc(client, path)
        [diagnostic] = await diagnostics_of(client, uri, bool)
        actions = await actions_at(client, uri, diagnostic.range)
        [fix] = [a for a in actions if "training=False" in a.title]
        assert "unsafe" in fix.title and not fix.is_preferred
        assert apply_edit({uri: text}, fix.edit, client.encoding)[uri] == applied(tmp_path, text, "--unsafe-fixes")
        assert applied(tmp_path, text) == text  # apply without --unsafe-fixes writes nothing: nor does fix-all
        assert await actions_at(client, uri, WHOLE, only=["source.fixAll"]) == []


@bounded
async def test_suppress_adds_the_comment_keeping_one_already_there(tmp_path):
    call = "model(x))\n"
    cases = [
        (call, "model(x))  # trainfix: ignore[TRN001]\n"),
        ("model(x))  # mean over the batch\n", "model(x))  # mean over the batch  # trainfix: ignore[TRN001]\n"),
        ("model(x))  # trainfix: ignore[TRN002]\n", "model(x))  # trainfix: ignore[TRN002, TRN001]\n"),
    ]
    path = tmp_path / "train.py"
    uri = path.as_uri()
    async with served(tmp_path) as client:
        for version, (before, after) in enumerate(cases, 1):
            text = BUGGY.replace(call, before)
            if version == 1:
                open_doc(client, path, text)
            else:
                client.text_document_did_change(types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version * 10),
                    content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
            [diagnostic] = await diagnostics_of(client, uri, bool)
            actions = await actions_at(client, uri, diagnostic.range)
            [suppress] = [a for a in actions if a.title == "Suppress TRN001 on this line"]
            suppressed = apply_edit({uri: text}, suppress.edit, client.encoding)[uri]
            assert suppressed == BUGGY.replace(call, after)
            (tmp_path / "check.py").write_text(suppressed)
            assert cli_findings(tmp_path, tmp_path / "check.py") == []
            # the server sees the same: no diagnostic once the comment is in
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version * 10 + 1),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=suppressed)]))
            assert await diagnostics_of(client, uri, lambda d: not d) == []


@bounded
async def test_hover_on_a_diagnostic_shows_the_rule_docs(tmp_path):
    path = tmp_path / "train.py"
    path.write_text(BUGGY)
    async with served(tmp_path) as client:
        uri = open_doc(client, path)
        [diagnostic] = await diagnostics_of(client, uri, bool)
        hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), diagnostic.range.start)), TIMEOUT)
        assert hover.range == diagnostic.range and hover.contents.kind == types.MarkupKind.Markdown
        doc = sections(BY_CODE["TRN001"])
        for name in ("What it does", "Why is this bad?", "Fix safety"):
            assert f"### {name}\n\n{doc[name]}" in hover.contents.value
        assert f"Fix: **{BY_CODE['TRN001'].fix.label}**" in hover.contents.value
        elsewhere = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(0, 0))), TIMEOUT)
        assert elsewhere is None


def notebook_cells() -> list[tuple[str, str]]:
    imports, body = BUGGY.split("\n\n\n")
    return [("markdown", "# A training loop\n"), ("code", "!pip install tensorflow\n" + imports),
            ("code", "%time\n" + body.rstrip("\n"))]


@bounded
async def test_notebook_cells_get_diagnostics_and_fixes_in_cell_positions(tmp_path):
    cells = notebook_cells()
    nb_path = tmp_path / "loop.ipynb"
    nb_path.write_text(json.dumps({"cells": [
        {"cell_type": kind, "metadata": {}, "source": text, **({"outputs": [], "execution_count": None}
                                                                 if kind == "code" else {})}
        for kind, text in cells], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    [record] = cli_findings(tmp_path, nb_path)
    assert record["cell"] == 3
    uris = [f"vscode-notebook-cell:{nb_path}#cell{i}" for i in range(len(cells))]
    async with served(tmp_path) as client:
        client.notebook_document_did_open(types.DidOpenNotebookDocumentParams(
            notebook_document=types.NotebookDocument(
                uri=nb_path.as_uri(), notebook_type="jupyter-notebook", version=1,
                cells=[types.NotebookCell(kind=types.NotebookCellKind.Code if kind == "code" else
                                          types.NotebookCellKind.Markup, document=uri)
                       for (kind, _), uri in zip(cells, uris)]),
            cell_text_documents=[types.TextDocumentItem(uri=uri, language_id="python" if kind == "code" else
                                                        "markdown", version=1, text=text)
                                 for (kind, text), uri in zip(cells, uris)]))
        [diagnostic] = await diagnostics_of(client, uris[2], bool)
        assert await diagnostics_of(client, uris[1]) == []
        assert (diagnostic.code, diagnostic.range.start.line, diagnostic.range.start.character) == \
            ("TRN001", record["line"] - 1, record["column"] - 1)
        [fix] = [a for a in await actions_at(client, uris[2], diagnostic.range) if "training=True" in a.title]
        texts = {uri: text for (_, text), uri in zip(cells, uris)}
        fixed = apply_edit(texts, fix.edit, client.encoding)
        proc = cli("apply", "--no-cache", nb_path, cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr.decode()
        assert [fixed[uri] for uri in uris] == ["".join(c["source"]) for c in json.loads(nb_path.read_text())["cells"]]
        # an edit to the cell (the fix, typed in) clears its diagnostic
        client.notebook_document_did_change(types.DidChangeNotebookDocumentParams(
            notebook_document=types.VersionedNotebookDocumentIdentifier(version=2, uri=nb_path.as_uri()),
            change=types.NotebookDocumentChangeEvent(cells=types.NotebookDocumentCellChanges(
                text_content=[types.NotebookDocumentCellContentChanges(
                    document=types.VersionedTextDocumentIdentifier(uri=uris[2], version=2),
                    changes=[types.TextDocumentContentChangeWholeDocument(text=fixed[uris[2]])])]))))
        assert await diagnostics_of(client, uris[2], lambda d: not d) == []


@bounded
async def test_a_file_that_does_not_parse_gives_no_diagnostics_and_no_popup(tmp_path):
    path = tmp_path / "broken.py"
    broken = BUGGY.replace("def train_step(x):", "def train_step(x)")
    path.write_text(broken)
    async with served(tmp_path) as client:
        uri = open_doc(client, path)
        assert await diagnostics_of(client, uri) == []
        assert (await actions_at(client, uri, WHOLE)) == []
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=BUGGY)]))
        assert [d.code for d in await diagnostics_of(client, uri, bool)] == ["TRN001"]
        assert client.messages == []  # nothing shown to the user as an error


@bounded
async def test_the_server_survives_documents_it_cannot_handle(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(BUGGY)
    async with served(tmp_path) as client:
        # a change to a document never opened, a lone surrogate, NUL bytes, requests about unknown documents
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=(tmp_path / "never.py").as_uri(), version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text="x = 1\n")]))
        odd = [open_doc(client, tmp_path / "surrogate.py", BUGGY + "s = '\ud800'\n"),
               open_doc(client, tmp_path / "nul.py", BUGGY + "\0\n")]
        for uri in odd:
            assert await diagnostics_of(client, uri) == []
        assert await actions_at(client, (tmp_path / "unknown.py").as_uri(), WHOLE) == []
        uri = open_doc(client, good)
        assert [d.code for d in await diagnostics_of(client, uri, bool)] == ["TRN001"]
        assert client.messages == []


@bounded
async def test_a_large_file_does_not_hold_up_other_requests(tmp_path):
    small = tmp_path / "small.py"
    small.write_text(BUGGY)
    imports, body = BUGGY.split("\n\n\n")
    steps = 1500
    large = tmp_path / "large.py"
    large.write_text(imports + "\n\n\n" + "\n\n".join(body.replace("train_step", f"train_step_{i}")
                                                      for i in range(steps)))
    async with served(tmp_path) as client:
        small_uri = open_doc(client, small)
        [diagnostic] = await diagnostics_of(client, small_uri, bool)
        large_uri = open_doc(client, large)
        started = time.monotonic()
        hover = await asyncio.wait_for(client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(small_uri), diagnostic.range.start)), TIMEOUT)
        answered = time.monotonic() - started
        assert hover is not None and large_uri not in client.diagnostics  # answered while the large file is analysed
        found = await diagnostics_of(client, large_uri, bool)
        assert len(found) == steps
        assert answered < (time.monotonic() - started) / 4, (answered, time.monotonic() - started)


def test_without_the_extra_the_server_names_the_install_command(tmp_path):
    # `sys.modules[name] = None` makes `import name` fail as if the package were not installed
    code = "import sys; sys.modules['pygls'] = None; from trainfix.cli import main; main(['server'])"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, cwd=tmp_path)
    assert proc.returncode == 2
    # trainfix is not on PyPI: the hint names the extra's own packages, for this interpreter
    assert f"{sys.executable} -m pip install 'pygls" in proc.stderr and "lsprotocol" in proc.stderr
    assert "trainfix[lsp]" not in proc.stderr and proc.stdout == ""


def test_editor_setup_snippets_start_this_server_with_options_it_accepts():
    blocks = code_blocks((ROOT / "docs" / "editors.md").read_text())
    by_kind: dict[str, list[str]] = {}
    for info, body in blocks:
        by_kind.setdefault(info, []).append(body)
    vscode_settings, jupyter = (json.loads(b) for b in by_kind["json"])
    assert [vscode_settings["glspc.server.command"], *vscode_settings["glspc.server.commandArguments"]] == \
        ["trainfix", "server"]
    assert "source.fixAll.trainfix" in vscode_settings["editor.codeActionsOnSave"]
    assert jupyter["LanguageServerManager"]["language_servers"]["trainfix"]["argv"] == ["trainfix", "server"]
    import tomllib

    [helix] = [tomllib.loads(b) for b in by_kind["toml languages.toml"]]
    server = helix["language-server"]["trainfix"]
    assert [server["command"], *server["args"]] == ["trainfix", "server"]
    assert "trainfix" in helix["language"][0]["language-servers"]
    for options in (vscode_settings["glspc.server.initializationOptions"], server["config"]):
        parsed = Options.parse(options)
        assert parsed.problems == [] and parsed.ignore == "TRN005"
    for lua in by_kind["lua"]:
        assert '{ "trainfix", "server" }' in lua and "init_options = { ignore = { \"TRN005\" } }" in lua
    readme = [line for line in (ROOT / "README.md").read_text().splitlines() if "docs/editors.md" in line]
    assert len(readme) == 1 and "trainfix server" in readme[0]
