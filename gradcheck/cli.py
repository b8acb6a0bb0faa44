"""The command line: argv -> run -> exit code. Thin on purpose; imports nothing heavy until a
command runs, so ``gradcheck --help`` answers at once.

Commands: ``check PATH...`` (the checks; ``--report DIR`` writes the report folder),
``report DIR`` (redraw report.html, summary.md and junit.xml from an earlier run's folder),
``diff OLD NEW`` (the claims whose verdict changed between two report folders),
``new NAME`` (a commented spec template), ``init --loss EXPR --inputs "X: M in, ..."`` (a spec
for that loss with its derived, verified gradients as claims) and ``merge DIR... --into OUT``
(the report folders of ``check --shard I/N`` joined into the unsharded run's report).

Exit codes: 0 every claim as expected; 1 some claim is not (a wrong claim, or an
``expect: fail`` claim that passed), or for ``diff`` a claim that passed now fails; 2 a spec
could not be read, a folder holds no report, or bad usage (a numeric option out of range, a
``--report`` that cannot be written: refused before the run starts); 5 nothing was checked, as
pytest's exit 5: a folder or pattern without spec files, or a ``--claim`` name that matches no
claim (one such name is enough, even when others match), refused before the run starts (a
``--shard`` that the split left empty exits 0: more shards than claims is not a typo); 130
the run was interrupted (Ctrl-C, SIGTERM). A reader that leaves early
(``gradcheck check specs/ | head -1``) changes none of them: the run finishes, its exit code stands.
"""

from __future__ import annotations

import argparse
import sys

from .options import OPTIONS, RunOptions

EXIT_OK, EXIT_FAIL, EXIT_SPEC, EXIT_NOTHING = 0, 1, 2, 5


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Verify hand-derived gradients, VJPs and JVPs written in YAML specs.",
        epilog="exit codes: 0 all claims as expected, 1 a claim is not, 2 a spec cannot be read or bad usage, "
        "5 nothing to check (a folder or pattern without specs, a --claim that matches no claim)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for add in (_add_check, _add_report, _add_derive, _add_diff, _add_scaffolds, _add_merge):
        add(sub)
    sub.add_parser(
        "schema",
        help="print the JSON Schema of the spec format (v1), for editors and check-jsonschema",
        description="Print the JSON Schema (draft 2020-12) of spec format v1 to standard output.",
    )
    return parser


def _options(parser: argparse.ArgumentParser, names: tuple[str, ...] | None = None) -> None:
    """The shared option table's flags (``names``: only those) on a subcommand."""
    for opt in OPTIONS:
        if names is None or opt.name in names:
            parser.add_argument(f"--{opt.flag}", **opt.argparse_kwargs(dest=opt.name))


def _add_check(sub) -> None:
    check = sub.add_parser(
        "check",
        help="check the claims of spec files (a folder: every .yaml/.yml in it)",
        description="Check every claim in the given spec files or folders.",
    )
    check.add_argument("paths", nargs="+", metavar="PATH")
    _options(check)
    talk = check.add_mutually_exclusive_group()
    talk.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="only unexpected results, failure blocks and the summary line (no progress lines)",
    )
    talk.add_argument(
        "-v", "--verbose", action="store_true", help="also the failure blocks of expected failures, and every note"
    )


def _add_report(sub) -> None:
    report = sub.add_parser(
        "report",
        help="redraw report.html, summary.md and junit.xml from an earlier --report DIR",
        description="Render the pages of a report folder again from its summary.csv and "
        "details.json, without re-running the checks.",
    )
    report.add_argument("directory", metavar="DIR")
    report.add_argument(
        "--all-figures",
        action="store_true",
        help="draw a picture for every expected failure too (default: the first 12)",
    )


def _add_derive(sub) -> None:
    derive = sub.add_parser(
        "derive",
        help="derive the gradient of each spec's loss in its own symbols, verified before it is printed",
        description="Derive d loss / d input for every differentiable input (symbolic reverse mode over the "
        "spec's expressions), check each derived gradient like a claim, and print it as a YAML claim to paste. "
        "Exit 1 if a derived gradient fails its check (a bug of gradcheck), 2 if a spec cannot be read.",
    )
    derive.add_argument("paths", nargs="+", metavar="SPEC")
    derive.add_argument("--wrt", action="append", metavar="NAME", help="only this input (repeatable)")
    derive.add_argument("--steps", action="store_true", help="also print the backward chain, one adjoint per node")
    derive.add_argument("--numpy", action="store_true", help="also print a numpy backward-pass function")
    _options(derive, ("examples", "seed", "rtol", "atol", "no_python", "timeout", "memory"))


def _add_diff(sub) -> None:
    diff = sub.add_parser(
        "diff",
        help="the claims whose verdict changed between two report folders",
        description="Compare two report folders (from --report) claim by claim, regressions "
        "first; writes diff.md into NEW. Exits 1 when a claim that passed now fails.",
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument("--markdown", action="store_true", help="print the Markdown table instead of the terminal one")


def _add_scaffolds(sub) -> None:
    new = sub.add_parser(
        "new",
        help="write a commented spec template to NAME.yaml (it passes `gradcheck check` as written)",
        description="Write a commented spec template to NAME.yaml: dims, inputs, helpers, a graph node, the "
        "loss and three claims (one known wrong), each key explained. Refuses to overwrite a file.",
    )
    new.add_argument("name", metavar="NAME")
    init = sub.add_parser(
        "init",
        help="write a spec for your loss, with its derived gradients (verified) as the claims",
        description="Write a spec for --loss over --inputs, with the gradient of the loss wrt every input "
        "derived by gradcheck and verified by its own check as the starting claims. Each dim gets a default "
        "range: the k-th dim named gets [2+k, 5+k] (M: [2, 5], in: [3, 6], ...). Exit 1 if a derived gradient "
        "fails its check (a bug of gradcheck), 2 for bad usage or a loss that does not compile.",
    )
    init.add_argument("--loss", required=True, metavar="EXPR", help='the loss, e.g. "0.5 * sum((X @ Theta) ** 2)"')
    init.add_argument(
        "--inputs",
        required=True,
        metavar="SPEC",
        help='inputs and their dims, e.g. "X: M in, Theta: in out, b:" (no dims: a scalar; a domain in '
        'parentheses last: "x: n (positive)")',
    )
    init.add_argument(
        "-o", "--output", default="spec.yaml", metavar="FILE", help="the spec file to write (default spec.yaml)"
    )
    _options(init, ("examples", "seed", "timeout", "memory"))


def _add_merge(sub) -> None:
    merge = sub.add_parser(
        "merge",
        help="join the report folders of a sharded run (check --shard I/N --report DIR) into one",
        description="Merge the report folders of the shards of one run into one report folder: summary.csv "
        "and results.csv as the unsharded run writes them, and report.html, summary.md, junit.xml rendered "
        "from them. The run seeds must agree. Exit codes as for check: 0, 1, 2 (also: the folders are not "
        "one run).",
    )
    merge.add_argument("folders", nargs="+", metavar="DIR")
    merge.add_argument("--into", required=True, metavar="OUT", help="the folder to write the merged report into")


def main(argv: list[str] | None = None) -> int:
    streams = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _ReaderMayLeave(sys.stdout), _ReaderMayLeave(sys.stderr)
    try:
        return _main(argv)
    finally:
        sys.stdout, sys.stderr = streams


class _ReaderMayLeave:
    """A stream whose reader may leave early (``gradcheck check specs/ | head -1``).

    The run goes on and the exit code stays the verdicts' (a closed pipe must not turn a failing
    gate into 0): once the pipe is closed, the stream's file descriptor is pointed at the null
    device, so later writes, and the flush at exit, go nowhere instead of raising.
    """

    def __init__(self, stream) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        try:
            return self._stream.write(text)
        except BrokenPipeError:
            self._leave()
            return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._leave()

    def _leave(self) -> None:
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), self._stream.fileno())

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_SPEC
    if args.command == "check":
        return _check(args)
    if args.command == "report":
        return _report(args)
    if args.command == "diff":
        return _diff(args)
    if args.command == "merge":
        return _merge(args)
    if args.command in ("new", "init"):
        return _scaffold(args)
    if args.command == "schema":
        from .schema import schema_text

        sys.stdout.write(schema_text())
        return EXIT_OK
    if args.command == "derive":
        from .derive.command import derive_command

        options = RunOptions.from_mapping(vars(args))
        return derive_command(args.paths, options, wrt=tuple(args.wrt or ()), steps=args.steps, numpy=args.numpy)
    return EXIT_SPEC  # pragma: no cover - argparse rejects unknown commands


def _check(args: argparse.Namespace) -> int:
    from .report import text
    from .report.progress import Progress, choose_mode
    from .run import discover, report_problem, run, shard_plan
    from .verdict.model import Label

    options = RunOptions.from_mapping(vars(args))
    unwritable = options.report and report_problem(options.report, "--report", discover(args.paths).files)
    if unwritable:
        print(f"gradcheck check: {unwritable}", file=sys.stderr)
        return EXIT_SPEC
    mode = choose_mode(sys.stderr, args.quiet)
    progress = Progress([], "off")  # until the run starts: a refused run shows no progress
    blocks: list[str] = []
    shard = shard_plan(discover(args.paths).files, options) if options.shard else None

    def on_start():
        nonlocal progress
        progress = Progress(_claim_counts(args.paths, options, shard) if mode != "off" else [], mode)

    def on_verdict(v):
        if not args.quiet or not v.as_expected:
            lines = [text.verdict_line(v)]
            if v.label != Label.PASS:
                lines += text.detail_lines(v)
            if args.verbose:
                lines += [f"        note: {n}" for n in v.notes]
            progress.echo("\n".join(lines))
        if not v.as_expected or (args.verbose and v.label != Label.PASS):
            blocks.append(text.failure_block(v))
        progress.verdict(v)

    def on_failure(f):
        progress.echo(text.failure_text(f))
        progress.failure(f)

    try:
        result = run(
            args.paths,
            options,
            on_verdict=on_verdict,
            on_failure=on_failure,
            on_warning=lambda w: progress.echo(f"warning: {w}"),
            on_start=on_start,
            shard=shard,
        )
    finally:
        progress.close()
    if result.nothing:
        return _refuse(result)
    return _finish(result, blocks, options, shard)


def _finish(result, blocks: list[str], options: RunOptions, shard) -> int:
    """After a run: the failure blocks, the summary line, the report's files, the shard's part;
    the exit code."""
    from .report import text

    out = sys.stdout
    for block in blocks:
        print("", file=out)
        print(block, file=out)
    print("", file=out)
    print(text.summary_line(result), file=out)
    if options.report:
        print(_written(options.report, [p.name for p in result.written]), file=out)
    if shard is None:
        return result.exit_code
    print(_shard_line(shard), file=out)
    if result.exit_code == EXIT_NOTHING and not result.nothing:
        # more shards than claims: this part is empty by the split, not by a typo (exit 5
        # would fail a CI matrix that is merely wider than the specs)
        return EXIT_OK
    return result.exit_code


def _shard_line(shard) -> str:
    if not shard.mine:
        return f"shard {shard.index}/{shard.count}: no claims fell to this shard (the run has fewer claims than shards)"
    return (
        f"shard {shard.index}/{shard.count}: checked {len(shard.mine)} of the run's {len(shard.items)} claims; "
        "join the shards' --report folders with `gradcheck merge DIR... --into OUT`"
    )


def _refuse(result) -> int:
    """A run refused because it would check nothing: one line per reason (and per path that does
    not exist); exit 5, or 2 when a path does not exist."""
    from .report.text import failure_text

    for failure in result.failures:
        print(failure_text(failure), file=sys.stderr)
    for reason in result.nothing:
        print(f"gradcheck check: {reason}", file=sys.stderr)
    return result.exit_code


def _claim_counts(paths: list[str], options: RunOptions, shard=None) -> list[tuple[str, int]]:
    """Claims to check per spec file, counted before the run, for the progress bar's total.

    An estimate: a spec that does not load counts 0 here (the run reports why). A shard counts
    only its own claims.
    """
    from .errors import GradcheckError
    from .run import discover, shard_plan
    from .spec.load import load_spec

    files = discover(paths).files
    if options.shard:
        mine = [file for file, _ in (shard or shard_plan(files, options)).mine]
        return [(file, mine.count(file)) for file in files]
    plan = []
    for file in files:
        try:
            spec = load_spec(file)
        except (GradcheckError, OSError, ValueError):  # counting only: the run itself reports why a spec does not load
            plan.append((file, 0))
            continue
        plan.append((file, sum(len(c.wrt) for c in spec.claims if not options.claim or c.name in options.claim)))
    return plan


def _written(directory: str, names: list[str]) -> str:
    """``report written to DIR/: report.html, ...``: the files a run wrote (not what a folder
    holds: an earlier run's results.parquet may lie there), pages first, then the tables."""
    shown = ("report.html", "summary.md", "junit.xml", "summary.csv", "results.csv", "results.parquet")
    return f"report written to {directory}/: {', '.join(n for n in shown if n in names)}"


def _report(args: argparse.Namespace) -> int:
    from .report import record
    from .report.pages import write_pages

    try:
        run = record.load(args.directory)
    except (record.ReportDirError, ValueError, KeyError) as err:
        print(f"gradcheck report: {_reason(err)}", file=sys.stderr)
        return EXIT_SPEC
    written = write_pages(run, args.directory, all_figures=args.all_figures)
    print(f"{run.headline()}  seed {run.seed}")
    print(f"report rendered again in {args.directory}/: {', '.join(p.name for p in written)}")
    return EXIT_OK


def _diff(args: argparse.Namespace) -> int:
    from pathlib import Path

    from .report import diff as report_diff
    from .report.atomic import atomic_write_text
    from .report.record import ReportDirError

    try:
        found = report_diff.compare(args.old, args.new)
    except (ReportDirError, KeyError) as err:
        print(f"gradcheck diff: {_reason(err)}", file=sys.stderr)
        return EXIT_SPEC
    md = report_diff.markdown(found)
    atomic_write_text(Path(args.new) / "diff.md", md)
    print(md if args.markdown else report_diff.terminal(found), end="")
    if not args.markdown:
        print(f"written to {Path(args.new) / 'diff.md'}")
    return found.exit_code


def _scaffold(args: argparse.Namespace) -> int:
    from . import scaffold
    from .errors import SpecError

    try:
        if args.command == "new":
            path = scaffold.new_spec(args.name)
            print(f"wrote {path}: check it with `gradcheck check {path}`, then make it your own")
            return EXIT_OK
        path, status = scaffold.init_spec(args.output, args.loss, args.inputs, RunOptions.from_mapping(vars(args)))
    except scaffold.InitError as err:
        print(f"gradcheck {args.command}: {err}", file=sys.stderr)
        return EXIT_SPEC
    except SpecError as err:
        print(str(err), file=sys.stderr)
        print(f"gradcheck init: {args.output} was written as a draft: fix the loss there", file=sys.stderr)
        return EXIT_SPEC
    print(f"wrote {path}: check it with `gradcheck check {path}`")
    return status


def _merge(args: argparse.Namespace) -> int:
    from .report import merge
    from .report.record import ReportDirError

    try:
        merged, written = merge.merge(args.folders, args.into)
    except (ReportDirError, merge.MergeError, KeyError) as err:
        print(f"gradcheck merge: {_reason(err)}", file=sys.stderr)
        return EXIT_SPEC
    print(f"{merged.headline()}  seed {merged.seed}")
    print(f"merged {len(args.folders)} report folders: {_written(args.into, [p.name for p in written])}")
    return merged.exit_code


def _reason(err: Exception) -> str:
    if isinstance(err, KeyError):
        return f"summary.csv lacks the column {err}: is it a gradcheck report?"
    return str(err)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
