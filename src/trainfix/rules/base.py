"""What rules share: the text around a call, fix helpers; `Finding` and `Fix` live in trainfix.findings."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..findings import Finding, Fix  # noqa: F401 (the rules' vocabulary)

if TYPE_CHECKING:
    from ..analysis.contexts import CallSite

INTENT = re.compile(r"dropout|\bmc\b|monte[\s_-]*carlo|uncertaint|intent|deliberate|on purpose|purposely", re.I)
# a comment saying why a trained model is called in inference mode (AdaMatch's "No BatchNorm update")
KEEP_INFERENCE = re.compile(INTENT.pattern + r"|batch\s*norm|\bbn\b|inference|frozen|freez|statistic|no\b.{0,20}update",
                            re.I)


@dataclass
class Source:
    """What rules may ask about the text around a call."""

    comments: dict[int, str]  # line -> comment text on that line

    def comment_near(self, call) -> str:
        """Comments on the line above the call and on every line it spans."""
        return " ".join(self.comments.get(n, "") for n in range(call.lineno - 1, call.end_lineno + 1))


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
