"""Every rule's own examples, run through the library API and the rule docs' shape."""
import pytest

from trainfix import Config, fix_source
from trainfix.config import KNOWN_CODES
from trainfix.rules import BY_CODE, RULES


def _config(code):  # an opt-in rule (TRN100) runs when selected
    return Config(select=KNOWN_CODES) if getattr(BY_CODE[code], "OPT_IN", False) else None

INVALID = [(r.CODE, before, after) for r in RULES for before, after in r.INVALID]
VALID = [(r.CODE, src) for r in RULES for src in r.VALID]


@pytest.mark.parametrize("code,before,after", INVALID, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(INVALID)])
def test_invalid_examples(code, before, after):
    result = fix_source(before, config=_config(code))
    assert [f.code for f in result.findings] == [code]
    assert result.new_source == (after if after is not None else before)


@pytest.mark.parametrize("code,src", VALID, ids=[f"{c}-{i}" for i, (c, _) in enumerate(VALID)])
def test_valid_examples(code, src):
    result = fix_source(src, config=_config(code))
    assert [f.code for f in result.findings if f.code == code] == []
    assert result.new_source == src


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.CODE)
def test_rule_docs_have_ruff_sections(rule):
    doc = rule.__doc__
    assert doc.startswith(f"{rule.CODE} {rule.NAME}")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert section in doc
