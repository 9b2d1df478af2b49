"""ruff's habits, through the real CLI: check --fix, --add-noqa, TRN100, full/concise output,
machine formats, --output-file, the GitHub Action and the GitLab snippet (--config and
per-file-ignores: test_config.py)."""
import json
import os
import subprocess

import pytest
import yaml

from conftest import BUGGY, FIXED, ROOT, invoke, run_trainfix, trainfix_exe, write

UNSAFE = BUGGY.replace("def train_step(x):", "def train_step(x, params):").replace(
    "tape.gradient(loss, model.trainable_variables), model.trainable_variables", "tape.gradient(loss, params), params")
EVAL = """import keras

model = keras.Sequential([keras.layers.Dense(1)])


def test_step(x):
    return model(x, training=False)  # trainfix: ignore[TRN003, TRN004]  # kept
"""


# -- 1. check --fix and friends ------------------------------------------------------------------
def test_check_fix_writes_and_exits_like_ruff(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    result = invoke("check", "--fix", "--no-cache", f)
    assert result.exit_code == 0 and f.read_text() == FIXED
    assert "Fixed 1 finding in 1 file." in result.output
    f.write_text(BUGGY)
    assert invoke("check", "--fix", "--exit-non-zero-on-fix", "--no-cache", f).exit_code == 1  # fixed: non-zero
    assert invoke("check", "--fix", "--exit-non-zero-on-fix", "--no-cache", f).exit_code == 0  # nothing left


def test_check_fix_leaves_unsafe_fixes_unless_asked(tmp_path):
    f = write(tmp_path / "t.py", UNSAFE)
    result = invoke("check", "--fix", "--output-format", "full", "--no-cache", f)
    assert result.exit_code == 1 and f.read_text() == UNSAFE  # the unsafe finding remains
    assert "unsafe fix: the gradient sources can't be resolved" in result.output
    assert invoke("check", "--fix", "--unsafe-fixes", "--no-cache", f).exit_code == 0
    assert "model(x, training=True)" in f.read_text()


def test_an_unsafe_fix_says_why(tmp_path):
    f = write(tmp_path / "mc.py", EVAL.replace("model(x, training=False)  # trainfix: ignore[TRN003, TRN004]  # kept",
                                               "model(x, training=True)  # MC dropout for uncertainty"))
    out = invoke("check", "--output-format", "full", "--no-cache", f).output
    assert "= unsafe fix: a comment on the call or the line above mentions dropout, Monte Carlo, uncertainty " \
           "or intent (`--unsafe-fixes` applies it)" in out
    [record] = json.loads(invoke("check", "--output-format", "json", "--no-cache", f).stdout)
    assert record["fix"]["applicability"] == "unsafe" and "mentions dropout" in record["fix"]["reason"]


def test_fix_only_reports_what_was_fixed_and_exits_zero(tmp_path):
    fixable = write(tmp_path / "a.py", BUGGY)
    write(tmp_path / "b.py", UNSAFE)
    result = invoke("check", "--fix-only", "--no-cache", tmp_path)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Fixed 1 finding in 1 file."
    assert fixable.read_text() == FIXED
    fixable.write_text(BUGGY)
    assert invoke("check", "--fix-only", "--exit-non-zero-on-fix", "--no-cache", tmp_path).exit_code == 1


def test_fix_only_diff_exits_one_only_when_there_is_a_diff(tmp_path, run_trainfix):
    write(tmp_path / "b.py", UNSAFE)  # a finding with no safe fix: no diff
    p = run_trainfix("check", "--fix-only", "--diff", "--no-cache", ".", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == b""
    write(tmp_path / "a.py", BUGGY)
    p = run_trainfix("check", "--fix-only", "--diff", "--no-cache", ".", cwd=tmp_path)
    assert p.returncode == 1 and p.stdout.startswith(b"--- a/a.py\n+++ b/a.py\n")
    assert b"Would fix 1 finding in 1 file." in p.stderr
    assert (tmp_path / "a.py").read_text() == BUGGY


# -- 2. --add-noqa ---------------------------------------------------------------------------------
def test_add_noqa_suppresses_each_finding_keeping_comments(tmp_path, run_trainfix):
    src = BUGGY.replace("model(x))", "model(x))  # mean over the batch")
    f = write(tmp_path / "train.py", src)
    e = write(tmp_path / "evals.py", EVAL.replace("model(x, training=False)  # trainfix: ignore[TRN003, TRN004]  # kept",
                                                  "model(x, training=True)  # noqa: E501"))
    p = run_trainfix("check", "--add-noqa", "--no-cache", ".", cwd=tmp_path)
    assert p.returncode == 0 and p.stdout == b"Added 2 suppressions.\n", p.stderr
    assert "model(x))  # mean over the batch  # trainfix: ignore[TRN001]\n" in f.read_text()
    assert "training=True)  # noqa: E501, TRN004\n" in e.read_text()
    assert run_trainfix("check", "--no-cache", ".", cwd=tmp_path).returncode == 0
    again = run_trainfix("check", "--add-noqa", "--no-cache", ".", cwd=tmp_path)
    assert again.stdout == b"Added 0 suppressions.\n"


def test_add_noqa_never_writes_into_a_string_or_continuation(tmp_path):
    src = BUGGY.replace("loss = tf.reduce_mean(model(x))",
                        "loss = tf.reduce_mean(model(x)) + len('''\n''')")
    f = write(tmp_path / "train.py", src)
    result = invoke("check", "--add-noqa", "--no-cache", f)
    assert result.exit_code == 0 and "Added 0 suppressions." in result.output
    assert "suppression not added" in result.output
    assert f.read_text() == src


def test_add_noqa_rejects_fix(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    assert invoke("check", "--add-noqa", "--fix", f).exit_code == 2


# -- 3. TRN100 -----------------------------------------------------------------------------------
def test_unused_suppression_is_opt_in_and_fixed(tmp_path):
    f = write(tmp_path / "evals.py", EVAL)
    assert invoke("check", "--no-cache", f).exit_code == 0  # not in the default selection
    result = invoke("check", "--extend-select", "TRN100", "--output-format", "concise", "--no-cache", f)
    assert result.exit_code == 1
    assert ":7:38: TRN100 Unused suppression (unused: `TRN003`, `TRN004`) [*]" in result.output
    assert invoke("check", "--fix", "--extend-select", "TRN100", "--no-cache", f).exit_code == 0
    assert f.read_text() == EVAL.replace("  # trainfix: ignore[TRN003, TRN004]  # kept", "  # kept")


def test_a_used_suppression_is_kept(tmp_path):
    f = write(tmp_path / "train.py", BUGGY.replace("model(x))", "model(x))  # noqa: TRN001, TRN003"))
    write(tmp_path / "pyproject.toml", "[tool.trainfix]\nextend-select = ['TRN100']\n")
    result = invoke("check", "--fix", "--no-cache", f)
    assert result.exit_code == 0, result.output
    assert "model(x))  # noqa: TRN001\n" in f.read_text()


def test_unused_suppressions_in_files_without_a_training_step(tmp_path):
    f = write(tmp_path / "plain.py", "x = 1  # noqa: TRN001, E501\n# trainfix: ignore\ny = 2  # trainfix: ignore[TRN999]\n")
    out = invoke("check", "--extend-select", "TRN100", "--output-format", "concise", "--no-cache", f).output
    assert ":1:8: TRN100 Unused suppression (unused: `TRN001`) [*]" in out
    assert ":2:1: TRN100 Unused blanket suppression [*]" in out
    assert ":3:8: TRN100 Unused suppression (unknown: `TRN999`) [*]" in out
    assert invoke("check", "--fix", "--extend-select", "TRN100", "--no-cache", f).exit_code == 0
    assert f.read_text() == "x = 1  # noqa: E501\ny = 2\n"


def test_a_fix_that_rewrites_the_comment_leaves_the_unused_code_to_the_next_run(tmp_path):
    src = BUGGY.replace("loss = tf.reduce_mean(model(x))", "loss = tf.reduce_mean(model(\n            x  # trainfix: ignore[TRN003]\n        ))")
    f = write(tmp_path / "train.py", src)
    first = invoke("check", "--fix", "--extend-select", "TRN100", "--output-format", "concise", "--no-cache", f)
    assert first.exit_code == 1 and "TRN100" in first.output
    assert "x,  # trainfix: ignore[TRN003]\n" in f.read_text()
    assert invoke("check", "--fix", "--extend-select", "TRN100", "--no-cache", f).exit_code == 0
    assert "ignore" not in f.read_text() and "training=True" in f.read_text()


# -- 4. full and concise text --------------------------------------------------------------------
def test_full_output_shows_the_line_the_caret_and_the_fix(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    out = invoke("check", "--output-format", "full", "--no-cache", f).output.splitlines()
    start = next(i for i, line in enumerate(out) if line.endswith(
        ":10:31: TRN001 [*] Trained model `model` called without `training=True`"))
    assert out[start + 1:start + 8] == [
        "   |",
        "10 |         loss = tf.reduce_mean(model(x))",
        "   |                               ^^^^^^^^ TRN001",
        "   |",
        "   = help: Add `training=True`",
        "10 -         loss = tf.reduce_mean(model(x))",
        "10 +         loss = tf.reduce_mean(model(x, training=True))",
    ]


def test_concise_keeps_the_one_liners(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    out = invoke("check", "--output-format", "concise", "--no-cache", f).output.splitlines()
    assert out[0].endswith(":10:31: TRN001 Trained model `model` called without `training=True` [*]")
    assert out[1] == "Found 1 finding. [*] 1 fixable with `trainfix apply`."


@pytest.mark.parametrize("fmt", ["full", "concise"])
def test_colour_follows_force_color_and_no_color(tmp_path, run_trainfix, fmt):
    write(tmp_path / "train.py", BUGGY)
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR")}
    forced = run_trainfix("check", "--no-cache", "--output-format", fmt, "train.py", cwd=tmp_path,
                          env={**env, "FORCE_COLOR": "1"})
    assert b"\x1b[1m\x1b[31mTRN001\x1b[0m" in forced.stdout
    plain = run_trainfix("check", "--no-cache", "--output-format", fmt, "train.py", cwd=tmp_path,
                         env={**env, "FORCE_COLOR": "1", "NO_COLOR": "1"})
    assert b"\x1b[" not in plain.stdout and b"TRN001" in plain.stdout


# -- 5. machine formats --------------------------------------------------------------------------
def test_json_has_ruff_edits_url_and_errors(tmp_path):
    write(tmp_path / "train.py", BUGGY)
    write(tmp_path / "broken.py", "def train_step(:\n")
    result = invoke("check", "--output-format", "json", "--no-cache", tmp_path)
    assert result.exit_code == 2
    finding, error = json.loads(result.stdout)
    assert finding["fix"]["edits"] == [{"content": ", training=True", "location": {"row": 10, "column": 38},
                                        "end_location": {"row": 10, "column": 38},
                                        "offset": BUGGY.index("model(x))") + 7,
                                        "end_offset": BUGGY.index("model(x))") + 7}]
    assert BUGGY[:finding["fix"]["edits"][0]["offset"]] + ", training=True" + \
        BUGGY[finding["fix"]["edits"][0]["offset"]:] == FIXED
    assert finding["url"].endswith("/docs/rules/TRN001.md")
    assert finding["location"] == {"row": 10, "column": 31}
    assert error["code"] is None and error["filename"].endswith("broken.py")
    assert (error["line"], error["column"]) == (1, 16) and "syntax error" in error["message"]


def test_json_lines_is_one_record_per_line(tmp_path):
    write(tmp_path / "a.py", BUGGY)
    write(tmp_path / "b.py", BUGGY)
    lines = invoke("check", "--output-format", "json-lines", "--no-cache", tmp_path).stdout.splitlines()
    assert [json.loads(line)["code"] for line in lines] == ["TRN001", "TRN001"]


def test_junit_validates_against_the_schema(tmp_path):
    import xmlschema

    write(tmp_path / "train.py", BUGGY)
    write(tmp_path / "broken.py", "def train_step(:\n")
    result = invoke("check", "--output-format", "junit", "--no-cache", tmp_path)
    schema = xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit.xsd"))
    schema.validate(result.stdout)
    doc = schema.to_dict(result.stdout)
    assert (doc["@tests"], doc["@failures"], doc["@errors"]) == (2, 1, 1)
    with pytest.raises(xmlschema.XMLSchemaValidationError):  # the schema does reject a malformed report
        schema.validate(result.stdout.replace('tests="1"', 'tests="one"'))


def test_gitlab_fingerprints_are_stable_when_lines_move(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    before = json.loads(invoke("check", "--output-format", "gitlab", "--no-cache", f).stdout)
    f.write_text("# a new first line\n" + BUGGY)
    after = json.loads(invoke("check", "--output-format", "gitlab", "--no-cache", f).stdout)
    assert before[0]["fingerprint"] == after[0]["fingerprint"]
    assert (before[0]["location"]["lines"]["begin"], after[0]["location"]["lines"]["begin"]) == (10, 11)
    assert before[0]["check_name"] == "TRN001" and before[0]["severity"] == "major"
    f.write_text(BUGGY.replace("model(x))", "model(x)) + tf.reduce_mean(model(x))"))
    two = json.loads(invoke("check", "--output-format", "gitlab", "--no-cache", f).stdout)
    assert len({issue["fingerprint"] for issue in two}) == 2  # two findings, two fingerprints


def test_errors_reach_github_and_sarif_with_their_line(tmp_path):
    from sarif_pydantic import Sarif

    write(tmp_path / "broken.py", "x = 1\ndef train_step(:\n")
    gh = invoke("check", "--output-format", "github", "--no-cache", tmp_path).stdout
    assert "::error title=trainfix (error),file=" in gh and ",line=2,col=16::" in gh
    raw = json.loads(invoke("check", "--output-format", "sarif", "--no-cache", tmp_path).stdout)
    Sarif.model_validate(raw)
    [note] = raw["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert note["locations"][0]["physicalLocation"]["region"] == {"startLine": 2, "startColumn": 16}


def test_rules_as_json():
    rules = json.loads(invoke("rules", "--output-format", "json").stdout)
    by_code = {r["code"]: r for r in rules}
    assert by_code["TRN001"]["default"] and not by_code["TRN100"]["default"]
    assert by_code["TRN100"]["name"] == "unused-suppression" and "## Fix safety" in by_code["TRN100"]["explanation"]


# -- 6. --output-file (configuration from the command line: test_config.py) ---------------------
def test_output_file(tmp_path):
    f = write(tmp_path / "train.py", BUGGY)
    out = tmp_path / "report.json"
    result = invoke("check", "--output-format", "json", "--output-file", out, "--no-cache", f)
    assert result.exit_code == 1 and result.stdout == ""
    assert json.loads(out.read_text())[0]["code"] == "TRN001"


# -- 7. CI: the GitHub Action and the GitLab snippet ---------------------------------------------
def _action_steps():
    return yaml.safe_load((ROOT / "action.yml").read_text())["runs"]["steps"]


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_the_actions_command_runs_locally(tmp_path, fmt):
    from sarif_pydantic import Sarif

    action = yaml.safe_load((ROOT / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    [script] = [s["run"] for s in action["runs"]["steps"] if s.get("id") == "check"]
    write(tmp_path / "train.py", BUGGY)
    bindir = os.path.dirname(trainfix_exe())  # the action's `python3` is the one trainfix is installed in
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path), "TRAINFIX_FORMAT": fmt, "TRAINFIX_ARGS": "."}
    p = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    if fmt == "github":
        assert p.returncode == 1
        assert p.stdout.startswith("::error title=trainfix (TRN001),file=train.py,line=10,col=31")
    else:
        assert p.returncode == 0, p.stderr
        Sarif.model_validate(json.loads((tmp_path / "trainfix.sarif").read_text()))
        upload = [s for s in action["runs"]["steps"] if "upload-sarif" in s.get("uses", "")]
        assert upload[0]["with"]["sarif_file"] == "trainfix.sarif"


def test_the_action_installs_trainfix_from_the_repository_and_runs_it(tmp_path):
    """The install step for real (a venv, pip from this checkout), then the check step with what it put on PATH."""
    steps = {s.get("id"): s for s in _action_steps()}
    work = write(tmp_path / "repo" / "train.py", BUGGY).parent
    github_path = tmp_path / "github_path"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RUNNER_TEMP": str(tmp_path),
           "GITHUB_PATH": str(github_path), "ACTION_PATH": str(ROOT), "TRAINFIX_VERSION": "",
           **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}}
    p = subprocess.run(["bash", "-e", "-c", steps["install"]["run"]], cwd=work, env=env, capture_output=True,
                       text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    [bindir] = github_path.read_text().split()
    env = {**env, "PATH": f"{bindir}:/usr/bin:/bin", "TRAINFIX_FORMAT": "github", "TRAINFIX_ARGS": "."}
    p = subprocess.run(["bash", "-e", "-c", steps["check"]["run"]], cwd=work, env=env, capture_output=True, text=True)
    assert p.returncode == 1
    assert p.stdout.startswith("::error title=trainfix (TRN001),file=train.py,line=10,col=31")


def test_the_gitlab_snippet_runs_locally(tmp_path):
    job = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text())["trainfix"]
    write(tmp_path / "train.py", BUGGY)
    codes = []
    for command in job["script"][1:]:  # after the `pip install` of trainfix
        argv = command.split()
        assert argv[0] == "trainfix"
        codes.append(run_trainfix(*argv[1:], cwd=tmp_path).returncode)
    assert codes == [0, 1]
    reports = job["artifacts"]["reports"]
    quality = json.loads((tmp_path / reports["codequality"]).read_text())
    assert quality[0]["check_name"] == "TRN001" and quality[0]["location"]["path"] == "train.py"
    import xmlschema

    xmlschema.XMLSchema(str(ROOT / "tests" / "schemas" / "junit.xsd")).validate(str(tmp_path / reports["junit"]))


def test_the_ci_page_shows_the_shipped_gitlab_job():
    from conftest import code_blocks

    shipped = yaml.safe_load((ROOT / "ci" / "gitlab-ci.yml").read_text())
    shown = [yaml.safe_load(body) for info, body in code_blocks((ROOT / "docs" / "ci.md").read_text())
             if info == "yaml" and "trainfix" in yaml.safe_load(body) and "script" in yaml.safe_load(body)["trainfix"]]
    assert shown == [shipped]
