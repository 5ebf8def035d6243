"""The ``lpj`` command.

Layer: cli (may import every layer; no module imports it).

    lpj generate --wave 2002          rebuild the reconstructed responses of a wave
    lpj verify --wave 2002            published numbers beside computed values
    lpj figures --wave 2002 --out D   figures.json and figures.csv
    lpj build --wave 2002 --out D     the report (HTML, PDF, DOCX) with its figures
    lpj build --kommune hasle         one municipality's edition (report/2002/kommuner/hasle)
    lpj build --kommune hasle --manifest fuld   the whole publication for one municipality
    lpj editions --wave 2002          every municipality's edition, in parallel
    lpj diff 2002 2005 --out D        every figure compared between two waves or builds
    lpj preview --wave 2002           the HTML on localhost, rebuilt on every save
    lpj validate FILE…                check respondent data files against the codebook
    lpj kommuner                      the municipalities' keys and names (for --kommune)
    lpj completion bash               a shell completion script (bash or zsh)

Messages in the terminal are English; the report and the numbers quoted from it are Danish.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from pathlib import Path

from lpj_report.cli_errors import run_guarded
from lpj_report.cli_values import (
    alpha_value,
    check_disclosure,
    kommune_value,
    min_base_value,
    port_value,
    shard_value,
    wave_value,
)
from lpj_report.terminal import shown

MANIFEST_HELP = ("editions: what the edition carries, from templates/editions/manifest.yaml "
                 "(kort: the municipality's chapter; fuld: the whole publication; default kort)")


def _project():
    from lpj_report.pipeline import Project

    return Project()


def cmd_generate(args: argparse.Namespace) -> int:
    from lpj_report.generate import DEFAULT_SEED, generate
    from lpj_report.output import write_atomic
    from lpj_report.wave import load_wave
    from lpj_report.write import write_responses

    project = _project()
    wave = load_wave(args.wave)
    if wave.status == "real":
        print(f"wave {wave.year} holds real data; the generator only writes reconstructions",
              file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else int(wave.meta.get("seed", DEFAULT_SEED))
    print(f"Generating wave {wave.year} ({wave.status}), seed {seed} …", file=sys.stderr)
    # a fictitious wave may borrow another year's published numbers as constraints
    targets = project.published(int(wave.meta.get("targets_from") or wave.year))
    result = generate(project.codebook, project.figures, project.populations,
                      targets, wave.meta, seed=seed, progress=not args.quiet)
    out = Path(args.out) if args.out else wave.responses_path
    tmp = out.with_name(f".tmp-{out.name}")
    write_responses(result.responses, tmp, codebook=project.codebook)
    tmp.replace(out)
    report = {"wave": wave.year, "seed": seed, "respondents": len(result.responses),
              "steps": result.report.steps}
    write_atomic(wave.folder / "reconstruction.json",
                 (json.dumps(report, ensure_ascii=False, indent=1) + "\n").encode())
    violated = result.report.violated()
    print(f"wrote {shown(out)} ({len(result.responses)} respondents); "
          f"{len(violated)} published target(s) could not be met together", file=sys.stderr)
    for tid in sorted(violated):
        print(f"  not met: {tid}", file=sys.stderr)
    for check, step in sorted(result.report.failed_checks().items()):
        print(f"  check not met ({step}): {check}", file=sys.stderr)
    from rich.console import Console

    from lpj_report.plausibility_report import print_section, write_report

    report = (wave.folder / "plausibility.md" if out == wave.responses_path
              else out.with_name(f"{out.stem}-plausibility.md"))
    print_section(write_report(project, wave, out, report),
                  Console(stderr=True, highlight=False, width=160))
    print(f"wrote {shown(report)}", file=sys.stderr)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from lpj_report.pipeline import Build
    from lpj_report.verify import verify
    from lpj_report.verify_report import print_verification, write_verification

    project = _project()
    build = Build.load(project, args.wave, Path(args.responses) if args.responses else None)
    published = project.published(build.wave.year)
    result = verify(published, build.figures, build.findings, project.codebook,
                    project.registry, project.audit_path(build.wave.year))
    print_verification(result, verbose=args.all)
    if args.out:
        write_verification(result, Path(args.out))
    from lpj_report.plausibility import assess
    from lpj_report.plausibility_report import print_section

    print_section(assess(project, build.wave, build.data))
    print(result.summary())
    if result.unexplained:
        print(f"{len(result.unexplained)} mismatch(es) not explained by the audit: "
              + ", ".join(result.unexplained), file=sys.stderr)
        return 1
    return 0


def cmd_figures(args: argparse.Namespace) -> int:
    from lpj_report.build import protect
    from lpj_report.folders import refusal, write_folder
    from lpj_report.output import figures_csv, figures_json
    from lpj_report.pipeline import Build
    from lpj_report.provenance import build_meta

    out = Path(args.out)
    refused = refusal(Path(shown(out)), "lpj figures", ("figures.json", "figures.csv"))
    if refused:
        print(f"error: {refused}", file=sys.stderr)
        return 2
    project = _project()
    build = Build.load(project, args.wave, Path(args.responses) if args.responses else None)
    protect(build)   # as in the report: numbers on too few answers are withheld here too
    write_folder(out, "lpj figures", {
        "figures.json": figures_json(build.figures, project.figures, build_meta(build)),
        "figures.csv": figures_csv(build.figures, project.figures, project.codebook)})
    print(f"wrote {shown(out / 'figures.json')} and {shown(out / 'figures.csv')}")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    if args.kommune:
        from lpj_report.editions import build_edition

        return build_edition(args)
    if args.manifest:
        print(f"error: --manifest {args.manifest!r} chooses what a municipality's edition "
              "carries; give --kommune too (the annual report has every chapter)",
              file=sys.stderr)
        return 2
    from lpj_report.build import build_report

    return build_report(args)


def cmd_editions(args: argparse.Namespace) -> int:
    from lpj_report.editions import build_all_editions

    return build_all_editions(args)


def cmd_diff(args: argparse.Namespace) -> int:
    from lpj_report.diff import run_diff

    return run_diff(args)


def cmd_preview(args: argparse.Namespace) -> int:
    from lpj_report.preview import run_preview

    return run_preview(args)


def cmd_validate(args: argparse.Namespace) -> int:
    from lpj_report.codebook import default_codebook
    from lpj_report.validate import validate_files

    return validate_files([Path(p) for p in args.files], default_codebook(), args.edit_rules)


def cmd_kommuner(args: argparse.Namespace) -> int:
    """``lpj kommuner``: every municipality of the codebook, key and name (codebook order)."""
    from lpj_report.codebook import default_codebook

    codes = default_codebook()["kommune"].codes
    width = max(len(c.key) for c in codes)
    for c in codes:
        print(f"{c.key:<{width}}  {c.label}")
    return 0


def cmd_completion(args: argparse.Namespace) -> int:
    from lpj_report.completion import script

    sys.stdout.write(script(args.shell, parser()))
    return 0


def parser() -> argparse.ArgumentParser:
    from lpj_report import __version__

    p = argparse.ArgumentParser(
        prog="lpj", description="lpj-report: 'Læring på jobbet' figures and report from "
        "respondent data.", epilog="Run 'lpj COMMAND --help' for a command's options. "
        "Messages are English; the report is Danish.")
    p.add_argument("--version", action="version", version=f"lpj {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    wave = {"type": wave_value, "default": "2002",
            "help": "survey wave: the year of a folder in data/waves (default 2002)"}
    low = {"action": "store_true",
           "help": "allow --min-base below the floor of data/disclosure.yaml; said on stderr "
                   "and in every output"}

    g = sub.add_parser("generate", help="rebuild a reconstructed wave's responses")
    g.add_argument("--wave", **wave)
    g.add_argument("--seed", type=int, help="random seed (default: the wave's, else 2002)")
    g.add_argument("--out", help="write the responses here instead of the wave folder")
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.set_defaults(func=cmd_generate)

    v = sub.add_parser("verify", help="published numbers beside computed values")
    v.add_argument("--wave", **wave)
    v.add_argument("--responses", help="use this data file instead of the wave's")
    v.add_argument("--all", action="store_true", help="list every target, not only mismatches")
    v.add_argument("--out", help="also write the comparison as CSV here")
    v.set_defaults(func=cmd_verify)

    f = sub.add_parser("figures", help="write figures.json and figures.csv (disclosure control "
                                       "as in the report)")
    f.add_argument("--wave", **wave)
    f.add_argument("--responses", help="use this data file instead of the wave's")
    f.add_argument("--out", required=True, help="output folder")
    f.set_defaults(func=cmd_figures)

    b = sub.add_parser("build", help="build the report (HTML, PDF, DOCX, figures)")
    b.add_argument("--wave", **wave)
    b.add_argument("--responses", help="use this data file instead of the wave's")
    b.add_argument("--out", help="output folder (default report/<year>)")
    b.add_argument("--kommune", type=kommune_value, help="build one municipality's edition")
    b.add_argument("--manifest", help=MANIFEST_HELP)
    b.add_argument("--formats", default="html,pdf,docx", help="comma-separated (default all)")
    b.add_argument("--min-base", type=min_base_value, help="hide numbers with fewer "
                   "respondents (default and floor: data/disclosure.yaml, 5)")
    b.add_argument("--allow-low-min-base", **low)
    b.add_argument("--cache-dir", help="keep reusable results here (default $LPJ_CACHE_DIR, "
                   "else .cache)")
    b.add_argument("--no-cache", action="store_true", help="build without the cache")
    b.set_defaults(func=cmd_build)

    e = sub.add_parser("editions", help="build every municipality's edition, in parallel")
    e.add_argument("--wave", **wave)
    e.add_argument("--responses", help="use this data file instead of the wave's")
    e.add_argument("--out", help="wave report folder (default report/<year>); editions go "
                   "into <out>/kommuner/<name>")
    e.add_argument("--formats", default="html,pdf,docx", help="comma-separated (default all)")
    e.add_argument("--jobs", type=int, help="parallel workers (default: the machine's cores)")
    e.add_argument("--kommune", action="append", type=kommune_value,
                   help="only these (repeatable)")
    e.add_argument("--manifest", help=MANIFEST_HELP)
    e.add_argument("--min-base", type=min_base_value, help="hide numbers with fewer respondents")
    e.add_argument("--allow-low-min-base", **low)
    e.add_argument("--cache-dir", help="keep reusable results here (default $LPJ_CACHE_DIR, "
                   "else .cache)")
    e.add_argument("--no-cache", action="store_true", help="build without the cache")
    e.add_argument("--shard", type=shard_value, metavar="I/N",
                   help="build only the I-th of N slices of the municipalities (codebook "
                        "order), for make -j, a Slurm array or a CI matrix; the suppression is "
                        "computed once and shared through .cache/suppression")
    e.set_defaults(func=cmd_editions)

    d = sub.add_parser("diff", help="compare two waves or two figures.json files")
    d.add_argument("old", help="survey year or path to figures.json")
    d.add_argument("new", help="survey year or path to figures.json")
    d.add_argument("--out", help="write diff.html and diff.csv here")
    d.add_argument("--alpha", type=alpha_value, default=0.05,
                   help="false discovery rate for the Benjamini-Hochberg correction, between "
                   "0 and 1 (default 0.05)")
    d.add_argument("--min-base", type=min_base_value, help="hide numbers with fewer respondents")
    d.add_argument("--allow-low-min-base", **low)
    d.add_argument("--all", action="store_true", help="list every figure in the terminal")
    d.set_defaults(func=cmd_diff)

    w = sub.add_parser("preview", help="serve the HTML on localhost, rebuilt on every save")
    w.add_argument("--wave", **wave)
    w.add_argument("--responses", help="use this data file instead of the wave's")
    w.add_argument("--kommune", type=kommune_value, help="preview one municipality's edition")
    w.add_argument("--manifest", help=MANIFEST_HELP)
    w.add_argument("--min-base", type=min_base_value, help="hide numbers with fewer respondents")
    w.add_argument("--chapters", help="read the chapter sources (*.md) from this folder "
                   "(default templates/chapters)")
    w.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    w.add_argument("--port", type=port_value, default=8000,
                   help="port (default 8000; 0: any free one)")
    w.set_defaults(func=cmd_preview)

    c = sub.add_parser("validate", help="check data files against the codebook")
    c.add_argument("files", nargs="+")
    c.add_argument("--edit-rules", choices=("error", "warning"),
                   help="severity of every edit rule (default: as in data/codebook/rules.yaml)")
    c.set_defaults(func=cmd_validate)

    k = sub.add_parser("kommuner", help="list the municipalities' keys and names (--kommune)")
    k.set_defaults(func=cmd_kommuner)

    s = sub.add_parser("completion", help="print a shell completion script",
                       description="Print a completion script for the shell. bash: "
                       "source <(lpj completion bash); zsh: lpj completion zsh > "
                       "\"${fpath[1]}/_lpj\"")
    s.add_argument("shell", choices=("bash", "zsh"))
    s.set_defaults(func=cmd_completion)
    return p


def _unknown_command(argv: list[str], p: argparse.ArgumentParser) -> str | None:
    """The error for a first word that is not a command, with the closest one suggested."""
    from lpj_report.terminal import suggestion

    if not argv or argv[0].startswith("-"):
        return None
    commands = next(a.choices for a in p._actions
                    if isinstance(a, argparse._SubParsersAction))
    if argv[0] in commands:
        return None
    return (f"error: unknown command {argv[0]!r}{suggestion(argv[0], commands)}; "
            f"commands: {', '.join(commands)} (lpj --help)")


def _checked(func, args: argparse.Namespace) -> int:
    """Run a command; a project-file error becomes a one-line message and exit code 2."""
    from lpj_report.cli_errors import InputError
    from lpj_report.codebook import CodebookError
    from lpj_report.figures import FigureError
    from lpj_report.targets import TargetError
    from lpj_report.wave import WaveError

    try:
        check_disclosure(args)
        return func(args)
    except (CodebookError, FigureError, InputError, TargetError, WaveError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    p = parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    unknown = _unknown_command(argv, p)
    if unknown:
        print(unknown, file=sys.stderr)
        return 2
    args = p.parse_args(argv)
    if args.command is None:    # bare `lpj`: what it can do
        p.print_help()
        return 0
    with stopped_by_signals():
        try:
            return run_guarded(_checked, args.func, args)
        except Interrupted as stop:
            print(f"lpj {args.command}: stopped by {stop.name}; its temporary files were "
                  "removed, nothing was written", file=sys.stderr)
            return 128 + stop.signum


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived: raised where the command is, so that every ``finally``
    removes its temporary files (lpj_report.folders) before lpj exits."""

    def __init__(self, signum: int):
        import signal

        super().__init__(signum)
        self.signum, self.name = signum, signal.Signals(signum).name


@contextlib.contextmanager
def stopped_by_signals():
    """SIGINT and SIGTERM raise :class:`Interrupted` while the command runs (main thread
    only; the previous handlers are restored after)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, _frame):
        raise Interrupted(signum)

    before = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


if __name__ == "__main__":
    sys.exit(main())
