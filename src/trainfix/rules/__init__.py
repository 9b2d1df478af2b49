"""The rule registry: the only list of rule codes. `check` runs every per-call rule on a call."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import trn001, trn002, trn003, trn004, trn005, trn006, trn100
from .base import Check, FixAvailability, Rule, Source, Violation

if TYPE_CHECKING:
    from ..analysis.sites import CallSite

RULES: tuple[Rule, ...] = (trn001.RULE, trn002.RULE, trn003.RULE, trn004.RULE, trn005.RULE, trn006.RULE, trn100.RULE)
BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
KNOWN_CODES: tuple[str, ...] = tuple(BY_CODE)
DEFAULT_CODES: tuple[str, ...] = tuple(rule.code for rule in RULES if not rule.opt_in)
CALL_RULES: tuple[tuple[Rule, Check], ...] = tuple((rule, rule.check) for rule in RULES if rule.check is not None)


def check(site: CallSite, source: Source) -> list[tuple[Rule, Violation]]:
    """What every per-call rule finds at `site`, in registry order; the engine decides which are reported."""
    if not site.is_model or site.state in ("expr", "kwargs"):
        return []
    found = []
    for rule, rule_check in CALL_RULES:
        violation = rule_check(site, source)
        if violation is not None:
            found.append((rule, violation))
    return found


__all__ = ["RULES", "BY_CODE", "KNOWN_CODES", "DEFAULT_CODES", "FixAvailability", "Rule", "Source", "Violation",
           "check"]
