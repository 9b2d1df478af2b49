"""Bad and unusual inputs, one test per row: trainfix never damages a file.

Every row runs the installed `trainfix` command on a folder holding the odd file
next to an ordinary buggy one (`good.py`). A bad row must exit 2 with
`path[:line[:col]]: error: reason` on stderr, leave the bad file byte for byte
as it was and still fix `good.py`. A good-but-unusual row (encodings, BOM, line
endings, empty, huge, deep, symlinks) must work and keep every other byte.

The odd files mention `GradientTape` or a step function: files that mention
neither are not even decoded (see docs/guarantees.md), so they could not test
the decoding and parsing paths. The rows that run as an unprivileged process
drop root's file-permission override with `setpriv`, a real kernel check.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BUGGY, CALL, FIXED, FIXED_CALL, run_trainfix as run, trainfix_exe
from trainfix.engine import SourceError
from trainfix.files import write_atomic

assert FIXED != BUGGY


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if "trainfix-tmp" in p.name]


def make(tmp: Path, name: str, data: bytes | str) -> Path:
    path = tmp / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def assert_bad_row(p, tmp: Path, bad: Path, before: bytes, line: int | None, reason: str) -> str:
    """Exit 2; `bad:line: error: ...reason...`; bad file untouched; good.py fixed; no temp files."""
    err = p.stderr.decode()
    assert p.returncode == 2, (p.returncode, err, p.stdout.decode())
    name = re.escape(bad.relative_to(tmp).as_posix())
    where = rf"{name}:{line}(?::\d+)?" if line else rf"{name}(?::\d+)*"
    assert re.search(rf"^{where}: error: .*{reason}", err, re.M), err
    assert "Traceback" not in err
    assert bad.read_bytes() == before
    assert (tmp / "good.py").read_text() == FIXED, "the other file was not processed"
    assert temp_files(tmp) == []
    return err


def bad_row(tmp: Path, name: str, data: bytes | str, line: int | None, reason: str, *args) -> str:
    make(tmp, "good.py", BUGGY)
    bad = make(tmp, name, data)
    before = bad.read_bytes()
    p = run("apply", *args, ".", cwd=tmp)
    return assert_bad_row(p, tmp, bad, before, line, reason)


def good_row(tmp: Path, name: str, data: bytes, want: bytes, code: int = 0) -> subprocess.CompletedProcess:
    make(tmp, "good.py", BUGGY)
    f = make(tmp, name, data)
    p = run("apply", ".", cwd=tmp)
    assert p.returncode == code, (p.returncode, p.stderr.decode(), p.stdout.decode())
    assert "error" not in p.stderr.decode()
    assert f.read_bytes() == want
    assert (tmp / "good.py").read_text() == FIXED
    assert temp_files(tmp) == []
    again = run("apply", "--no-cache", ".", cwd=tmp)
    assert again.returncode == code and f.read_bytes() == want, "a second run changed the file again"
    return p


# -- bad input: exit 2, named, untouched, the rest still processed -----------------------------------


def test_syntax_error(tmp_path):
    text = BUGGY + "\n\ndef broken(:\n    pass\n"
    bad_row(tmp_path, "bad.py", text, line_of(text, "def broken"), "syntax error")


def test_python2_code(tmp_path):
    text = BUGGY.replace("    opt.apply_gradients", '    print "loss", loss\n    opt.apply_gradients')
    err = bad_row(tmp_path, "bad.py", text, line_of(text, 'print "loss"'), "syntax error")
    assert "print" in err


def test_non_utf8_bytes_without_cookie(tmp_path):
    data = BUGGY.encode() + b"# r\xe9sum\xe9 of the run\n"
    err = bad_row(tmp_path, "bad.py", data, BUGGY.count("\n") + 1, "cannot decode as utf-8")
    assert "0xe9" in err


def test_unknown_encoding_cookie(tmp_path):
    bad_row(tmp_path, "bad.py", "# -*- coding: klingon -*-\n" + BUGGY, 1, "unknown encoding")


def test_binary_file_named_py(tmp_path):
    # a serialized model saved under a .py name: bytes of every value, NULs, the word GradientTape
    rng = __import__("random").Random(6)
    data = b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(4096)) + b"GradientTape\x00\x01"
    bad_row(tmp_path, "bad.py", data, None, "binary file")


def test_binary_file_without_keywords_is_not_read_and_not_touched(tmp_path):
    data = bytes(range(256)) * 16  # mentions no step and no tape: never decoded, never written
    p = good_row(tmp_path, "blob.py", data, data, 0)
    assert p.stderr.decode().count("blob.py") == 0


def test_nul_bytes(tmp_path):
    data = BUGGY.encode() + b"# \x00\n"
    bad_row(tmp_path, "bad.py", data, BUGGY.count("\n") + 1, "contains NUL bytes")


NOBODY = 65534


def as_nobody() -> list[str]:
    """A command prefix that runs trainfix as the unprivileged user `nobody` (uid/gid 65534).

    The interpreter may live under a folder only root can search (/root/.pyenv), so the
    process keeps one capability, CAP_DAC_READ_SEARCH (read and search anywhere); it grants
    no write: whether a file may be written is decided by its mode bits, as for any user."""
    if os.geteuid() != 0:
        return []  # already an ordinary user
    probe = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
             "--inh-caps=-all,+dac_read_search", "--ambient-caps=-all,+dac_read_search"]
    if shutil.which("setpriv") and subprocess.run([*probe, "true"], capture_output=True).returncode == 0:
        return probe
    pytest.skip("running as root and cannot become an unprivileged user (no usable setpriv)")


def test_read_only_file_is_rewritten_when_the_user_may_write_it(tmp_path):
    """As ruff and black do: root may write a 0444 file, so `apply` fixes it; the mode stays 0444."""
    if os.geteuid() != 0:
        pytest.skip("only root may write a file without write bits")
    make(tmp_path, "good.py", BUGGY)
    ro = make(tmp_path, "ro.py", BUGGY)
    os.chmod(ro, 0o444)
    p = run("apply", ".", cwd=tmp_path)
    assert p.returncode == 0, (p.returncode, p.stderr.decode(), p.stdout.decode())
    assert ro.read_text() == FIXED and (tmp_path / "good.py").read_text() == FIXED
    assert ro.stat().st_mode & 0o777 == 0o444
    assert temp_files(tmp_path) == []


def test_read_only_file_under_apply(tmp_path):
    """A user who may not write the file: refused, named, untouched, its finding still reported."""
    prefix = as_nobody()
    if prefix:  # a folder nobody can reach (not under root's 0700 pytest folder) and own, with good.py
        tmp_path = Path(tempfile.mkdtemp(prefix="trainfix-nobody-"))
    try:
        make(tmp_path, "good.py", BUGGY)
        bad = make(tmp_path, "bad.py", BUGGY)
        os.chmod(bad, 0o444)
        if prefix:
            for path in (tmp_path, tmp_path / "good.py"):
                os.chown(path, NOBODY, NOBODY)
        p = run("apply", ".", cwd=tmp_path, prefix=prefix)
        assert_bad_row(p, tmp_path, bad, BUGGY.encode(), None, "read-only; not written")
        assert bad.stat().st_mode & 0o777 == 0o444
        assert "bad.py:10:31: TRN001" in p.stdout.decode(), "the finding it could not fix is still reported"
    finally:
        if prefix:
            shutil.rmtree(tmp_path)


def unprivileged() -> list[str]:
    """A command prefix that runs without root's permission override (a real kernel check)."""
    if os.geteuid() != 0:
        return []
    probe = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"]
    if shutil.which("setpriv") and subprocess.run([*probe, "true"], capture_output=True).returncode == 0:
        return probe
    pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE (no usable setpriv)")


def test_permission_denied_on_read(tmp_path):
    prefix = unprivileged()
    make(tmp_path, "good.py", BUGGY)
    bad = make(tmp_path, "bad.py", BUGGY)
    os.chmod(bad, 0)
    try:
        p = run("apply", ".", cwd=tmp_path, prefix=prefix)
        os.chmod(bad, 0o644)
        assert_bad_row(p, tmp_path, bad, BUGGY.encode(), None, "cannot read: Permission denied")
    finally:
        os.chmod(bad, 0o644)


def test_unwritable_folder_under_apply(tmp_path):
    """No temp file can be created next to the file: reported, nothing written."""
    prefix = unprivileged()
    make(tmp_path, "good.py", BUGGY)
    locked = tmp_path / "locked"
    bad = make(locked, "bad.py", BUGGY)
    os.chmod(locked, 0o555)
    try:
        p = run("apply", ".", cwd=tmp_path, prefix=prefix)
    finally:
        os.chmod(locked, 0o755)
    assert_bad_row(p, tmp_path, bad, BUGGY.encode(), None, "cannot write: Permission denied")


def test_folder_that_cannot_be_listed(tmp_path):
    """A folder the walk can't open is an error naming it; the rest of the tree is still fixed."""
    prefix = unprivileged()
    make(tmp_path, "good.py", BUGGY)
    hidden = tmp_path / "private"
    inside = make(hidden, "bad.py", BUGGY)
    os.chmod(hidden, 0)
    try:
        p = run("apply", ".", cwd=tmp_path, prefix=prefix)
    finally:
        os.chmod(hidden, 0o755)
    err = p.stderr.decode()
    assert p.returncode == 2 and re.search(r"^private: error: cannot list folder: Permission denied", err, re.M), err
    assert inside.read_text() == BUGGY and (tmp_path / "good.py").read_text() == FIXED


def test_fifo_named_py_is_not_read(tmp_path):
    """A named pipe would block a read forever: refused, named; a walk skips it."""
    make(tmp_path, "good.py", BUGGY)
    fifo = tmp_path / "pipe.py"
    os.mkfifo(fifo)
    p = run("apply", "pipe.py", "good.py", cwd=tmp_path, timeout=60)
    err = p.stderr.decode()
    assert p.returncode == 2 and re.search(r"^pipe\.py: error: not a regular file", err, re.M), err
    assert (tmp_path / "good.py").read_text() == FIXED
    walked = run("check", ".", cwd=tmp_path, timeout=60)
    assert walked.returncode == 0, walked.stderr.decode()


def test_invalid_config(tmp_path):
    bad = make(tmp_path, "proj_bad/train.py", BUGGY)
    make(tmp_path, "proj_bad/pyproject.toml", "[tool.trainfix]\ntrain-functionz = ['fit_step']\n")
    make(tmp_path, "proj_good/good.py", BUGGY)
    p = run("apply", "proj_bad", "proj_good", cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert "train-functionz" in err and "pyproject.toml" in err and "unknown option" in err
    assert bad.read_text() == BUGGY
    assert (tmp_path / "proj_good/good.py").read_text() == FIXED


def test_config_that_is_not_toml(tmp_path):
    bad = make(tmp_path, "proj_bad/train.py", BUGGY)
    make(tmp_path, "proj_bad/pyproject.toml", "[tool.trainfix]\ntrain-functions = [fit_step\n")
    make(tmp_path, "proj_good/good.py", BUGGY)
    p = run("apply", "proj_bad", "proj_good", cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 2, err
    assert "pyproject.toml" in err and "line 2" in err
    assert bad.read_text() == BUGGY
    assert (tmp_path / "proj_good/good.py").read_text() == FIXED


def test_path_that_does_not_exist(tmp_path):
    make(tmp_path, "good.py", BUGGY)
    p = run("apply", "nope.py", "good.py", cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 2 and re.search(r"^nope\.py: error: no such file or directory", err, re.M), err
    assert (tmp_path / "good.py").read_text() == FIXED
    assert not (tmp_path / "nope.py").exists()


def test_broken_symlink_named_on_the_command_line(tmp_path):
    make(tmp_path, "good.py", BUGGY)
    (tmp_path / "dangling.py").symlink_to(tmp_path / "gone.py")
    p = run("apply", "dangling.py", "good.py", cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 2 and re.search(r"^dangling\.py: error: ", err, re.M), err
    assert (tmp_path / "dangling.py").is_symlink() and not (tmp_path / "gone.py").exists()
    assert (tmp_path / "good.py").read_text() == FIXED


def test_warnings_about_user_code_are_not_printed(tmp_path):
    """`invalid escape sequence` is a SyntaxWarning from ast.parse on 3.12+ (a DeprecationWarning,
    shown here by PYTHONWARNINGS, on 3.11): the user's code is parsed quietly."""
    text = 'import re\nPATTERN = re.compile("\\d+ \\w")\n' + BUGGY
    make(tmp_path, "esc.py", text)
    p = run("apply", ".", cwd=tmp_path, env={**os.environ, "PYTHONWARNINGS": "default"})
    assert p.returncode == 0, p.stderr.decode()
    assert "Warning" not in p.stderr.decode(), p.stderr.decode()
    assert (tmp_path / "esc.py").read_text() == text.replace(CALL, FIXED_CALL)


# -- changed by someone else between read and write -------------------------------------------------


def test_write_atomic_refuses_a_file_changed_since_it_was_read(tmp_path):
    """The digest taken at read time is re-checked just before the rename."""
    f = make(tmp_path, "train.py", BUGGY)
    digest_at_read = hashlib.sha256(f.read_bytes()).hexdigest()
    theirs = "# edited in another window\n" + BUGGY
    f.write_text(theirs)  # someone else saves the file while trainfix works on it
    with pytest.raises(SourceError, match="changed on disk"):
        write_atomic(f, FIXED.encode(), digest_at_read)
    assert f.read_text() == theirs
    assert temp_files(tmp_path) == []
    write_atomic(f, FIXED.encode(), hashlib.sha256(theirs.encode()).hexdigest())  # the current digest passes
    assert f.read_text() == FIXED


def _inotify():
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    if not hasattr(libc, "inotify_init1"):
        pytest.skip("no inotify on this system")
    return libc


def test_file_changed_by_another_process_between_read_and_write(tmp_path):
    """End to end: a watcher sees trainfix close the file after reading it, freezes trainfix,
    saves other contents, lets it go on; trainfix must notice and not overwrite them."""
    libc = _inotify()
    in_close_nowrite = 0x10
    many = BUGGY + "".join(
        f"\n\ndef train_step_{i}(x):\n    with tf.GradientTape() as tape:\n        loss = tf.reduce_mean(model(x))\n"
        f"    opt.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))\n"
        for i in range(400))  # enough analysis (a fraction of a second) for the watcher to act in between
    theirs = "# saved by someone else meanwhile\n" + many
    for attempt in range(3):
        f = make(tmp_path, "train.py", many)
        ino = f.stat().st_ino
        fd = libc.inotify_init1(os.O_CLOEXEC)
        assert fd >= 0 and libc.inotify_add_watch(fd, str(f).encode(), in_close_nowrite) >= 0
        proc = subprocess.Popen([trainfix_exe(), "apply", "--no-cache", "train.py"], cwd=tmp_path,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            ready, _, _ = select.select([fd], [], [], 60)
            assert ready, "trainfix never read the file"
            os.kill(proc.pid, signal.SIGSTOP)
            won = f.stat().st_ino == ino and f.read_bytes() == many.encode()
            if won:
                with open(f, "r+b") as handle:  # an editor saving in place
                    handle.write(theirs.encode())
                    handle.truncate()
            os.kill(proc.pid, signal.SIGCONT)
            out, err = proc.communicate(timeout=120)
        finally:
            os.close(fd)
            if proc.poll() is None:
                proc.kill()
        if not won:
            continue  # trainfix finished before the watcher acted: try again
        assert proc.returncode == 2, err.decode()
        assert re.search(r"^train\.py: error: file changed on disk while trainfix was running; not written",
                         err.decode(), re.M), err.decode()
        assert f.read_text() == theirs
        assert temp_files(tmp_path) == []
        return
    pytest.fail("the watcher never caught trainfix between its read and its write")


# -- unusual but good input: works, every other byte kept ----------------------------------------------


def test_latin1_with_cookie_stays_latin1(tmp_path):
    text = "# -*- coding: latin-1 -*-\n# caf\xe9 au lait\n" + BUGGY.replace(
        "        loss = ", '        note = "d\xe9j\xe0 vu"; loss = ')
    data = text.encode("latin-1")
    want = text.replace(CALL, FIXED_CALL).encode("latin-1")
    good_row(tmp_path, "latin.py", data, want)
    with pytest.raises(UnicodeDecodeError):
        (tmp_path / "latin.py").read_bytes().decode("utf-8")


def test_utf8_bom_is_kept(tmp_path):
    text = "# r\u00e9sum\u00e9 \u2014 \U0001f600\n" + BUGGY
    good_row(tmp_path, "bom.py", b"\xef\xbb\xbf" + text.encode(), b"\xef\xbb\xbf" + text.replace(
        CALL, FIXED_CALL).encode())


MULTILINE = BUGGY.replace("loss = tf.reduce_mean(model(x))",
                          "loss = tf.reduce_mean(\n            model(\n                x,\n            )\n        )")


def test_crlf_is_kept(tmp_path):
    data = MULTILINE.replace("\n", "\r\n").encode()
    want = data.replace(b"                x,\r\n", b"                x,\r\n                training=True,\r\n")
    assert want != data
    good_row(tmp_path, "crlf.py", data, want)


def test_mixed_line_endings_are_kept(tmp_path):
    lines = MULTILINE.split("\n")
    endings = ["\r\n", "\n", "\r\n", "\r\n", "\n", "\r"]  # even a lone CR (old Mac) is a line end to Python
    data = "".join(line + endings[i % len(endings)] for i, line in enumerate(lines[:-1])).encode()
    at = data.index(b"                x,") + len(b"                x,")
    eol = data[at:at + 2] if data[at:at + 2] == b"\r\n" else data[at:at + 1]
    want = data[:at + len(eol)] + b"                training=True," + eol + data[at + len(eol):]
    good_row(tmp_path, "mixed.py", data, want)


def test_empty_and_blank_files(tmp_path):
    make(tmp_path, "blank.py", "\n\n   \n")
    make(tmp_path, "only_comment.py", "# train_step\n")
    good_row(tmp_path, "empty.py", b"", b"")
    assert (tmp_path / "blank.py").read_bytes() == b"\n\n   \n"
    assert (tmp_path / "only_comment.py").read_bytes() == b"# train_step\n"


def test_deeply_nested_expressions(tmp_path):
    """1,000-deep nesting is valid Python (generated code): analysed and fixed, no RecursionError."""
    tails = {
        "concat": "X = " + " + ".join(['"ab"'] * 1000),
        "unary": "X = " + "-" * 1000 + "1",
        "attrs": "X = a" + ".b" * 1000,
        "calls": "X = f" + "()" * 1000,
        "subscripts": "X = a" + "[0]" * 1000,
        "nots": "X = " + "not " * 1000 + "True",
    }
    make(tmp_path, "good.py", BUGGY)
    for name, tail in tails.items():
        make(tmp_path, f"{name}.py", BUGGY + "\n" + tail + "\n")
    p = run("apply", ".", cwd=tmp_path)
    err = p.stderr.decode()
    assert p.returncode == 0, err
    assert "Recursion" not in err and "Traceback" not in err
    for name, tail in tails.items():
        assert (tmp_path / f"{name}.py").read_text() == FIXED + "\n" + tail + "\n", name


def test_nesting_beyond_any_limit_is_a_clear_error(tmp_path):
    text = BUGGY + "\nX = " + "-" * 100_000 + "1\n"
    err = bad_row(tmp_path, "bad.py", text, None, "(too complex|nested too deeply)")
    assert "RecursionError" not in err


def test_ten_megabyte_generated_file(tmp_path):
    """A generated module of data tables (the node-dense kind) with one train step: fixed, bounded."""
    rng = __import__("random").Random(10)
    parts, size, i = [BUGGY, "\n"], len(BUGGY) + 1, 0
    while size < 10 * 2 ** 20:
        row = f"TABLE_{i} = [{', '.join(str(rng.randrange(10 ** 6)) for _ in range(16))}]\n"
        parts.append(row)
        size += len(row)
        i += 1
    text = "".join(parts)
    f = make(tmp_path, "generated.py", text)
    start = time.monotonic()
    with open(tmp_path / "out.txt", "wb") as out, open(tmp_path / "err.txt", "wb") as err:
        proc = subprocess.Popen([trainfix_exe(), "apply", "--no-cache", "generated.py"], cwd=tmp_path,
                                stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak memory
        proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - start
    peak_mib = usage.ru_maxrss / 1024
    print(f"\n10 MB generated file: {len(text.encode()) / 2 ** 20:.1f} MiB, {i} table rows, "
          f"apply took {elapsed:.1f} s, peak RSS {peak_mib:.0f} MiB")
    assert proc.returncode == 0, (tmp_path / "err.txt").read_text()
    assert f.read_text() == text.replace(CALL, FIXED_CALL, 1)
    assert elapsed < 300, f"{elapsed:.0f} s for a 10 MB file"
    assert peak_mib < 6 * 1024, f"{peak_mib:.0f} MiB for a 10 MB file"


def test_symlinked_file_is_fixed_through_the_link_once(tmp_path):
    make(tmp_path, "good.py", BUGGY)
    real = make(tmp_path, "z_real.py", BUGGY)
    link = tmp_path / "a_link.py"  # sorts first: the walk meets the link before the file
    link.symlink_to("z_real.py")
    p = run("apply", ".", cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()
    assert link.is_symlink() and os.readlink(link) == "z_real.py", "the link was replaced by a copy"
    assert real.read_text() == FIXED
    assert "Fixed 2 findings in 2 files." in p.stdout.decode() + p.stderr.decode()
    assert temp_files(tmp_path) == []


def test_files_reached_twice_through_links_are_fixed_once_even_from_a_linked_folder(tmp_path):
    """The walk's identity of a file is its resolved path, also when the folder walked is itself a link."""
    root = tmp_path / "project"
    real = make(root, "pkg/z_model.py", BUGGY)
    (root / "alias").symlink_to("pkg")  # the same folder twice
    (root / "a_link.py").symlink_to("pkg/z_model.py")  # and the same file through a file link
    (tmp_path / "checkout").symlink_to("project")
    p = run("apply", ".", cwd=tmp_path / "checkout")
    assert p.returncode == 0, p.stderr.decode()
    assert real.read_text() == FIXED
    assert "Fixed 1 finding in 1 file." in p.stdout.decode() + p.stderr.decode(), "each file exactly once"
    assert temp_files(root) == []


def test_symlink_named_on_the_command_line_fixes_its_target(tmp_path):
    make(tmp_path, "good.py", BUGGY)
    real = make(tmp_path, "src/real.py", BUGGY)
    os.chmod(real, 0o640)
    (tmp_path / "link.py").symlink_to(real)
    p = run("apply", "link.py", "good.py", cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()
    assert (tmp_path / "link.py").is_symlink() and real.read_text() == FIXED
    assert real.stat().st_mode & 0o777 == 0o640
    assert temp_files(tmp_path) == []


def test_symlink_loops_do_not_hang(tmp_path):
    make(tmp_path, "good.py", BUGGY)
    (tmp_path / "loop1.py").symlink_to("loop2.py")
    (tmp_path / "loop2.py").symlink_to("loop1.py")
    sub = tmp_path / "sub"
    sub.mkdir()
    make(sub, "inner.py", BUGGY)
    (sub / "up").symlink_to("..")  # a folder loop
    (sub / "again").symlink_to(".")
    p = run("apply", ".", cwd=tmp_path, timeout=60)
    assert p.returncode == 0, p.stderr.decode()
    assert (tmp_path / "good.py").read_text() == FIXED and (sub / "inner.py").read_text() == FIXED
    assert "Fixed 2 findings in 2 files." in p.stdout.decode() + p.stderr.decode(), "each file exactly once"
    named = run("apply", "loop1.py", cwd=tmp_path, timeout=60)
    err = named.stderr.decode()
    assert named.returncode == 2 and re.search(r"^loop1\.py: error: cannot read: .*symbolic links", err, re.M), err
    assert (tmp_path / "loop1.py").is_symlink()


def test_directory_named_like_a_python_file(tmp_path):
    make(tmp_path, "good.py", BUGGY)
    inner = make(tmp_path, "x.py/inner.py", BUGGY)
    p = run("apply", ".", cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()
    assert inner.read_text() == FIXED and (tmp_path / "x.py").is_dir()
    make(tmp_path, "x.py/inner.py", BUGGY)
    named = run("apply", "x.py", cwd=tmp_path)
    assert named.returncode == 0, named.stderr.decode()
    assert inner.read_text() == FIXED


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another owner")
def test_owner_and_mode_are_kept(tmp_path):
    f = make(tmp_path, "train.py", BUGGY)
    os.chown(f, 65534, 65534)
    os.chmod(f, 0o664)
    p = run("apply", "train.py", cwd=tmp_path)
    assert p.returncode == 0, p.stderr.decode()
    st = f.stat()
    assert f.read_text() == FIXED
    assert (st.st_uid, st.st_gid, st.st_mode & 0o7777) == (65534, 65534, 0o664)


# -- trainfix never imports or executes the code it reads ---------------------------------------------


def test_never_imports_or_runs_user_code(tmp_path):
    """Modules with import-time side effects, named like trainfix's own dependencies and like the
    code it looks for, in the folder trainfix runs in and on its command line: none may run."""
    marker = tmp_path / "EXECUTED"
    boom = (f"import pathlib\npathlib.Path({str(marker)!r}).write_text(__name__)\n"
            "raise SystemExit(99)\n")
    for name in ("tensorflow.py", "keras.py", "tf_keras.py", "click.py", "rich.py", "pathspec.py", "libcst.py",
                 "trainfix.py", "conftest.py", "setup.py", "__main__.py"):
        make(tmp_path, name, boom)
    make(tmp_path, "pkg/__init__.py", boom)
    make(tmp_path, "train.py", boom + BUGGY)
    model = make(tmp_path, "model_def.py", "import tensorflow as tf\n" + boom + BUGGY.replace(
        "def train_step", "exec(open(__file__).read())\n\n\ndef train_step"))
    make(tmp_path, "good.py", BUGGY)
    for mode in ("check", "apply"):
        p = run(mode, "--no-cache", ".", "pkg/__init__.py", cwd=tmp_path)
        assert not marker.exists(), f"{mode} executed user code: {marker.read_text()}"
        assert p.returncode in (0, 1), p.stderr.decode()
    assert (tmp_path / "good.py").read_text() == FIXED and FIXED_CALL in model.read_text()
    for mode in ("check", "apply"):
        p = run(mode, "-", "--stdin-filename", "train.py", cwd=tmp_path, input=(boom + BUGGY).encode())
        assert not marker.exists()
        assert p.returncode in (0, 1), p.stderr.decode()
