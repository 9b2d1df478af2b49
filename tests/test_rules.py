"""Every rule's own examples, run through the library API and the rule docs' shape."""
import pytest

from trainfix import Config, fix_source
from trainfix.rules import BY_CODE, KNOWN_CODES, RULES


def _config(code):  # an opt-in rule (TRN100) runs when selected
    return Config(select=KNOWN_CODES) if BY_CODE[code].opt_in else None

INVALID = [(r.code, before, after) for r in RULES for before, after in r.invalid]
VALID = [(r.code, src) for r in RULES for src in r.valid]


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


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.code)
def test_rule_docs_have_ruff_sections(rule):
    doc = rule.doc
    assert doc.startswith(f"{rule.code} {rule.name}\n")
    for section in ("## What it does", "## Why is this bad?", "## Example", "## Use instead", "## Fix safety"):
        assert section in doc
