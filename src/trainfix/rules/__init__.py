"""The rules, one module each; `check` returns the first finding for a call."""
from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING

from . import trn001, trn002, trn003, trn004, trn005, trn006, trn100
from .base import Finding, Fix, Source

if TYPE_CHECKING:
    from ..analysis.contexts import CallSite

RULES: tuple[ModuleType, ...] = (trn001, trn002, trn003, trn004, trn005, trn006, trn100)
BY_CODE = {rule.CODE: rule for rule in RULES}
CALL_RULES = tuple(rule for rule in RULES if rule is not trn100)  # TRN100 looks at comments, not calls


def check(site: CallSite, source: Source) -> Finding | None:
    if not site.is_model or site.state in ("expr", "kwargs"):
        return None
    for rule in CALL_RULES:
        finding = rule.check(site, source)
        if finding is not None:
            finding.site = site
            return finding
    return None


__all__ = ["RULES", "BY_CODE", "Finding", "Fix", "Source", "check"]
