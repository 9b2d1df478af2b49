"""The command line: a thin layer over the runner; the only place that prints."""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, NamedTuple, TypeVar

import click

from .version import __version__
from .config import OUTPUT_FORMATS as FORMATS
from .config import Config, ConfigError
from .files import StrPath
from .outcome import WriteBack
from .report import NO_FILES, Report, unified_diff
from .settings import Overrides, Settings, UnknownCodes
from .targets import File, Stdin, targets

if TYPE_CHECKING:
    from rich.progress import Progress

PROGRESS_MIN_FILES = 20  # a progress bar only for runs longer than a glance
F = TypeVar("F", bound=Callable[..., Any])


def common_options(fn: F) -> F:
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
        click.option("--diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them."),
        click.option("--unsafe-fixes/--no-unsafe-fixes", default=None,
                     help="Also apply (or show) fixes marked unsafe."),
        click.option("--select", default=None, help="Comma-separated rule codes to enable (replaces the default)."),
        click.option("--ignore", default=None, help="Comma-separated rule codes to disable."),
        click.option("--output-format", type=click.Choice(FORMATS), default=None,
                     help="Findings format: full (default: source line, caret, fix), concise (one line each), json, "
                          "json-lines, junit, gitlab (Code Quality), github (workflow annotations), sarif (2.1.0)."),
        click.option("--stdin-filename", default=None, help="The name of the file read from `-`."),
        click.option("--force-exclude", is_flag=True, default=None,
                     help="Apply excludes and .gitignore to files named on the command line too."),
        click.option("--exclude", multiple=True, metavar="PATTERN",
                     help="Gitignore-style pattern to exclude (repeatable; replaces `exclude` from the config)."),
        click.option("--extend-exclude", multiple=True, metavar="PATTERN",
                     help="Gitignore-style pattern to exclude in addition (repeatable)."),
        click.option("--respect-gitignore/--no-respect-gitignore", default=None,
                     help="Skip files ignored by .gitignore when walking folders (default: on)."),
        click.option("--show-skipped", is_flag=True, help="List calls considered and left alone, with the reason."),
        click.option("--statistics", is_flag=True, help="Show counts per rule instead of each finding."),
        click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary."),
        click.option("--exit-zero", is_flag=True, help="Exit 0 even when findings remain (errors still exit 2)."),
        click.option("--cache/--no-cache", default=True, envvar="TRAINFIX_CACHE", show_envvar=True,
                     help="Reuse what unchanged files reported last time (default: on)."),
        click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, envvar="TRAINFIX_JOBS",
                     show_envvar=True, help="Processes to use for many files (default: one per CPU)."),
    ]
    for option in reversed(options + CONFIG_OPTIONS):
        fn = option(fn)
    return fn


# ruff's configuration flags, shared by check and apply
CONFIG_OPTIONS = [
    click.option("--config", "config_args", multiple=True, metavar="PATH | 'KEY = VALUE'",
                 help="A pyproject.toml or trainfix.toml to use instead of discovery, or a `key = value` "
                      "override of one option (repeatable)."),
    click.option("--extend-select", default=None, help="Comma-separated rule codes to enable in addition."),
    click.option("--output-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
                 help="Write the report to this file instead of standard output."),
]

# ruff's fixing flags, on check
FIX_OPTIONS = [
    click.option("--fix/--no-fix", default=False, help="Write the fixes (as `trainfix apply`)."),
    click.option("--fix-only", is_flag=True,
                 help="Write the fixes and report only what was fixed; exit 0 unless an error (implies --fix)."),
    click.option("--exit-non-zero-on-fix", is_flag=True,
                 help="Exit 1 when a file was fixed, even if no finding remains."),
    click.option("--add-noqa", is_flag=True,
                 help="Add `# trainfix: ignore[CODE]` to each line with a finding; fix nothing."),
]


def fix_options(fn: F) -> F:
    for option in reversed(FIX_OPTIONS):
        fn = option(fn)
    return fn


class Cli(click.Group):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # `trainfix --check PATHS` is the same as `trainfix check PATHS`; `--check` anywhere
        # (before a `--`) means check, so with `apply` it is an error, never a write
        end = args.index("--") if "--" in args else len(args)
        if "--check" in args[:end]:
            args = [a for a in args[:end] if a != "--check"] + args[end:]
            if "apply" in args[:end] and not any(a in self.commands for a in args[:args.index("apply")]):
                raise click.UsageError("`--check` writes nothing and `apply` writes fixes: use `trainfix check` "
                                       "(with `--diff` to see the fixes) or `trainfix apply`", ctx)
            if not args or args[0] not in self.commands:
                args = ["check", *args]
        return super().parse_args(ctx, args)


@click.group(cls=Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="trainfix")
def cli() -> None:
    """Find and fix Keras models called with the wrong `training` flag.

    `trainfix apply` writes the safe fixes, `trainfix check` (or `--check`) only
    reports. Exit codes: 0 nothing to report, 1 findings remain, 2 error.
    """


@cli.command()
@common_options
@click.option("--exit-non-zero-on-fix", is_flag=True, help="Exit 1 when a file was fixed, even if no finding remains.")
def apply(diff: bool, **kwargs: Any) -> None:
    """Fix the files under PATHS (default: the current folder)."""
    sys.exit(run(WriteBack.of(fix=True, diff=diff), **kwargs))


@cli.command()
@common_options
@fix_options
def check(fix: bool, fix_only: bool, add_noqa: bool, diff: bool, **kwargs: Any) -> None:
    """Report findings under PATHS without writing; exit 1 if any (`--fix`: write the fixes, as `apply`)."""
    if add_noqa:
        if fix or fix_only or diff:
            raise click.UsageError("--add-noqa cannot be combined with --fix, --fix-only or --diff")
        sys.exit(run_add_noqa(**kwargs))
    sys.exit(run(WriteBack.of(fix=fix or fix_only, diff=diff), fix_only=fix_only, **kwargs))


@cli.command("rules")
@click.option("--output-format", type=click.Choice(("text", "json")), default="text",
              help="text (a table) or json (every rule with its page, as ruff's `rule --all`).")
def list_rules(output_format: str) -> None:
    """List the rules."""
    from .rules import RULES

    if output_format == "json":
        from .formats import rules_json

        sys.stdout.write(rules_json())
        return

    rows = [(rule.code, rule.name, rule.fix.label, rule.summary) for rule in RULES]
    if _color(sys.stdout):
        from rich.console import Console
        from rich.table import Table

        table = Table(box=None, header_style="bold")
        table.add_column("code", no_wrap=True)
        table.add_column("name", no_wrap=True, min_width=max(len(r[1]) for r in rows))
        table.add_column("fix", no_wrap=True, min_width=max(len(r[2]) for r in rows))
        table.add_column("summary")
        for row in rows:
            table.add_row(*row)
        Console(highlight=False).print(table)
        return
    for code, name, safety, summary in rows:
        click.echo(f"{code}  {name:<34} {safety:<17} {summary}")


@cli.command("rule")
@click.argument("code")
def show_rule(code: str) -> None:
    """Explain one rule."""
    from .rules import BY_CODE

    rule = BY_CODE.get(code.upper())
    if rule is None:
        raise click.UsageError(f"unknown rule {code!r}; see `trainfix rules`")
    from .docs import rule_markdown

    text = rule_markdown(rule)
    if _color(sys.stdout):
        from rich.console import Console
        from rich.markdown import Markdown

        Console().print(Markdown(text))
    else:
        click.echo(text)


@cli.command("server")
def server() -> None:
    """Run the language server over stdio, for editors (needs the `lsp` extra)."""
    from .lsp import main as serve

    sys.exit(serve())


OVERRIDES = ("select", "ignore", "extend_select", "unsafe_fixes", "exclude", "extend_exclude", "respect_gitignore",
             "force_exclude", "config_args")


def _overrides(kw: dict[str, Any]) -> Overrides:
    """The settings flags among a command's options."""
    return Overrides(**{name: kw[name] for name in OVERRIDES if name in kw})


class _Started(NamedTuple):
    settings: Settings
    base: Config  # the configuration of the current folder (or of `--stdin-filename`)
    fmt: str


def _start(kw: dict[str, Any], stdin_filename: str | None, output_format: str | None) -> _Started | None:
    """The settings, the base config and the format, or None after printing why not."""
    try:
        overrides = _overrides(kw)
        settings = Settings(overrides)
        overrides.check_codes()
        base = settings.for_path(stdin_filename, is_file=True) if stdin_filename else settings.for_path(Path.cwd())
    except (ConfigError, UnknownCodes) as exc:
        click.echo(f"trainfix: error: {exc}", err=True)
        return None
    fmt = output_format or base.output_format
    if fmt not in FORMATS:
        click.echo(f"trainfix: error: unknown output format {fmt!r}", err=True)
        return None
    return _Started(settings, base, "concise" if fmt == "text" else fmt)  # the SPEC's one line per finding


@dataclass(frozen=True)
class Display:
    """How the report is shown."""

    fmt: str
    quiet: bool = False
    show_skipped: bool = False
    statistics: bool = False
    fix_only: bool = False  # report what was fixed, not what remains
    output_file: Path | None = None
    stdin_write: bool = False  # the fixed source went to stdout: only the summary, on stderr


def run(write_back: WriteBack, paths: tuple[Path, ...], stdin_filename: str | None, quiet: bool,
        output_format: str | None, show_skipped: bool, statistics: bool, exit_zero: bool, output_file: Path | None,
        cache: bool, jobs: int | None, fix_only: bool = False, exit_non_zero_on_fix: bool = False,
        **kw: Any) -> int:
    started = _start(kw, stdin_filename, output_format)
    if started is None:
        return 2
    settings, base, fmt = started
    report = Report(write_back, unsafe=base.unsafe_fixes)
    paths = paths or (Path("."),)
    from .runner import run_files

    found = None
    if cache and base.cache and not show_skipped:
        from .cache import Cache, project_root

        found = Cache(project_root(base.source.parent if base.source else Path.cwd()))
    files = _files(targets(paths, settings, report, stdin_filename, found.listings if found else None), report,
                   stdin_filename)
    # files are read while the walk goes on, unless a progress bar needs their number first
    items = list(files) if _progress_bar.wanted(quiet) else files
    with _progress_bar(len(items) if isinstance(items, list) else 0, quiet) as advance:
        # the full, json and SARIF formats show the analysed file's text (its source lines and edits)
        for outcome in run_files(items, write_back=write_back, cache=found, jobs=jobs, progress=advance,
                                 texts=fmt in TEXT_FORMATS):
            report.add(outcome)
    display = Display(fmt, quiet, show_skipped, statistics, fix_only, output_file,
                      stdin_write=write_back is WriteBack.WRITE and any(str(p) == "-" for p in paths))
    try:
        _print(report, display)
    except OSError as exc:
        click.echo(f"trainfix: error: cannot write {output_file}: {exc.strerror or exc}", err=True)
        return 2
    return _exit_code(report, exit_zero, fix_only, exit_non_zero_on_fix)


def _files(targets: Iterable[File | Stdin], report: Report,
           stdin_filename: str | None) -> Iterator[tuple[StrPath, str, Config]]:
    """The files to run; source read from `-` is processed here (its fixed text goes to stdout)."""
    for target in targets:
        if isinstance(target, File):
            yield target.path, target.shown, target.config
        else:
            _run_stdin(target.config, report, stdin_filename)


def _run_stdin(config: Config | None, report: Report, stdin_filename: str | None) -> None:
    from .runner import process_stdin

    write = report.write_back is WriteBack.WRITE
    raw = sys.stdin.buffer.read()
    if config is None:  # --stdin-filename is excluded and --force-exclude is on: pass it through
        new = None
    else:
        outcome, new = process_stdin(stdin_filename or "-", raw, config, config.unsafe_fixes, report.write_back,
                                     path=stdin_filename)
        outcome.written = write and new is not None  # the fixed text goes to stdout
        report.add(outcome)
    if write:
        sys.stdout.buffer.write(new if new is not None else raw)
        sys.stdout.flush()


TEXT_FORMATS = ("full", "json", "json-lines", "sarif", "gitlab")  # formats that show source lines or edits


def _fixed(report: Report) -> bool:
    """A file was fixed (or, with --diff, would be)."""
    if report.write_back is WriteBack.DIFF:
        return any(o.changed for o in report.outcomes)
    return any(o.written for o in report.outcomes)


def _exit_code(report: Report, exit_zero: bool, fix_only: bool, exit_non_zero_on_fix: bool) -> int:
    """ruff's rules: `--fix-only` exits 0 (1 with a diff printed, or a fix written under
    `--exit-non-zero-on-fix`); `--exit-non-zero-on-fix` also exits 1 when a file was fixed."""
    code = report.exit_code
    if code == 2:
        return 2
    fixed = _fixed(report)
    if fix_only:
        code = int(fixed and (report.write_back is WriteBack.DIFF or exit_non_zero_on_fix))
    elif exit_non_zero_on_fix and fixed:
        code = 1
    return 0 if exit_zero and code == 1 else code


def run_add_noqa(paths: tuple[Path, ...], stdin_filename: str | None, quiet: bool, output_format: str | None,
                 **kw: Any) -> int:
    """`check --add-noqa`: a `# trainfix: ignore[CODE]` on every line with a finding; exit 0 unless an error."""
    started = _start(kw, stdin_filename, output_format)
    if started is None:
        return 2
    if any(str(p) == "-" for p in paths):
        click.echo("trainfix: error: --add-noqa writes files; it cannot read `-`", err=True)
        return 2
    from .runner import add_noqa_file

    report = Report(WriteBack.WRITE)
    added = 0
    for target in targets(paths or (Path("."),), started.settings, report):
        if not isinstance(target, File):
            continue
        outcome, n = add_noqa_file(target.path, target.shown, target.config)
        added += n
        report.add(outcome)
        for s in outcome.skipped:
            click.echo(f"{target.shown}:{s.line}: warning: {s.reason}", err=True)
    for o in report.errors:
        click.echo(o.error, err=True)
    if not quiet:
        click.echo(f"Added {added} suppression{'s' * (added != 1)}.")
    return 2 if report.errors else 0


def _print(report: Report, display: Display) -> None:
    for o in report.errors:
        click.echo(o.error, err=True)
    if not report.outcomes and (display.quiet or (display.fmt != "text" and not display.stdin_write)):
        click.echo(f"trainfix: warning: {NO_FILES}", err=True)  # the summary that would say so is not shown
    if report.write_back is WriteBack.DIFF:
        _print_diff(report)
    if display.stdin_write:
        if not display.quiet:
            click.echo(report.summary(), err=True)
        return
    out = _Output(display.output_file)
    if display.fmt in ("full", "concise"):
        _print_text(report, display, out)
    else:
        _print_machine(report, display, out)
    out.close()


def _print_machine(report: Report, display: Display, out: _Output) -> None:
    """A machine format: stdout (or the output file) carries the report only."""
    from . import formats

    if display.show_skipped:
        for line in report.skipped_lines():
            click.echo(line, err=True)
    if display.statistics and display.fmt == "json":
        out.write(formats.statistics_json(report))
    elif not display.fix_only:
        out.write(formats.render(report, display.fmt))


def _print_text(report: Report, display: Display, out: _Output) -> None:
    """The findings for a person, then skipped calls and the summary (on stderr when a diff is printed)."""
    diff = report.write_back is WriteBack.DIFF
    color = display.output_file is None and _color(sys.stdout)
    if display.statistics:
        for code, n, k in report.statistics():
            out.line(f"{n:>5}  {code}  {'[*] ' if k else ''}{_rule_name(code)}")
    elif not diff and not display.fix_only:
        from . import textout

        for line in (textout.full if display.fmt == "full" else textout.concise)(report, color):
            out.line(line)
    if display.show_skipped:
        for line in report.skipped_lines():
            click.echo(line, err=True) if diff else out.line(line)
    if not display.quiet:
        summary = _fixed_summary(report) if display.fix_only else report.summary()
        click.echo(summary, err=True) if diff else out.line(summary)


def _fixed_summary(report: Report) -> str:
    """`--fix-only`: what was fixed (or, with --diff, would be), not what is left."""
    diff = report.write_back is WriteBack.DIFF
    done = [o for o in report.outcomes if (o.changed if diff else o.written)]
    n = sum(1 for o in done for f in o.findings if f.applied)
    files = len(done)
    verb = "Would fix" if diff else "Fixed"
    text = f"{verb} {n} finding{'s' * (n != 1)} in {files} file{'s' * (files != 1)}." if n else "Nothing to fix."
    if report.errors:
        k = len(report.errors)
        text += f" {k} file{'s' * (k != 1)} could not be processed."
    return text


class _Output:
    """Standard output, or the `--output-file`."""

    def __init__(self, path: Path | None):
        self.path = path
        self.parts: list[str] = []

    def write(self, text: str) -> None:
        self.parts.append(text)

    def line(self, text: str) -> None:
        self.parts.append(text + "\n")

    def close(self) -> None:
        text = "".join(self.parts)
        if self.path is not None:
            from .files import write_text_atomic

            write_text_atomic(self.path, text)
        elif text:
            sys.stdout.write(text)
            sys.stdout.flush()


def _rule_name(code: str) -> str:
    from .rules import BY_CODE

    return BY_CODE[code].name


def _print_diff(report: Report) -> None:
    # a notebook's diff is of the .ipynb text itself (one hunk per changed cell), so `git apply` takes it
    text = "".join(o.texts.ipynb_diff if o.texts.ipynb_diff is not None else
                   unified_diff(o.path, o.texts.old, o.texts.new) for o in report.outcomes if o.changed)
    if not text:
        return
    stream = sys.stdout
    if _color(stream):
        from rich.console import Console
        from rich.text import Text

        console = Console(file=stream, highlight=False, soft_wrap=True)
        for line in text.splitlines():
            style = "green" if line.startswith("+") else "red" if line.startswith("-") else \
                "cyan" if line.startswith("@@") else None
            console.print(Text(line, style=style or ""))
    else:
        stream.buffer.write(text.encode("utf-8", "surrogateescape")) if hasattr(stream, "buffer") else \
            stream.write(text)
        stream.flush()


class _progress_bar:
    """A transient rich progress bar on stderr, only on a terminal and for more than a few files."""

    def __init__(self, total: int, quiet: bool = False):
        self.total = total
        self.quiet = quiet
        self.progress: Progress | None = None

    @staticmethod
    def wanted(quiet: bool) -> bool:
        return not quiet and sys.stderr.isatty()

    def __enter__(self) -> Callable[[], None] | None:
        if self.total <= PROGRESS_MIN_FILES or not self.wanted(self.quiet):
            return None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        progress = self.progress = Progress(TextColumn("trainfix"), BarColumn(), MofNCompleteColumn(),
                                            TimeElapsedColumn(), console=Console(stderr=True), transient=True)
        progress.start()
        task = progress.add_task("files", total=self.total)
        return lambda: progress.advance(task)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _color(stream: IO[str]) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return hasattr(stream, "isatty") and stream.isatty()


def main(argv: list[str] | None = None) -> None:
    import gc

    # Syntax trees are many small objects, freed by reference counting once a module is
    # analysed (ScopeTree.release breaks the only cycles): the default threshold would run
    # the cycle collector thousands of times per run for nothing (~30% of a cold check).
    gc.set_threshold(1_000_000, 50, 100)
    cli.main(args=argv, prog_name="trainfix")
