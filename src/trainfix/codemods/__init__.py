"""LibCST codemod commands that run trainfix on each file.

Run them with LibCST's own tool. From a trainfix checkout (its
`.libcst.codemod.yaml` lists the top-level `codemods` folder)::

    python -m libcst.tool codemod training.FixTrainingArgument src/

In your own project, list this package in your `.libcst.codemod.yaml`
(``modules: ['trainfix.codemods']``) and run the same command, or name the
class directly: ``python -m libcst.tool codemod -x trainfix.codemods.FixTrainingArgument src/``.
"""
from .training import CheckTrainingArgument, FixTrainingArgument

__all__ = ["CheckTrainingArgument", "FixTrainingArgument"]
