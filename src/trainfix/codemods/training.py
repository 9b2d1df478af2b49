"""`FixTrainingArgument` and `CheckTrainingArgument`: the trainfix engine as LibCST codemods.

Both hand the module's code to `trainfix.fix_source` with the configuration
found for the file (the nearest `[tool.trainfix]` upward), so a codemod run
finds and fixes exactly what `trainfix apply` does. A file with nothing to
change is skipped rather than returned: LibCST would otherwise write back its
own re-print of the module, which is not always byte-identical.
"""
from __future__ import annotations

import argparse
from pathlib import Path

import libcst as cst
from libcst.codemod import CodemodContext, SkipFile, VisitorBasedCodemodCommand

from ..config import Config, ConfigError, load
from ..engine import Result, fix_source
from ..errors import SourceError


class _TrainfixCommand(VisitorBasedCodemodCommand):
    def __init__(self, context: CodemodContext, unsafe_fixes: bool = False) -> None:
        super().__init__(context)
        self.unsafe_fixes = unsafe_fixes

    @staticmethod
    def add_args(arg_parser: argparse.ArgumentParser) -> None:
        arg_parser.add_argument("--unsafe-fixes", action="store_true", default=False,
                                help="Also apply the fixes trainfix marks unsafe.")

    def config(self) -> Config:
        filename = self.context.filename
        try:
            return load(Path(filename)) if filename else Config()
        except ConfigError as exc:
            raise SkipFile(f"trainfix configuration: {exc}") from None

    def run(self, tree: cst.Module, report_applied: bool) -> Result:
        config = self.config()
        code = tree.code
        filename = self.context.filename
        if filename:
            try:
                original = Path(filename).read_bytes().decode(tree.encoding)
            except (OSError, UnicodeDecodeError, LookupError):
                original = code
            if original != code:
                raise SkipFile("trainfix: LibCST cannot print this file back byte for byte; use `trainfix apply`")
        try:
            result = fix_source(code, config=config, unsafe=self.unsafe_fixes or config.unsafe_fixes,
                                path=filename or None)
        except SourceError as exc:
            where = f"line {exc.line}: " if exc.line else ""
            raise SkipFile(f"trainfix: {where}{exc.reason}") from None
        for f in result.findings:
            if f.applied and not report_applied:
                continue
            mark = "" if f.fix is None or f.applied else f" (fix: {f.fix.applicability}, not applied)"
            self.warn(f"{self.context.filename or '-'}:{f.line}:{f.column}: {f.code} {f.message}{mark}")
        return result


class FixTrainingArgument(_TrainfixCommand):
    DESCRIPTION = ("Add or correct `training=` on Keras model calls in custom training and evaluation steps "
                   "(the safe fixes of `trainfix apply`).")

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        result = self.run(tree, report_applied=False)
        if not result.changed:
            raise SkipFile("trainfix: nothing to fix")
        new = cst.parse_module(result.new_source, config=tree.config_for_parsing)
        if new.code != result.new_source:
            raise SkipFile("trainfix: LibCST cannot print this file back byte for byte; use `trainfix apply`")
        return new


class CheckTrainingArgument(_TrainfixCommand):
    DESCRIPTION = "Report Keras model calls with a missing or wrong `training=` flag as warnings; change nothing."

    def transform_module_impl(self, tree: cst.Module) -> cst.Module:
        result = self.run(tree, report_applied=True)
        raise SkipFile(f"trainfix: {len(result.findings)} finding{'s' * (len(result.findings) != 1)}")
