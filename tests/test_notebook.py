"""Tests for trainfix.notebook: .ipynb in, one Python program out, and back.

The engine is simulated by string edits of `Notebook.source` of the kind it
makes: an argument inserted into a call, or a new `training=...,` line in a
multi-line call.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
try:
    from trainfix.notebook import NotebookError, NotPythonNotebookError, parse_notebook
except ImportError:  # not installed: run from the source tree
    sys.path.insert(0, str(ROOT / "src"))
    from trainfix.notebook import NotebookError, NotPythonNotebookError, parse_notebook

NOTEBOOKS = Path(__file__).resolve().parent / "notebooks"
GOOD = ["training_loop.ipynb", "colab.ipynb", "string_source.ipynb", "clean.ipynb"]


# --------------------------------------------------------------------------- helpers


def read(name: str) -> bytes:
    return (NOTEBOOKS / name).read_bytes()


def jupyter_dump(nb: dict, ensure_ascii: bool = False) -> bytes:
    """Exactly how Jupyter (nbformat) writes a notebook."""
    return (json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=ensure_ascii) + "\n").encode("utf-8")


def make_notebook(*sources, kind: str = "code", **dump) -> bytes:
    """A notebook whose code cells have the given sources (as line lists)."""
    cells = []
    for src in sources:
        if isinstance(src, dict):
            cells.append(src)
            continue
        cells.append(
            {"cell_type": kind, "execution_count": None, "metadata": {}, "outputs": [], "source": src.splitlines(True)}
        )
    nb = {
        "cells": cells,
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    if dump:
        return json.dumps(nb, **dump).encode("utf-8")
    return jupyter_dump(nb)


def edit(source: str, old: str, new: str) -> str:
    """One engine edit: `old` must occur exactly once."""
    assert source.count(old) == 1, (old, source.count(old))
    return source.replace(old, new)


def cell_text(data: dict, number: int) -> str:
    src = data["cells"][number - 1]["source"]
    return "".join(src) if isinstance(src, list) else src


def with_cell_sources(data: dict, sources: dict[int, str]) -> dict:
    """`data` with the code of some cells replaced, in the same shape (list of lines or string)."""
    data = json.loads(json.dumps(data))
    for number, text in sources.items():
        cell = data["cells"][number - 1]
        cell["source"] = text.splitlines(True) if isinstance(cell["source"], list) else text
    return data


def changed_span(old: bytes, new: bytes) -> tuple[bytes, bytes]:
    """The differing middle parts of two byte strings (after the common prefix and suffix)."""
    p = 0
    while p < min(len(old), len(new)) and old[p] == new[p]:
        p += 1
    s = 0
    while s < min(len(old), len(new)) - p and old[-1 - s] == new[-1 - s]:
        s += 1
    return old[p : len(old) - s], new[p : len(new) - s]


def assert_only_sources_changed(raw: bytes, new: bytes, sources: dict[int, str]) -> None:
    before, after = json.loads(raw), json.loads(new)
    assert after == with_cell_sources(before, sources)
    for number, text in sources.items():
        assert cell_text(after, number) == text




# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("name", GOOD)
def test_round_trip_is_byte_identical(name):
    raw = read(name)
    nb = parse_notebook(raw)
    assert nb.render(nb.source) == raw
    assert nb.changed_cells(nb.source) == []
    assert nb.diff(nb.source, "a/x", "b/x") == ""
    ast.parse(nb.source)


@pytest.mark.parametrize("name", GOOD)
def test_source_lines_map_back_to_cells(name):
    """Every line of the program is the cell's own line, or a masked one."""
    raw = read(name)
    nb = parse_notebook(raw)
    data = json.loads(raw)
    for i, line in enumerate(nb.source.splitlines(), 1):
        number, cline = nb.locate(i)
        if "[trainfix cell " in line:
            assert line.endswith(f"cell {number}]") and cline == 1
            continue
        original = cell_text(data, number).splitlines()[cline - 1]
        if line != original:
            assert "# trainfix-mask-" in line
            assert original.lstrip()[:1] in set("!%?") or "= !" in original or "= %" in original or original.endswith("?")
            # same indentation, so the block structure is unchanged
            assert line[: len(line) - len(line.lstrip())] == original[: len(original) - len(original.lstrip())]


def test_training_loop_program():
    nb = parse_notebook(read("training_loop.ipynb"))
    # markdown cells 1 and 6 and the %%bash cell 3 are not part of the program
    assert nb.code_cells == [2, 4, 5, 7, 8, 9, 10, 11, 12]
    assert "nvidia-smi" not in nb.source
    assert "# %% [trainfix cell 3]" not in nb.source
    src = nb.source
    assert "import tensorflow as tf\n" in src
    assert "pip install" not in src and "%matplotlib" not in src and "summary?" not in src
    assert "??keras" not in src and "%time " not in src and "%%time" not in src
    assert "data_files = None  # trainfix-mask-" in src  # x = !cmd keeps its target
    # not magics: lines in a triple-quoted string, a backslash continuation
    assert "!this line is inside a string: not a shell escape\n%and neither is this one\n" in src
    assert "BATCHES = len(x_train) // \\\n    128\n" in src
    # the shell escape inside the for loop keeps the loop body valid
    assert '    pass  # trainfix-mask-' in src
    ast.parse(src)


# --------------------------------------------------------------------------- fixes


def training_loop_edits(source: str) -> str:
    source = edit(source, "        logits = model(x)\n", "        logits = model(x, training=True)\n")
    # a multi-line call gains a line
    return edit(source, "    logits = model(\n        x,\n", "    logits = model(\n        x,\n        training=False,\n")


def test_fix_training_loop_split_across_cells():
    raw = read("training_loop.ipynb")
    nb = parse_notebook(raw)
    data = json.loads(raw)
    new = nb.render(training_loop_edits(nb.source))
    want = {
        8: cell_text(data, 8).replace("model(x)", "model(x, training=True)"),
        10: cell_text(data, 10).replace("        x,\n", "        x,\n        training=False,\n"),
    }
    assert_only_sources_changed(raw, new, want)
    # the magics of cell 10 (%time, ??) are restored exactly
    assert "%time val_loss = val_step(x_test[:512], y_test[:512])\n??keras.Model.fit" in cell_text(json.loads(new), 10)
    # byte for byte what Jupyter itself would have written
    assert new == jupyter_dump(with_cell_sources(data, want))
    # ... which is the fixture that needs no change
    assert new == read("clean.ipynb")


def test_single_fix_changes_only_the_inserted_bytes():
    raw = read("training_loop.ipynb")
    nb = parse_notebook(raw)
    new = nb.render(edit(nb.source, "logits = model(x)\n", "logits = model(x, training=True)\n"))
    assert changed_span(raw, new) == (b"", b", training=True")


def test_inserted_line_is_a_new_list_element():
    raw = read("training_loop.ipynb")
    nb = parse_notebook(raw)
    new = nb.render(edit(nb.source, "        x,\n    )\n", "        x,\n        training=False,\n    )\n"))
    old_part, new_part = changed_span(raw, new)
    assert old_part == b""  # nothing removed: a new element between the old ones
    assert new_part.count(b"\n") == 1 and b'training=False,\\n",\n' in new_part


def test_changed_cells_and_locate():
    raw = read("training_loop.ipynb")
    nb = parse_notebook(raw)
    data = json.loads(raw)
    lines = nb.source.splitlines()
    assert nb.locate(lines.index("        logits = model(x)") + 1) == (8, 4)
    assert nb.locate(lines.index("    logits = model(") + 1) == (10, 2)
    assert nb.locate(lines.index("import numpy as np") + 1) == (2, 3)
    assert nb.locate(1) == (2, 1)  # the marker line of the first cell
    changed = nb.changed_cells(training_loop_edits(nb.source))
    assert [c[0] for c in changed] == [8, 10]
    _number, old, new = changed[1]
    assert old == cell_text(data, 10)
    assert new == old.replace("        x,\n", "        x,\n        training=False,\n")


def test_colab_notebook_outputs_metadata_key_order():
    raw = read("colab.ipynb")
    nb = parse_notebook(raw)
    data = json.loads(raw)
    assert nb.code_cells == [2, 3, 4, 5, 6]
    new = nb.render(edit(nb.source, "preds = net(xb)", "preds = net(xb, training=True)"))
    want = {5: cell_text(data, 5).replace("net(xb)", "net(xb, training=True)")}
    assert_only_sources_changed(raw, new, want)
    assert changed_span(raw, new) == (b"", b", training=True")
    # indent 2, Colab's key order, UTF-8 text, no final newline: all kept
    assert new == json.dumps(with_cell_sources(data, want), indent=2, ensure_ascii=False).encode("utf-8")
    assert list(json.loads(new)) == ["nbformat", "nbformat_minor", "metadata", "cells"]
    assert "Époque 1/3 — perte 0.512".encode() in new


def test_string_sources_ascii_escapes_and_crlf():
    raw = read("string_source.ipynb")
    assert raw.isascii()
    nb = parse_notebook(raw)
    data = json.loads(raw)
    src = edit(nb.source, "            y_pred = self(x)\r\n", "            y_pred = self(x, training=True)\r\n")
    src = edit(src, "y_pred = self(x)  # prédiction", "y_pred = self(x, training=False)  # prédiction")
    new = nb.render(src)
    text = cell_text(data, 3)
    want = {
        3: text.replace("y_pred = self(x)\r\n", "y_pred = self(x, training=True)\r\n").replace(
            "self(x)  #", "self(x, training=False)  #"
        )
    }
    assert_only_sources_changed(raw, new, want)
    assert isinstance(json.loads(new)["cells"][2]["source"], str)
    # still \u-escaped ASCII, as json.dump(ensure_ascii=True) writes it
    assert new.isascii()
    assert b'self(x, training=False)  # pr\\u00e9diction\\r\\n' in new
    assert new == jupyter_dump(with_cell_sources(data, want), ensure_ascii=True)


def test_notebook_that_needs_no_change_is_not_rewritten():
    raw = read("clean.ipynb")
    nb = parse_notebook(raw)
    assert nb.render(nb.source) is raw or nb.render(nb.source) == raw
    assert nb.changed_cells(nb.source) == []


@pytest.mark.parametrize(
    "dump",
    [
        {"indent": 1, "sort_keys": True, "ensure_ascii": False},
        {"indent": 2, "sort_keys": True, "ensure_ascii": False},
        {"indent": 2, "ensure_ascii": True},
        {"indent": 4, "ensure_ascii": False},
        {"indent": "\t", "ensure_ascii": False},
        {"ensure_ascii": False},
        {"separators": (",", ":"), "ensure_ascii": True},
    ],
    ids=["jupyter", "indent2-sorted", "indent2-ascii", "indent4", "tab", "compact", "minified-ascii"],
)
def test_json_styles(dump):
    cell = "# modèle → ☃\nwith tf.GradientTape() as tape:\n    out = model(\n        x,\n    )\n    y = model(x)  # é"
    raw = make_notebook("import keras\n", cell, **dump)
    nb = parse_notebook(raw)
    assert nb.render(nb.source) == raw
    src = edit(nb.source, "    y = model(x)  # é", "    y = model(x, training=True)  # é")
    src = edit(src, "        x,\n", "        x,\n        training=True,\n")
    new = nb.render(src)
    want = {2: cell.replace("model(x)", "model(x, training=True)").replace("x,\n", "x,\n        training=True,\n")}
    assert_only_sources_changed(raw, new, want)
    assert new == json.dumps(with_cell_sources(json.loads(raw), want), **dump).encode("utf-8")


def test_unchanged_lines_keep_their_own_escapes():
    """A hand-edited file with \\u escapes next to UTF-8: untouched lines keep their bytes."""
    raw = make_notebook("a = 'caf\u00e9'\ny = model(x)\n").replace("café".encode(), b"caf\\u00E9")
    nb = parse_notebook(raw)
    new = nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)"))
    assert changed_span(raw, new) == (b"", b", training=True")


def test_cell_without_final_newline_and_bom():
    raw = b"\xef\xbb\xbf" + make_notebook("y = model(x)")
    nb = parse_notebook(raw)
    assert nb.render(nb.source) == raw
    new = nb.render(edit(nb.source, "y = model(x)\n", "y = model(x, training=True)\n"))
    assert new.startswith(b"\xef\xbb\xbf")
    assert json.loads(new[3:])["cells"][0]["source"] == ["y = model(x, training=True)"]


def test_nan_in_outputs():
    raw = make_notebook(
        {
            "cell_type": "code",
            "execution_count": 1,
            "metadata": {},
            "outputs": [{"data": {"application/json": {"v": float("nan")}}, "metadata": {}, "output_type": "display_data"}],
            "source": ["y = model(x)"],
        }
    )
    assert b"NaN" in raw
    nb = parse_notebook(raw)
    new = nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)"))
    assert changed_span(raw, new) == (b"", b", training=True")


def test_indented_cell_is_wrapped():
    """IPython runs a cell whose lines are all indented; so must the program."""
    raw = make_notebook("import keras\n", "    model = keras.Sequential()\n    y = model(x)\n    !ls\n")
    nb = parse_notebook(raw)
    assert "if True:  # %% [trainfix cell 2]\n" in nb.source
    ast.parse(nb.source)
    lines = nb.source.splitlines()
    assert nb.locate(lines.index("    y = model(x)") + 1) == (2, 2)
    new = nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)"))
    assert changed_span(raw, new) == (b"", b", training=True")


def test_marker_text_inside_a_cell():
    cell = "# %% [trainfix cell 2]\nx = 1  # trainfix-mask-1\n!ls\ny = model(x)\n"
    raw = make_notebook(cell)
    nb = parse_notebook(raw)
    assert "trainfix1" in nb.source
    assert nb.render(nb.source) == raw
    new = nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)"))
    assert json.loads(new)["cells"][0]["source"][-1] == "y = model(x, training=True)\n"


def test_empty_and_magic_only_cells():
    raw = make_notebook("", "%load_ext autoreload\n%autoreload 2", "!ls", "y = model(x)")
    nb = parse_notebook(raw)
    assert nb.code_cells == [1, 2, 3, 4]
    assert nb.render(nb.source) == raw
    new = nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)"))
    assert changed_span(raw, new) == (b"", b", training=True")


def test_vscode_cell_in_another_language_is_skipped():
    sql = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": {"vscode": {"languageId": "sql"}},
        "outputs": [],
        "source": ["SELECT * FROM runs"],
    }
    raw = make_notebook("x = 1\n", sql)
    nb = parse_notebook(raw)
    assert nb.code_cells == [1]
    assert "SELECT" not in nb.source


# --------------------------------------------------------------------------- masking

MASKED = [
    ("!pip install -q tensorflow", [1]),
    ("!!ls", [1]),
    ("%matplotlib inline\nimport keras", [1]),
    ("for f in files:\n    !ls $f\nprint(f)", [2]),
    ("if x:\n    %time f()\nelse:\n    pass", [2]),
    ("x = !ls", [1]),
    ("a, b = !ls", [1]),
    ("x: list = !ls", [1]),
    ("y = %env HOME", [1]),
    ("t = %timeit -o f(x)", [1]),
    ("model.summary?", [1]),
    ("model.fit??", [1]),
    ("?model", [1]),
    ("??keras.Model", [1]),
    ("/print 1 2", [1]),
    ("!pip install \\\n    tensorflow\nimport tensorflow", [1, 2]),
    ("%%time\nx = 1", [1]),
    ("%%timeit -n1 -r1\nf(x)", [1]),
    ("%%capture out\nmodel.fit(x)", [1]),
    ("\n%%time\nx = 1", [2]),
    # not IPython syntax
    ("s = '''\n!not a shell escape\n%not a magic\n?not help\n'''", []),
    ('s = """x\n!a"""', []),
    ('s = "a\\\n!b"', []),
    ("t = 1 + \\\n    2", []),
    ("t = f(1,\n      2)", []),
    ("a = b % c", []),
    ("z = 5 != 3", []),
    ("z = a == b", []),
    ("d = {'k': 1}  # what?", []),
    ("print('what?')", []),
    ("# !pip install tensorflow\n# %matplotlib", []),
    ("def f(a=1):\n    return a", []),
    ("x = f'{a!r}'", []),
]


@pytest.mark.parametrize("cell,expected", MASKED, ids=[m[0][:30] for m in MASKED])
def test_masking(cell, expected):
    raw = make_notebook(cell)
    nb = parse_notebook(raw)
    ast.parse(nb.source)
    got = []
    cell_lines = cell.splitlines()
    for i, line in enumerate(nb.source.splitlines()[1:], 1):
        assert nb.locate(i + 1) == (1, i)
        if line != cell_lines[i - 1]:
            got.append(i)
            # a placeholder statement with the same indentation
            original = cell_lines[i - 1]
            if i > 1 and cell_lines[i - 2].endswith("\\"):
                continue  # a continuation line: indented like the line it continues
            assert line.startswith(original[: len(original) - len(original.lstrip())])
    assert got == expected
    assert nb.render(nb.source) == raw


@pytest.mark.parametrize(
    "cell",
    [
        "%%bash\necho hi",
        "%%sh\nls",
        "%%writefile train.py\nimport keras\nmodel(x)",
        "%%html\n<b>hi</b>",
        "%%javascript\nalert(1)",
        "%%latex\n$x$",
        "%%markdown\n# hi",
        "%%script python2\nprint 'hi'",
        "%%R\nx <- c(1, 2)",
        "%%ruby\nputs 1",
        "%%perl\nprint 1;",
        "%%python3\nprint(1)",
        "\n%%shell\nls",
    ],
)
def test_non_python_cell_magics_are_skipped(cell):
    raw = make_notebook("x = 1\n", cell)
    nb = parse_notebook(raw)
    assert nb.code_cells == [1]
    assert nb.render(nb.source) == raw


def test_assignment_magic_binds_none():
    nb = parse_notebook(make_notebook("model = %run build.py\n"))
    assert "model = None  # trainfix-mask-1" in nb.source


# --------------------------------------------------------------------------- locations for other formats


def test_file_position_points_into_the_json():
    raw = read("training_loop.ipynb")
    nb = parse_notebook(raw)
    file_lines = raw.decode("utf-8").splitlines()
    src_lines = nb.source.splitlines()
    n = src_lines.index("        logits = model(x)") + 1
    line, col = nb.file_position(n, 18)
    assert file_lines[line - 1][col - 1 :].startswith('model(x)\\n",')

    raw = read("string_source.ipynb")
    nb = parse_notebook(raw)
    file_lines = raw.decode("utf-8").splitlines()
    src_lines = nb.source.splitlines()
    n = src_lines.index("        y_pred = self(x)  # prédiction") + 1
    line, col = nb.file_position(n, 18)
    assert file_lines[line - 1][col - 1 :].startswith("self(x)  # pr\\u00e9diction\\r\\n")


def test_diff_hunks_are_labelled_by_cell_and_apply(tmp_path):
    raw = read("training_loop.ipynb")
    nb = parse_notebook(raw)
    src = training_loop_edits(nb.source)
    diff = nb.diff(src, "a/nb.ipynb", "b/nb.ipynb")
    headers = [ln for ln in diff.splitlines() if ln.startswith("@@")]
    assert len(headers) == 2
    assert headers[0].endswith(" @@ cell 8") and headers[1].endswith(" @@ cell 10")
    assert '+    "        logits = model(x, training=True)\\n",' in diff
    if shutil.which("patch") is None:
        pytest.skip("patch not available")
    (tmp_path / "nb.ipynb").write_bytes(raw)
    subprocess.run(["patch", "-p1", "-s"], input=diff.encode(), cwd=tmp_path, check=True)
    assert (tmp_path / "nb.ipynb").read_bytes() == nb.render(src)


def test_diff_without_final_newline(tmp_path):
    raw = read("colab.ipynb")
    nb = parse_notebook(raw)
    src = edit(nb.source, "preds = net(xb)", "preds = net(xb, training=True)")
    diff = nb.diff(src, "a/nb.ipynb", "b/nb.ipynb")
    assert next(ln for ln in diff.splitlines() if ln.startswith("@@")).endswith("@@ cell 5")
    if shutil.which("patch") is None:
        pytest.skip("patch not available")
    (tmp_path / "nb.ipynb").write_bytes(raw)
    subprocess.run(["patch", "-p1", "-s"], input=diff.encode(), cwd=tmp_path, check=True)
    assert (tmp_path / "nb.ipynb").read_bytes() == nb.render(src)


# --------------------------------------------------------------------------- errors


def error(raw: bytes) -> NotebookError:
    with pytest.raises(NotebookError) as info:
        parse_notebook(raw)
    return info.value


def test_broken_json():
    e = error(read("broken_json.ipynb"))
    assert "not valid JSON" in str(e) and "line" in str(e)
    assert e.cell is None and e.line is None


def test_nbformat_3():
    e = error(read("nbformat3.ipynb"))
    assert "nbformat 3" in str(e)


def test_cell_that_does_not_parse():
    e = error(read("broken_cell.ipynb"))
    assert (e.cell, e.line) == (4, 2)  # counting the markdown cells, as Jupyter shows them
    assert "does not parse" in str(e)


@pytest.mark.parametrize(
    "raw,reason",
    [
        (b"[1, 2]", "not an object"),
        (b'{"cells": []}', "nbformat"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}}', "cells"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": []}', "no cells"),
        (b'{"nbformat": 4, "cells": [{"source": "x"}]}', "cell_type"),
        (b'{"nbformat": 4, "cells": [{"cell_type": "code", "source": [1]}]}', "source"),
        (b"\xff\xfe{}", "UTF-8"),
        (b"", "JSON"),
    ],
)
def test_bad_notebooks(raw, reason):
    assert reason in str(error(raw))


def test_non_python_kernel():
    raw = json.dumps(
        {
            "cells": [{"cell_type": "code", "metadata": {}, "outputs": [], "source": ["x <- 1"]}],
            "metadata": {"kernelspec": {"language": "R", "name": "ir"}, "language_info": {"name": "R"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    ).encode()
    e = error(raw)
    assert isinstance(e, NotPythonNotebookError)
    assert "R" in str(e) and "Python" in str(e)


def test_first_bad_cell_is_named():
    e = error(make_notebook("x = 1\n", "%time y = 2\nif x\n", "def f(:\n"))
    assert (e.cell, e.line) == (2, 2)


def test_render_rejects_source_that_cannot_be_mapped_back():
    nb = parse_notebook(read("training_loop.ipynb"))
    with pytest.raises(NotebookError) as info:
        nb.render(nb.source.replace("# %% [trainfix cell 8]\n", ""))
    assert info.value.cell == 8
    with pytest.raises(NotebookError) as info:
        nb.render(nb.source.replace("pass  # trainfix-mask-1\n", "pass\n"))
    assert (info.value.cell, info.value.line) == (2, 1)
    with pytest.raises(NotebookError):
        nb.render("x = 1\n" + nb.source)


def test_error_is_an_exception_with_location():
    e = NotebookError("reason", cell=3, line=2)
    assert str(e) == "reason" and (e.cell, e.line) == (3, 2)
    assert NotebookError("reason").cell is None


def test_new_non_ascii_text_in_an_ascii_file_without_escapes_is_utf8():
    raw = make_notebook("y = model(x)\n")
    nb = parse_notebook(raw)
    new = nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)  # é"))
    assert "# é".encode() in new


def test_source_list_not_split_by_lines():
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ["a = 1\nb = 2\n", "y = model(x)"]}
    raw = make_notebook(cell)
    nb = parse_notebook(raw)
    assert nb.render(nb.source) == raw
    new = json.loads(nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)")))
    assert "".join(new["cells"][0]["source"]) == "a = 1\nb = 2\ny = model(x, training=True)"
    single = dict(cell, source=["a = 1\ny = model(x)\n"])
    nb = parse_notebook(make_notebook(single))
    new = json.loads(nb.render(edit(nb.source, "y = model(x)", "y = model(x, training=True)")))
    assert new["cells"][0]["source"] == ["a = 1\ny = model(x, training=True)\n"]


def test_diff_of_minified_notebook_with_bom(tmp_path):
    raw = b"\xef\xbb\xbf" + make_notebook("!ls\ny = model(x)", "z = model(x)", separators=(",", ":"))
    nb = parse_notebook(raw)
    src = edit(nb.source, "y = model(x)", "y = model(x, training=True)")
    src = edit(src, "z = model(x)", "z = model(x, training=True)")
    diff = nb.diff(src, "a/nb.ipynb", "b/nb.ipynb")
    assert "@@ -1 +1 @@ cells 1, 2\n" in diff
    if shutil.which("patch") is None:
        pytest.skip("patch not available")
    (tmp_path / "nb.ipynb").write_bytes(raw)
    subprocess.run(["patch", "-p1", "-s"], input=diff.encode(), cwd=tmp_path, check=True)
    assert (tmp_path / "nb.ipynb").read_bytes() == nb.render(src)


SNIPPETS = [
    "y = model(x)\n",
    "!pip install -q keras\n",
    "%matplotlib inline\n",
    "files = !ls\n",
    "model.summary?\n",
    "for f in files:\n    !ls $f\n    out = model(x)\n",
    's = """\n!not magic\n"""\n',
    "# comment with é and ☃\n",
    "t = (1,\n     2)\n",
    "u = 1 + \\\n    2\n",
    "\n",
    "with tape:\n    z = model(\n        x,\n    )\n",
    "v = 'tab\\there'  # \x0c form feed\n",
]


@pytest.mark.parametrize("seed", range(40))
def test_random_notebooks(seed):
    import random

    rnd = random.Random(seed)
    sources = []
    for _ in range(rnd.randint(1, 6)):
        text = "".join(rnd.choice(SNIPPETS) for _ in range(rnd.randint(0, 5)))
        if rnd.random() < 0.3:
            text = text.rstrip("\n")
        if rnd.random() < 0.2:
            text = "%%time\n" + text
        if rnd.random() < 0.2:
            text = text.replace("\n", "\r\n")
        sources.append(text)
    cells = []
    for text in sources:
        if rnd.random() < 0.2:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": "# notes é\n"})
        as_string = rnd.random() < 0.3
        source = text if as_string else text.splitlines(True)
        cells.append({"cell_type": "code", "execution_count": 3, "metadata": {}, "outputs": [], "source": source})
    style = rnd.choice(
        [{"indent": 1, "sort_keys": True, "ensure_ascii": False}, {"indent": 2, "ensure_ascii": True}, {"separators": (",", ":")}]
    )
    raw = make_notebook(*cells, **style)
    nb = parse_notebook(raw)
    ast.parse(nb.source)
    assert nb.render(nb.source) == raw
    new_source = nb.source.replace("model(x)", "model(x, training=True)").replace(
        "        x,\r\n", "        x,\r\n        training=True,\r\n").replace(
        "        x,\n", "        x,\n        training=True,\n")
    new = nb.render(new_source)
    before, after = json.loads(raw), json.loads(new)
    want = {}
    for number, cell in enumerate(before["cells"], 1):
        if cell["cell_type"] == "code" and not "".join(cell["source"]).startswith("%%bash"):
            text = "".join(cell["source"])
            want[number] = text.replace("model(x)", "model(x, training=True)").replace(
                "        x,\r\n", "        x,\r\n        training=True,\r\n").replace(
                "        x,\n", "        x,\n        training=True,\n")
    assert after == with_cell_sources(before, want)
    assert new == json.dumps(after, **style).encode("utf-8")
    changed = {n for n, _o, _t in nb.changed_cells(new_source)}
    assert changed == {n for n, t in want.items() if t != cell_text(before, n)}
    again = parse_notebook(new)  # running twice changes nothing
    assert again.render(again.source) == new


def test_a_cell_ast_accepts_but_the_compiler_refuses_is_still_python():
    """Cells are checked with symtable first (cheaper); what it refuses but ast.parse accepts (a
    duplicate parameter, `nonlocal` at module level) is still a code cell of the program."""
    raw = make_notebook("import tensorflow as tf\n", "def f(a, a):\n    return a\n", "nonlocal x\n",
                        "with tf.GradientTape() as tape:\n    y = model(x)\n")
    nb = parse_notebook(raw)
    assert nb.code_cells == [1, 2, 3, 4]
    assert "def f(a, a):" in nb.source and "nonlocal x" in nb.source
