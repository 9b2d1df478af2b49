"""The rule contract: one registry, typed fix availability, every enabled rule evaluated on every call."""
import ast
import itertools

import pytest

from conftest import ROOT
from trainfix import Config, fix_source
from trainfix.analysis.contexts import analyze
from trainfix.analysis.sites import CallSite, Context
from trainfix.engine import select
from trainfix.rules import BY_CODE, KNOWN_CODES, RULES, FixAvailability, Source, check
from trainfix.transform import LineIndex

RULES_DIR = ROOT / "src" / "trainfix" / "rules"


def test_every_rule_module_is_registered_under_its_code():
    modules = {p.stem for p in RULES_DIR.glob("trn*.py")}
    assert {rule.module.rsplit(".", 1)[-1] for rule in RULES} == modules
    assert all(rule.module.rsplit(".", 1)[-1] == rule.code.lower() for rule in RULES)
    assert KNOWN_CODES == tuple(BY_CODE) and len(set(KNOWN_CODES)) == len(RULES)


def test_config_codes_come_from_the_registry():
    assert Config().select == tuple(rule.code for rule in RULES if not rule.opt_in)
    assert [rule.code for rule in RULES if rule.opt_in] == ["TRN100"]


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_fix_availability_matches_the_examples(rule):
    """NEVER: no fix and nothing written; ALWAYS: every fix offered is safe; the docs show the same label."""
    config = Config(select=KNOWN_CODES) if rule.opt_in else None
    for before, after in rule.invalid:
        fixes = [f.fix for f in fix_source(before, config=config, unsafe=True).findings if f.code == rule.code]
        assert fixes
        if rule.fix is FixAvailability.NEVER:
            assert after is None and fixes == [None] * len(fixes)
        else:
            assert after is not None and None not in fixes
        if rule.fix is FixAvailability.ALWAYS:
            assert {fix.applicability for fix in fixes} == {"safe"}
    index = (ROOT / "docs" / "rules" / "index.md").read_text()
    assert f"| {rule.summary} | {rule.fix.label} |" in index


# -- every enabled rule is evaluated on every call --------------------------------------------------
def _site(kind, method=None, state="missing", trained=True):
    call = ast.parse("model.predict(x)\n" if method else "model(x)\n").body[0].value
    return CallSite(call, Context(kind), "model.predict" if method else "model", True, method=method,
                    trained=trained, state=state)


def test_two_rules_at_one_call_are_each_selected_or_suppressed_on_their_own():
    """A `.predict` site in a shared helper is one both TRN005 and TRN006 match: ignoring or suppressing
    the first must not hide the second."""
    site = _site("shared", method="predict")
    assert [rule.code for rule, _ in check(site, Source({}))] == ["TRN005", "TRN006"]

    used = {}
    reported = select(site, check(site, Source({})), Config(ignore=("TRN005",)), "", used)
    assert [rule.code for rule, _ in reported] == ["TRN006"] and used == {}

    reported = select(site, check(site, Source({})), Config(), "# trainfix: ignore[TRN005]", used)
    assert [rule.code for rule, _ in reported] == ["TRN006"] and used == {1: {"TRN005"}}

    reported = select(site, check(site, Source({})), Config(select=("TRN006",)), "# noqa: TRN006", used)
    assert reported == [] and site.skip_reason == "TRN005 not selected"  # the first reason withheld is shown
    assert used == {1: {"TRN005", "TRN006"}}


KINDS = ("train", "eval", "predict", "inputs", "none", "shared")
STATES = ("missing", "none", "true", "false", "expr", "kwargs")


def test_the_call_rules_are_mutually_exclusive_on_the_sites_the_analysis_builds():
    """By construction at most one rule fires on a call: TRN001-TRN004 split (context, `training` state)
    between them and skip `.predict`; TRN005 is `.predict` alone, and the analysis builds a `.predict`
    site only in a train context (a shared helper's `.predict` is no site); TRN006 is the shared context."""
    for kind, method, state, trained in itertools.product(KINDS, (None, "predict"), STATES, (True, False, None)):
        fired = [rule.code for rule, _ in check(_site(kind, method, state, trained), Source({}))]
        if method and kind == "shared":  # never built (see the test above): the one pair two rules both match
            assert set(fired) <= {"TRN005", "TRN006"}
        else:
            assert len(fired) <= 1, (kind, method, state, trained, fired)


def _sources():
    for rule in RULES:
        yield from (before for before, _ in rule.invalid)
        yield from rule.valid
    for case in sorted((ROOT / "tests" / "cases").glob("*/before.py")):
        yield case.read_text()


def test_no_real_site_has_two_findings():
    built = 0
    for text in _sources():
        tree = ast.parse(text)
        for site in analyze(tree, text, Config(), LineIndex(text)):
            assert len(check(site, Source({}))) <= 1
            assert not (site.method and site.context.kind != "train")
            built += 1
    assert built > 50
