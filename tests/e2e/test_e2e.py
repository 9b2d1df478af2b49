"""End-to-end proof with real TensorFlow that trainfix's fixes change training behaviour.

For each runnable script in tests/e2e/scripts/ (each carries the bug trainfix
fixes) the test

1. runs the original with ``--probe``: one training step and one evaluation
   step on a tiny random batch, measuring the BatchNormalization moving-mean
   change of every network and whether dropout was active (see e2e_probe.py);
2. runs ``trainfix apply`` on a copy and checks that exactly the lines marked
   ``# e2e-fix: training=...`` changed, to exactly that value;
3. runs the fixed copy with ``--probe`` and asserts the effect: statistics
   move in the training step, stay put in the evaluation step, a frozen
   network's (distillation teacher's) never move, dropout is on in training and
   off in evaluation, and the script exits 0.

``test_broken_fix_is_detected`` proves the assertions have teeth: the fixed
copy with each edited flag inverted (``training=True`` <-> ``training=False``,
as a broken transform would write it) must fail them.

``test_fixed_script_runs`` is the "never crash" test: every e2e script and
every acceptance case in tests/cases/ that runs with numpy/TensorFlow/Keras
alone is fixed and executed as a program; it must exit 0 without a TypeError
(for instance ``unexpected keyword argument 'training'``).

Run: ``python -m pytest tests/e2e -s`` (the figures are also printed in a
summary table at the end of any run).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

# Looked up, not imported: the scripts import TensorFlow in their own processes (forkserver.py),
# and a test process that imported it would pay ~4 s of CPU for nothing.
if importlib.util.find_spec("tensorflow") is None:
    if os.environ.get("CI"):
        # CI installs the e2e extra: a missing TensorFlow there is an error, never a skip.
        raise ImportError("tensorflow is not installed; CI runs the e2e tests with real TensorFlow")
    pytest.skip("tensorflow is not installed", allow_module_level=True)

E2E_DIR = Path(__file__).resolve().parent
SCRIPTS_DIR = E2E_DIR / "scripts"
CASES_DIR = E2E_DIR.parent / "cases"
RUN_TIMEOUT = 240  # seconds for one script run; they take ~3-5 s

MARK = re.compile(r"#\s*e2e-fix:\s*training=(True|False)\s*$")


@dataclass(frozen=True)
class Script:
    name: str
    # Which step the ORIGINAL gets wrong: "train" = the training step runs in
    # inference mode; "eval" = the evaluation step runs in training mode.
    bugs: tuple[str, ...]
    requires: tuple[str, ...] = field(default=())

    @property
    def path(self) -> Path:
        return SCRIPTS_DIR / self.name


SCRIPTS = [
    Script("seq_custom_loop.py", bugs=("train",)),
    Script("subclass_train_test_step.py", bugs=("train",)),
    Script("gan_two_tapes.py", bugs=("train",)),
    Script("distillation_teacher.py", bugs=("train",)),
    Script("fgsm_adversarial.py", bugs=("train",)),
    Script("training_true_in_test_step.py", bugs=("eval",)),
    Script("tf_keras_positional.py", bugs=("train", "eval"), requires=("tf_keras",)),
    Script("tf_keras_subclass_fit.py", bugs=("train",), requires=("tf_keras",)),
]


# --------------------------------------------------------------------------- helpers


def _trainfix_cmd() -> list[str]:
    exe = Path(sys.executable).parent / "trainfix"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("trainfix")
    if found:
        return [found]
    pytest.fail("the `trainfix` command is not installed next to the test interpreter nor on PATH")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(E2E_DIR), *filter(None, [env.get("PYTHONPATH")])])
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def _require(mods) -> None:
    # Only optional extras go here (tf_keras: Keras 2 is covered "where it
    # installs"); TensorFlow itself is checked at import time above.
    for mod in mods:
        if importlib.util.find_spec(mod) is None:  # looked up, not imported (see above)
            pytest.skip(f"{mod} is not installed (pip install tf-keras)")


def _tail(text: str, lines: int = 25) -> str:
    keep = [ln for ln in text.splitlines() if not ln.startswith(("I0000 ", "WARNING: All log messages"))]
    return "\n".join(keep[-lines:])


class ForkServer:
    """Runs programs as forked children of one process that has imported TensorFlow (forkserver.py).

    Every run is still a process of its own; only the ~4 s TensorFlow/Keras import is shared."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None

    def _start(self) -> subprocess.Popen:
        if self.proc is None or self.proc.poll() is not None:
            self.proc = subprocess.Popen([sys.executable, str(E2E_DIR / "forkserver.py")], cwd=E2E_DIR, env=_env(),
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                         text=True, bufsize=1)
        return self.proc

    def _reply(self, proc: subprocess.Popen, timeout: float | None) -> dict:
        if timeout is not None:
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            if not ready:
                raise subprocess.TimeoutExpired(proc.args, timeout)
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the e2e fork server exited ({proc.poll()})")
        return json.loads(line)

    def run(self, argv: list[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
        proc = self._start()
        with tempfile.TemporaryDirectory(prefix="e2e-run-") as tmp:
            out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
            proc.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "stdout": str(out), "stderr": str(err)})
                             + "\n")
            proc.stdin.flush()
            pid = self._reply(proc, 120)["pid"]
            try:
                code = self._reply(proc, timeout)["returncode"]
            except subprocess.TimeoutExpired:
                os.kill(pid, signal.SIGKILL)
                self._reply(proc, None)
                raise
            return subprocess.CompletedProcess(argv, code, out.read_text(errors="replace"),
                                               err.read_text(errors="replace"))

    def close(self) -> None:
        if self.proc is not None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)
            self.proc = None


FORK_SERVER = ForkServer()


@pytest.fixture(scope="module", autouse=True)
def _fork_server():
    yield
    FORK_SERVER.close()


def run_script(path: Path, *args: str) -> subprocess.CompletedProcess:
    """`python SCRIPT ARGS` with tests/e2e on PYTHONPATH, in a process forked after the TensorFlow import."""
    return FORK_SERVER.run([str(path), *args], path.parent, RUN_TIMEOUT)


def probe(path: Path) -> dict:
    out = path.with_name(path.stem + ".probe.json")
    proc = run_script(path, "--probe", str(out))
    assert proc.returncode == 0, f"{path.name} --probe exited {proc.returncode}\n{_tail(proc.stderr)}"
    assert "TypeError" not in proc.stderr, _tail(proc.stderr)
    return json.loads(out.read_text(encoding="utf-8"))


def trainfix_apply(path: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*_trainfix_cmd(), "apply", *extra, str(path)],
        cwd=path.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _norm(code: str) -> str:
    return re.sub(r"\s+", "", code)


def check_edits(original: str, fixed: str) -> list[int]:
    """Exactly the marked lines changed, each to the marked training value.

    Returns the 1-based numbers of the changed lines."""
    before, after = original.splitlines(), fixed.splitlines()
    assert len(before) == len(after), "trainfix changed the number of lines"
    changed = []
    for lineno, (old, new) in enumerate(zip(before, after), start=1):
        mark = MARK.search(old)
        if not mark:
            assert new == old, f"line {lineno} must stay as written:\n  before: {old}\n  after:  {new}"
            continue
        value = mark.group(1)
        code = old[: mark.start()].rstrip()
        call = re.sub(r",\s*(True|False)\)$", ")", code)  # Keras 2 positional flag
        call = re.sub(r",\s*training=(True|False)\)$", ")", call)
        want = call[:-1] + f", training={value})"
        new_code = MARK.sub("", new).rstrip()
        assert _norm(new_code) == _norm(want), (
            f"line {lineno}: expected `{want.strip()}`, trainfix wrote `{new_code.strip()}`"
        )
        changed.append(lineno)
    return changed


def invert_edits(fixed: str, lines: list[int]) -> str:
    """What a broken transform would write: the opposite value on each edited line."""
    out = fixed.splitlines(keepends=True)
    swap = {"training=True": "training=False", "training=False": "training=True"}
    for lineno in lines:
        code, sep, comment = out[lineno - 1].partition("#")
        code = re.sub(r"training=(True|False)", lambda m: swap[m.group(0)], code)
        out[lineno - 1] = code + sep + comment
    return "".join(out)


def summary(label: str, m: dict) -> str:
    def fmt(deltas: dict) -> str:
        return ", ".join(f"{n}={deltas[n]:.6f}" for n in sorted(deltas))

    return (
        f"{label:<44} train-step BN delta: {fmt(m['train_bn_delta'])}; "
        f"eval-step BN delta: {fmt(m['eval_bn_delta'])}; "
        f"dropout train={'on' if m['train_dropout_active'] else 'off'} "
        f"eval={'on' if m['eval_dropout_active'] else 'off'}"
    )


def assert_trains_correctly(m: dict) -> None:
    """The behaviour a correctly fixed script must show."""
    problems = []
    for net in m["trained"]:
        if not m["train_bn_delta"][net] > 0:
            problems.append(f"{net}: BN moving_mean did not move in the training step")
    if not m["train_dropout_active"]:
        problems.append("dropout was not active in the training step")
    for net, delta in m["eval_bn_delta"].items():
        if delta != 0:
            problems.append(f"{net}: BN moving_mean moved by {delta} in the evaluation step")
    if m["eval_dropout_active"]:
        problems.append("dropout was active in the evaluation step")
    for net in m["frozen"]:
        if m["train_bn_delta"][net] != 0 or m["eval_bn_delta"][net] != 0:
            problems.append(f"{net} (frozen) BN moving_mean moved")
    assert not problems, "; ".join(problems) + f"\nmeasured: {json.dumps(m, sort_keys=True)}"


def assert_shows_bug(script: Script, m: dict) -> None:
    """The original really has the bug (otherwise the test proves nothing)."""
    if "train" in script.bugs:
        assert all(m["train_bn_delta"][n] == 0 for n in m["trained"]), m
        assert not m["train_dropout_active"], m
    if "eval" in script.bugs:
        assert any(m["eval_bn_delta"][n] > 0 for n in m["trained"]), m
        assert m["eval_dropout_active"], m
    for net in m["frozen"]:
        assert m["train_bn_delta"][net] == 0 and m["eval_bn_delta"][net] == 0, m


@pytest.fixture(scope="session")
def fixed_copies(tmp_path_factory):
    """name -> (fixed copy, changed line numbers); trainfix runs once per script."""
    cache: dict[str, tuple[Path, list[int]]] = {}

    def get(script: Script) -> tuple[Path, list[int]]:
        if script.name not in cache:
            target = tmp_path_factory.mktemp("fixed") / script.name
            shutil.copyfile(script.path, target)
            proc = trainfix_apply(target)
            assert proc.returncode == 0, f"trainfix apply exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
            original = script.path.read_text(encoding="utf-8")
            fixed = target.read_text(encoding="utf-8")
            assert fixed != original, f"trainfix apply did not change {script.name}\n{proc.stdout}"
            cache[script.name] = (target, check_edits(original, fixed))
        return cache[script.name]

    return get


def _case_is_runnable(before: Path) -> bool:
    text = before.read_text(encoding="utf-8")
    if 'if __name__ == "__main__":' not in text and "if __name__ == '__main__':" not in text:
        return False
    if "imagenet" in text:
        return False
    allowed = {"numpy", "tensorflow", "keras"} | set(sys.stdlib_module_names)
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots = {node.module.split(".")[0]}
        else:
            continue
        if not roots <= allowed:
            return False
    return True


RUNNABLE_CASES = sorted(
    p.parent for p in CASES_DIR.glob("*/before.py") if _case_is_runnable(p)
) if CASES_DIR.is_dir() else []


# --------------------------------------------------------------------------- tests


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.path.stem)
def test_fix_changes_training_behaviour(script, fixed_copies, tmp_path, e2e_results):
    _require(script.requires)
    original = tmp_path / script.name  # run a copy: nothing is written into the repository
    shutil.copyfile(script.path, original)
    before = probe(original)
    fixed_path, changed = fixed_copies(script)
    after = probe(fixed_path)

    versions = f"TF {before['tensorflow']}, keras {before['keras']}"
    if before.get("tf_keras"):
        versions += f", tf_keras {before['tf_keras']}"
    print(f"\n[{script.name}] {versions}; trainfix edited lines {changed}")
    e2e_results.append(f"versions: {versions}")  # printed once, above the figures
    for label, m in (("before", before), ("after", after)):
        line = summary(f"{script.path.stem} ({label})", m)
        print(line)
        e2e_results.append(line)

    assert_shows_bug(script, before)
    assert_trains_correctly(after)


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.path.stem)
def test_broken_fix_is_detected(script, fixed_copies, tmp_path, e2e_results):
    _require(script.requires)
    fixed_path, changed = fixed_copies(script)
    broken = tmp_path / script.name
    broken.write_text(invert_edits(fixed_path.read_text(encoding="utf-8"), changed), encoding="utf-8")
    m = probe(broken)
    line = summary(f"{script.path.stem} (inverted fix)", m)
    print("\n" + line)
    e2e_results.append(line)
    with pytest.raises(AssertionError):
        assert_trains_correctly(m)


def _never_crash_params():
    params = [pytest.param(("script", s), id=f"script-{s.path.stem}") for s in SCRIPTS]
    params += [pytest.param(("case", c), id=f"case-{c.name}") for c in RUNNABLE_CASES]
    return params


def test_runnable_cases_found():
    # Guards the "never crash" selection against silently becoming empty.
    assert CASES_DIR.is_dir(), f"{CASES_DIR} is missing"
    assert len(RUNNABLE_CASES) >= 5, [c.name for c in RUNNABLE_CASES]


@pytest.mark.parametrize("item", _never_crash_params())
def test_fixed_script_runs(item, fixed_copies, tmp_path):
    kind, obj = item
    if kind == "script":
        _require(obj.requires)
        target, _ = fixed_copies(obj)
    else:
        target = tmp_path / f"{obj.name}.py"
        shutil.copyfile(obj / "before.py", target)
        proc = trainfix_apply(target)
        assert proc.returncode in (0, 1), f"trainfix apply exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    proc = run_script(target)
    print(f"\n[{target.name}] exit {proc.returncode}\n{_tail(proc.stdout, 5)}")
    assert "TypeError" not in proc.stderr, _tail(proc.stderr)
    assert proc.returncode == 0, f"fixed {target.name} exited {proc.returncode}\n{_tail(proc.stderr)}"
