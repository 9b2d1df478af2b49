"""The rule contract (`Rule`, `FixAvailability`, `Violation`) and what rules share: the text
around a call, fix helpers. `Fix` lives in trainfix.findings."""
from __future__ import annotations

import ast
import enum
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..findings import Fix

if TYPE_CHECKING:
    from ..analysis.sites import CallSite


class FixAvailability(enum.Enum):
    """Whether `trainfix apply`, with safe fixes only, fixes a finding (ruff's `FixAvailability`).

    The value is the label `trainfix rules`, `rules --output-format json` and the docs show.
    """

    ALWAYS = "safe"  # the fix is always safe (when the call's layout can take a keyword)
    SOMETIMES = "sometimes unsafe"  # unsafe in some cases: shown, applied with `--unsafe-fixes`
    NEVER = "display only"  # no fix: the change is made by hand

    @property
    def label(self) -> str:
        return self.value


@dataclass(frozen=True)
class Violation:
    """What a rule finds at a call: the engine adds the rule's code and the call's position."""

    message: str
    fix: Fix | None = None


Check = Callable[["CallSite", "Source"], "Violation | None"]
Example = tuple[str, "str | None"]  # (source, what `trainfix apply --unsafe-fixes` writes; None: no fix)


@dataclass(frozen=True)
class Rule:
    """One rule: what the registry, config validation, docs and `trainfix rules` read."""

    code: str  # "TRN001"
    name: str  # "trained-model-without-training"
    summary: str  # one line, without a final period
    fix: FixAvailability
    doc: str  # the module docstring: `CODE name` then Ruff's sections
    module: str  # the defining module's __name__ (named in the generated page's header)
    check: Check | None  # None: not a per-call rule (TRN100 is reported from the comments)
    invalid: tuple[Example, ...] = ()  # sources the rule reports, run by the tests
    valid: tuple[str, ...] = ()  # sources it must leave alone
    opt_in: bool = False  # runs only when selected by name or prefix, like ruff's RUF100


INTENT = re.compile(r"dropout|\bmc\b|monte[\s_-]*carlo|uncertaint|intent|deliberate|on purpose|purposely", re.I)
# a comment saying why a trained model is called in inference mode (AdaMatch's "No BatchNorm update")
KEEP_INFERENCE = re.compile(INTENT.pattern + r"|batch\s*norm|\bbn\b|inference|frozen|freez|statistic|no\b.{0,20}update",
                            re.I)


@dataclass
class Source:
    """What rules may ask about the text around a call."""

    comments: dict[int, str]  # line -> comment text on that line

    def comment_near(self, call: ast.expr) -> str:
        """Comments on the line above the call and on every line it spans."""
        end = call.end_lineno if call.end_lineno is not None else call.lineno
        return " ".join(self.comments.get(n, "") for n in range(call.lineno - 1, end + 1))


PRETRAINED = "; it is pretrained, and keeping its BatchNorm in inference mode while fine-tuning is the Keras idiom"
PRETRAINED_REASON = "the model is pretrained: keeping its BatchNorm in inference mode while fine-tuning is the Keras idiom"


def trained_subject(site: CallSite) -> str:
    if site.trained:
        return f"Trained model `{site.callee}`"
    return f"Model `{site.callee}` (trained here unless the unresolved gradient sources exclude it)"


def pretrained_note(site: CallSite) -> str:
    """Why a fix on a pretrained model is unsafe (SPEC "Pretrained models")."""
    return PRETRAINED if site.pretrained else ""


def training_value(site: CallSite, literal: str) -> str:
    return site.forward or literal


def trained_fix(site: CallSite, verb: str, explicit_required: bool, deliberate: str = "") -> Fix | None:
    """The fix; `deliberate`, when not empty, is why the call may be meant as written (the fix is then unsafe)."""
    if not site.fixable:
        return None
    safe = site.trained is True and (site.explicit or not explicit_required) and not deliberate
    value = training_value(site, "True")
    if safe:
        return Fix("safe", f"{verb} `training={value}`", value)
    if site.trained is not True:
        reason = "the gradient sources can't be resolved, so the model may not be trained here"
    elif explicit_required and not site.explicit:
        reason = "the model's variables are not the tape's explicit gradient sources, so `training=False` may be deliberate"
    else:
        reason = deliberate
    return Fix("unsafe", f"{verb} `training={value}`", value, reason)
