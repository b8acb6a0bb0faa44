"""The command line: argv -> run -> exit code. Thin on purpose; imports nothing heavy until a
command runs, so ``gradcheck --help`` answers at once.

Exit codes: 0 every claim as expected; 1 some claim is not (a wrong claim, or an
``expect: fail`` claim that passed); 2 a spec could not be read, or bad usage.
"""

from __future__ import annotations

import argparse
import sys

from .options import OPTIONS, RunOptions

EXIT_OK, EXIT_FAIL, EXIT_SPEC = 0, 1, 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gradcheck",
        description="Verify hand-derived gradients, VJPs and JVPs written in YAML specs.",
        epilog="exit codes: 0 all claims as expected, 1 a claim is not, 2 a spec cannot be read",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    check = sub.add_parser("check", help="check the claims of spec files (a folder: every .yaml/.yml in it)",
                           description="Check every claim in the given spec files or folders.")
    check.add_argument("paths", nargs="+", metavar="PATH")
    for opt in OPTIONS:
        kwargs = {"help": opt.help, "dest": opt.name}
        if opt.action == "append":
            kwargs.update(action="append", metavar=opt.metavar)
        elif opt.action == "store_true":
            kwargs.update(action="store_true")
        else:
            kwargs.update(type=opt.type, metavar=opt.metavar)
        check.add_argument(f"--{opt.flag}", **kwargs)
    check.add_argument("-q", "--quiet", action="store_true", help="only failure blocks and the summary line")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_SPEC
    if args.command == "check":
        return _check(args)
    return EXIT_SPEC  # pragma: no cover - argparse rejects unknown commands


def _check(args: argparse.Namespace) -> int:
    from .report import text
    from .run import run

    options = RunOptions.from_mapping(vars(args))
    out = sys.stdout
    blocks: list[str] = []

    def on_verdict(v):
        if not args.quiet or not v.as_expected:
            print(text.verdict_line(v), file=out, flush=True)
            if v.verdict != "pass":
                for line in text.detail_lines(v):
                    print(line, file=out)
        if not v.as_expected:
            blocks.append(text.failure_block(v))

    def on_failure(f):
        print(text.failure_text(f), file=out, flush=True)

    result = run(args.paths, options, on_verdict=on_verdict, on_failure=on_failure)
    for block in blocks:
        print("", file=out)
        print(block, file=out)
    print("", file=out)
    print(text.summary_line(result), file=out)
    if options.report:
        print(f"report written to {options.report}/summary.csv and results.csv", file=out)
    return result.exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
