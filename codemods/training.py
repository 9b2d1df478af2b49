"""`python -m libcst.tool codemod training.FixTrainingArgument PATH` from the repository root.

The commands live in the installed package (`trainfix.codemods`), which
users can list in their own `.libcst.codemod.yaml`; this module re-exports
them for a checkout.
"""
from trainfix.codemods.training import CheckTrainingArgument, FixTrainingArgument

__all__ = ["CheckTrainingArgument", "FixTrainingArgument"]
