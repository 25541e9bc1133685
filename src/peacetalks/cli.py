"""The ``peacetalks`` command: ingest, validate, build, rules.

Exit codes, as ruff and mypy use them: 0 clean, 1 problems found (or the job
failed on its input), 2 usage error; ``links --online`` exits 3 when Wikidata cannot
be reached (nothing was decided).
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import textwrap
from pathlib import Path

from . import __version__
from .defaults import PARALLEL_FROM
from .diagnostics.problems import errors, render
from .diagnostics.rules import LEVELS, RULES
from .model.labels import Labels
from .reading.files import (
    OutputError,
    atomic_write,
    dump_json,
    gc_tuned,
    read_json_file,
    read_text_file,
)
from .reading.project import Project, ProjectError


class UsageError(Exception):
    """A command cannot run as asked (exit 2, one clear line, nothing touched)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # exit 2 on usage errors, as argparse does, with our prefix
        self.print_usage(sys.stderr)
        print(f"peacetalks: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def _project(args, writes: str | None = None) -> Project:
    """The corpus this command works on, said in one line on stderr.

    ``writes`` names what the command would change in the corpus: an embedded (installed,
    read-only) corpus refuses it.
    """
    try:
        project = Project.find(args.root)
    except ProjectError as e:
        raise UsageError(str(e)) from None
    print(f"peacetalks: {project.describe()}", file=sys.stderr)
    if writes and project.embedded:
        raise UsageError(f"{writes} changes the corpus, and the corpus embedded in the installed package is "
                         "read-only. Work in a checkout: git clone the peacetalks repository, "
                         "`pip install -e .` inside it, and run the command there (see CONTRIBUTING.md).")
    return project


def _existing(paths: list[str]) -> None:
    """Paths given on the command line must exist: a typo must not pass as 'no problems'."""
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise UsageError(f"no such file or folder: {', '.join(missing)}")


def cmd_ingest(args) -> int:
    from .reading.ingest import IngestError, add_seed, check_drift, ingest
    project = _project(args, writes=None if args.check else "`peacetalks ingest`")
    if args.add:
        stated = {k: getattr(args, k) for k in ("title", "date", "outlet", "author", "url")}
        try:
            written = add_seed(project, Path(args.add), args.id, stated)
        except IngestError as e:
            print(e.problem.render(), file=sys.stderr)
            return 1
        doc = project.documents / f"{args.id or Path(args.add).name.removesuffix('.txt')}.json"
        print("added:" + "".join(f"\n  {w}" for w in written))
        print(f"next: annotate {project.rel(doc)} (see annotations/GUIDELINES.md), then "
              "`peacetalks fmt` and `peacetalks validate`")
        return 0
    if args.check:
        problems = check_drift(project)
        for p in problems:
            print(p.render())
        print("corpus/ is up to date with seeds/." if not problems else f"{len(problems)} corpus file(s) drift from seeds/.")
        return 1 if problems else 0
    written, problems = ingest(project)
    for p in problems:
        print(p.render(), file=sys.stderr)
    if problems:
        return 1
    print(f"ingested {len(list(project.seeds.glob('*.txt')))} seed(s) into {project.rel(project.corpus)}/: "
          f"{len(written)} file(s) written" + "".join(f"\n  {w}" for w in written))
    return 0


def cmd_validate(args) -> int:
    from .checks.runner import begin, default_jobs
    from .reading.cache import stat_folder
    _existing(args.paths)
    project = _project(args)
    stats = None
    if not args.no_cache and (args.jobs or default_jobs()) > 1:
        # the files' stats, which the cache compares, are taken on another core while the checks are imported
        stats = begin(stat_folder, (str(project.documents), str(project.corpus)))
    from .checks.validate import validate
    try:
        result = validate(project, args.paths or None, cache=not args.no_cache, jobs=args.jobs,
                          keep_tables=False, stats=stats)  # (only the problems are shown: the corpus is not held)
    finally:
        if stats is not None:
            stats.close()  # (its worker ends, whether the validation took its answer or not)
    out = render(result.problems, args.format)
    if out:
        print(out)
    return 1 if result.errors else 0


def cmd_export(args) -> int:
    import tempfile

    from .release.build import BuildError, build
    from .tools.export import ExportError, check_out, export
    try:
        check_out(Path(args.out))
        if args.release:
            out = export(args.format, Path(args.release), Path(args.out))
        else:  # the project as it is now: built to a temporary folder (refused on errors), then exported
            project = _project(args)
            with tempfile.TemporaryDirectory(prefix="peacetalks-export-") as tmp:
                release = build(project, Path(tmp) / "release", cache=not args.no_cache)
                out = export(args.format, release.path, Path(args.out))
    except (BuildError, ExportError) as e:
        print(str(e), file=sys.stderr)
        return 1
    print(f"peacetalks export {args.format}: written to {out}")
    return 0


def cmd_score(args) -> int:
    from .tools.score import TASKS, ScoreError, render, score
    try:
        results = score(Path(args.gold), Path(args.pred), tuple(args.task or TASKS))
    except ScoreError as e:
        print(f"peacetalks score: {e}", file=sys.stderr)
        return 1
    print(render(results, args.format))
    return 0


def cmd_import(args) -> int:
    from .tools.importer import ImportRefused, import_document
    project = _project(args, writes="`peacetalks import`")
    try:
        result = import_document(project, args.format, Path(args.path), args.document, force=args.force)
    except ImportRefused as e:
        print(f"peacetalks import: {e}", file=sys.stderr)
        return 1
    shown = project.rel(result.path)
    if result.problems:
        print(render(result.problems))
    if errors(result.problems):
        print(f"peacetalks import: {len(errors(result.problems))} problem(s); nothing was written", file=sys.stderr)
        return 1
    if result.diff:
        print(f"{shown}: {len(result.diff)} change(s)")
        print("\n".join("  " + line for line in result.diff))
    if result.refused:
        print(f"peacetalks import: {shown} exists and would change; nothing was written. Look at the changes "
              "above, then run the command again with --force to write them", file=sys.stderr)
        return 1
    if result.written:
        print("written: " + ", ".join(project.rel(p) for p in result.written) + "; now run `peacetalks check`")
    else:
        print(f"{shown}: unchanged")
    return 0


def cmd_agreement(args) -> int:
    from .tools.agreement import AgreementError, agreement, recorded
    from .tools.agreement import render as render_agreement
    project = _project(args, writes="`peacetalks agreement --record`" if args.record else None)
    try:
        result = agreement(args.a, args.b, project.root)
    except AgreementError as e:
        print(f"peacetalks agreement: {e}", file=sys.stderr)
        return 1
    print(render_agreement(result, args.format))
    if args.record:
        if not result["document_ids"]:
            print("peacetalks agreement: no document is annotated in both; nothing recorded", file=sys.stderr)
            return 1
        atomic_write(project.agreement, dump_json(recorded(result, args.a, args.b, project.root)))
        print(f"recorded in {project.rel(project.agreement)}: the dataset card reports it", file=sys.stderr)
    return 0


def cmd_build(args) -> int:
    from .release.build import BuildError, build
    from .tools.view import add_site
    project = _project(args)
    try:
        release = build(project, Path(args.out) if args.out else None, force=args.force, cache=not args.no_cache,
                        extra=add_site if args.site else None, jobs=args.jobs)
    except BuildError as e:
        print(str(e), file=sys.stderr)
        return 1
    print(release.summary())
    return 0


def cmd_fmt(args) -> int:
    from .tools.fmt import fmt
    _existing(args.paths)
    results = fmt(_project(args, writes=None if args.check else "`peacetalks fmt`"), args.paths or None,
                  check=args.check)
    changed = [r for r in results if r.changed]
    problems = [p for r in results for p in r.problems]
    for r in changed:
        print(f"would reformat {r.shown}" if args.check else f"reformatted {r.shown}")
        if args.check and not args.quiet:
            print(r.diff(), end="")
    for p in problems:
        print(p.render(), file=sys.stderr)
    verb = "would be reformatted" if args.check else "reformatted"
    print(f"{len(changed)} file{'s' * (len(changed) != 1)} {verb}, "
          f"{len(results) - len(changed)} left unchanged" + (f", {len(problems)} problem(s)" if problems else "") + ".")
    return 1 if problems or (args.check and changed) else 0


def cmd_locate(args) -> int:
    from .tools.fmt import occurrences
    project = _project(args)
    path = project.corpus / f"{args.document}.txt"
    if "/" in args.document or not path.exists():
        print(f"peacetalks: error: no document {args.document!r} in {project.rel(project.corpus)}/", file=sys.stderr)
        return 2
    text, problems = read_text_file(path, project.rel(path))
    if text is None:
        print(render(problems), file=sys.stderr)
        return 1
    text = text.removesuffix("\n")
    found = occurrences(text, args.text)
    if not found:
        print(f"{args.text!r} does not occur in {args.document}", file=sys.stderr)
        return 1
    for n, (start, line, col, context) in enumerate(found if args.all else found[:1], 1):
        print(f"{project.rel(path)}:{line}:{col}: [{start}, {start + len(args.text)}) occurrence {n}: {context}")
    if not args.all and len(found) > 1:
        print(f"({len(found) - 1} more; --all lists them; in annotations, give \"occurrence\": N)")
    return 0


def cmd_verify(args) -> int:
    from .release.versions import verify
    problems = verify(Path(args.folder))
    if problems:
        print(render(problems))
        return 1
    print(f"{args.folder}: every file matches manifest.json")
    return 0


def cmd_diff(args) -> int:
    from .release.versions import ReleaseError, diff, markdown, snapshot, to_json
    project = _project(args)
    try:
        d = diff(snapshot(args.old, project.root), snapshot(args.new, project.root))
    except ReleaseError as e:
        print(f"peacetalks diff: {e}", file=sys.stderr)
        return 2
    print(to_json(d) if args.format == "json" else markdown(d))
    return 0


def cmd_release(args) -> int:
    from .release.build import BuildError
    from .release.versions import ReleaseError, plan, release
    project = _project(args, writes=None if args.dry_run else "`peacetalks release`")
    try:
        if args.dry_run:
            cut = plan(project, args.version, args.previous, args.date)
            print(f"would release {cut.version}" + (f" ({cut.bump} change from {cut.previous})" if cut.previous else "")
                  + "; CHANGELOG.md entry:\n\n" + cut.entry)
            return 0
        if args.version is None:
            raise UsageError("give the VERSION to release (`peacetalks release --dry-run` says which the change requires)")
        cut, changelog, built, recorded = release(project, args.version, args.previous, args.date)
    except (ReleaseError, BuildError) as e:
        print(f"peacetalks release: {e}", file=sys.stderr)
        return 1
    print(f"{project.rel(recorded)}: {cut.version} recorded in the release ledger (commit it)")
    print(f"{project.rel(changelog)}: entry for {cut.version} written; version set in src/peacetalks/__init__.py")
    print(built.summary())
    return 0


def cmd_publish(args) -> int:
    from .release.versions import ReleaseError, publish
    try:
        lines = publish(Path(args.folder), args.repo_id, dry_run=args.dry_run)
    except ReleaseError as e:
        print(f"peacetalks publish: {e}", file=sys.stderr)
        return 1
    print(("dry run: would upload\n" if args.dry_run else "") + "\n".join(lines))
    return 0


def cmd_check(args) -> int:
    """Every pull-request check in one command, as CI runs it (the tests are run by pytest)."""
    import tempfile

    from .checks.validate import validate
    from .reading.ingest import check_drift
    from .release.build import BuildError, build
    from .release.versions import verify
    from .tools.fmt import fmt
    project = _project(args)
    failed = []

    def step(name: str, ok: bool, detail: str = "") -> None:
        print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"\n{detail}" if detail and (not ok or args.verbose) else ""))
        if not ok:
            failed.append(name)

    drift = check_drift(project)
    step("corpus/ regenerates from seeds/ (peacetalks ingest --check)", not drift, render(drift, args.format))
    formatted = fmt(project, check=True)
    unformatted = [r for r in formatted if r.changed or r.problems]
    step("files are canonical (peacetalks fmt --check)", not unformatted,
         "\n".join((f"would reformat {r.shown}\n{r.diff()}" if r.changed else "")
                   + "\n".join(p.render() for p in r.problems) for r in unformatted))
    result = validate(project, cache=not args.no_cache, jobs=args.jobs, keep_tables=False)
    step("annotations validate (peacetalks validate)", result.ok and not result.problems,
         render(result.problems, args.format))
    if result.ok:
        with tempfile.TemporaryDirectory(prefix="peacetalks-check-") as tmp:
            try:
                release = build(project, Path(tmp) / "release", cache=not args.no_cache, jobs=args.jobs)
                problems = verify(release.path)
                step("the release builds and verifies (peacetalks build, verify)", not problems, render(problems))
                _check_ledger(project, release, step)
            except BuildError as e:
                step("the release builds (peacetalks build)", False, str(e))
    print("all checks passed" if not failed else f"{len(failed)} check(s) failed")
    return 1 if failed else 0


def _check_ledger(project: Project, release, step) -> None:
    """The built data against the release ledger: a released version's data must be what it recorded;
    other content is reported as unreleased (not a failure: a pull request adds it)."""
    from .release.ledger import LedgerError, compare, entries, latest
    try:
        recorded = entries(project).get(release.version)
        last = latest(project)
    except LedgerError as e:
        step("the release ledger reads (annotations/releases/)", False, str(e))
        return
    if recorded is not None:
        changed = compare(recorded, release.path)
        step(f"the data is what release {recorded.version} recorded ({project.rel(recorded.path)})", not changed,
             "the code now builds other data from the same sources; release it as a new version:\n"
             + "\n".join(changed))
    elif last is not None:
        print(f"note content changed since release {last.version}: this is {release.version}, "
              f"unreleased (`peacetalks diff {last.version} .` shows the change)")


def cmd_view(args) -> int:
    from .checks.validate import validate
    from .tools.view import write_site
    project = _project(args)
    result = validate(project, cache=not args.no_cache)
    if result.errors:
        print(render(result.errors), file=sys.stderr)
        print("peacetalks view: fix the errors first.", file=sys.stderr)
        return 1
    index = write_site(result, Path(args.out) if args.out else project.workdir / "site")
    print(f"site written: {index}\nopen it in a browser (file://{index.resolve()})")
    return 0


def cmd_stats(args) -> int:
    from .checks.validate import validate
    from .release.stats import compute
    from .release.stats import render as render_stats
    result = validate(_project(args))
    if result.errors:
        print(render(result.errors), file=sys.stderr)
        print("peacetalks stats: fix the errors first; counts over invalid annotations would mislead.", file=sys.stderr)
        return 1
    print(render_stats(compute(result, top=args.top), args.format))
    return 0


def cmd_links(args) -> int:
    import json

    import polars as pl

    from .checks.validate import validate
    from .release.stats import coverage, name_counts
    from .tools import links
    if (args.record or args.review) and not args.online:
        raise UsageError("--record and --review need --online (they write what the online check found)")
    if args.accept and args.online:
        raise UsageError("--accept applies a review file offline; run it without --online")
    project = _project(args, writes="links --record" if args.record else "links --accept" if args.accept else None)
    if args.accept:
        try:
            applied = links.accept(project, Path(args.accept), links.today())
        except links.ReviewError as e:
            print(str(e), file=sys.stderr)
            return 1
        print("\n".join(f"linked {a}" for a in applied) or "no candidate accepted; nothing written")
        return 0
    if args.review and Path(args.review).exists() and not _is_review(Path(args.review)):
        raise UsageError(f"{args.review} exists and is not a review file that links wrote; choose another name")
    result = validate(project, cache=not args.no_cache)
    if result.errors:
        print(render(result.errors), file=sys.stderr)
        print("peacetalks links: fix the errors first.", file=sys.stderr)
        return 1
    cover = coverage(pl.from_arrow(result.tables.entities), name_counts(pl.from_arrow(result.tables.mentions)))
    if not args.online:
        print(json.dumps({"coverage": cover}, indent=2) if args.format == "json" else links.render_coverage(cover))
        return 0
    client = links.Client()
    try:
        registry = links.load_registry(project)
        outcome = links.check_online(project, registry, result.labels, client, links.today(),
                                     cover["unlinked"] if args.review else None)
    except links.NetworkError as e:
        print(f"peacetalks links: cannot reach Wikidata: {e}\nnothing was checked or written; try again later "
              "(exit 3: the links were not found wrong)", file=sys.stderr)
        return 3
    finally:
        client.close()
    if args.format == "json":
        print(json.dumps({"coverage": cover, "checked": outcome.checked, "right": len(outcome.passed),
                          "problems": [p.to_dict() for p in outcome.problems]}, indent=2))
    else:
        if outcome.problems:
            print(render(outcome.problems))
        print(f"{outcome.checked} Wikidata links checked: {len(outcome.passed)} right, {len(outcome.failed)} wrong.")
    if args.record:
        changed = links.record(project, outcome)
        print(f"recorded the check of {changed} entit{'y' if changed == 1 else 'ies'} in "
              f"{project.rel(project.entities)}", file=sys.stderr)
    if args.review:
        atomic_write(Path(args.review), json.dumps({"date": links.today(), "help": links.REVIEW_HELP,
                                                    "candidates": outcome.candidates}, indent=2,
                                                   ensure_ascii=False).encode("utf-8") + b"\n")
        print(f"{len(outcome.candidates)} unlinked entities with candidates in {args.review}; {links.REVIEW_HELP}",
              file=sys.stderr)
    return 1 if outcome.problems else 0


def _is_review(path: Path) -> bool:
    value, problems = read_json_file(path, str(path))
    return not problems and isinstance(value, dict) and isinstance(value.get("candidates"), list) and "help" in value


def cmd_rules(args) -> int:
    if not args.code:
        for rule in RULES.values():
            print(f"{rule.code}  {rule.severity:<7}  {rule.name:<26} {rule.summary}")
        return 0
    rule = RULES.get(args.code.upper())
    if rule is None:
        print(f"peacetalks: error: no rule {args.code!r}; `peacetalks rules` lists them", file=sys.stderr)
        return 2
    level, level_name = LEVELS[rule.code[0]]
    wrap = lambda s: textwrap.fill(s, 88)  # noqa: E731
    print(f"{rule.code} ({rule.name}): {rule.summary}\n")
    print(f"Severity: {rule.severity}" + (f"; level {level} ({level_name})" if level else "") + "\n")
    print(wrap(rule.explanation) + "\n")
    print("Bad:\n    " + rule.bad + "\n")
    print("Fixed:\n    " + rule.good)
    if rule.code in ("R004", "R005"):  # the inventory these rules check, from schema/labels.json
        labels = Labels(_project(args).schema / "labels.json")
        print("\nRoles of each event type (and the mention types each role takes):")
        for event_type, roles in labels.event_roles.items():
            print(f"    {event_type}: " + "; ".join(f"{role} ({', '.join(types)})" for role, types in roles.items()))
    return 0


def _jobs(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1 or more), got {value!r}")
    return n


def _add_jobs(s) -> None:
    s.add_argument("--jobs", "-j", type=_jobs, metavar="N",
                   help="processes for the per-document checks (default: every core for a corpus of "
                        f"{PARALLEL_FROM} documents or more, else 1)")


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="peacetalks", description="The peacetalks annotated news corpus: validate, build and release it.")
    p.add_argument("--version", action="version", version=f"peacetalks {__version__}")
    p.add_argument("--root", help="the corpus checkout to work on (default: the one around the current directory)")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

    s = sub.add_parser("ingest", help="normalise seeds/ into corpus/ (deterministic)")
    s.add_argument("--check", action="store_true", help="only report drift between corpus/ and seeds/; exit 1 on drift")
    s.add_argument("--add", metavar="FILE", help="add a raw article as a new seed (kept byte for byte) and ingest it")
    s.add_argument("--id", help="with --add: the document id (default: the file name without .txt)")
    for field in ("title", "date", "outlet", "author", "url"):
        s.add_argument(f"--{field}", help=f"with --add: the {field} the source states (kept in seeds/<id>.meta.json)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("validate", help="check every file in levels and report every problem")
    s.add_argument("paths", nargs="*", help="report only problems in these files or folders (the whole corpus is checked)")
    s.add_argument("--no-cache", action="store_true",
                   help="re-check every document at levels 1-3 (by default unchanged ones are taken from .peacetalks-cache/)")
    _add_jobs(s)
    s.add_argument("--format", choices=("text", "json", "github"), default="text",
                   help="text: path:line:col: CODE message; json; github: GitHub Actions annotations")
    s.set_defaults(func=cmd_validate)

    s = sub.add_parser("build", help="validate, then write the versioned release (Parquet, card, manifest, Croissant)")
    s.add_argument("--out", help="the release folder (default: release/<version>)")
    s.add_argument("--force", action="store_true", help="replace an existing release of this version even if it differs")
    s.add_argument("--no-cache", action="store_true", help="do not use the validation cache")
    _add_jobs(s)
    s.add_argument("--site", action="store_true", help="include the static viewer (peacetalks view) as site/")
    s.set_defaults(func=cmd_build)

    s = sub.add_parser("fmt", help="format annotation and registry files canonically; fill in span offsets from text")
    s.add_argument("paths", nargs="*", help="only these files or folders (default: every hand-curated file)")
    s.add_argument("--check", action="store_true", help="write nothing; list files that would change, with a diff; exit 1 if any")
    s.add_argument("--quiet", action="store_true", help="with --check, no diff")
    s.set_defaults(func=cmd_fmt)

    s = sub.add_parser("locate", help="offsets and context of a string in a document")
    s.add_argument("document", help="a document id, e.g. 003_b7bcec48b37e17cc")
    s.add_argument("text", help="the exact text to find")
    s.add_argument("--all", action="store_true", help="every occurrence, not just the first")
    s.set_defaults(func=cmd_locate)

    s = sub.add_parser("check", help="run every pull-request check: drift, fmt --check, validate, build and verify")
    s.add_argument("--format", choices=("text", "github"), default="text", help="how validation problems are printed")
    s.add_argument("--no-cache", action="store_true", help="do not use the validation cache")
    _add_jobs(s)
    s.add_argument("--verbose", action="store_true", help="print details of passing steps too")
    s.set_defaults(func=cmd_check)

    s = sub.add_parser("export", help="write a release in another tool's format (conll: CoNLL-2003 tokens and BIO "
                                      "tags; spacy: a DocBin with entities, every mention and sentences; brat: standoff with its configuration; "
                                      "label-studio: tasks with predictions and a labeling config; inception: UIMA CAS XMI)")
    s.add_argument("format", choices=("conll", "spacy", "brat", "label-studio", "inception"), help="the format to write")
    s.add_argument("--out", required=True, help="the folder to write (new, empty, or an earlier export)")
    s.add_argument("--release", help="a release folder (default: build the project as it is now)")
    s.add_argument("--no-cache", action="store_true", help="do not use the validation cache when building")
    s.set_defaults(func=cmd_export)

    s = sub.add_parser("import", help="write a document's annotation file from a tool's export (brat standoff, "
                                      "Label Studio JSON, INCEpTION UIMA CAS XMI), showing what changes")
    s.add_argument("format", choices=("brat", "label-studio", "inception"), help="the tool's format")
    s.add_argument("path", help="the tool's file (.ann, Label Studio's .json, .xmi) or the folder holding it")
    s.add_argument("--document", required=True, help="the document's id")
    s.add_argument("--force", action="store_true", help="overwrite the annotation file when it would change")
    s.set_defaults(func=cmd_import)

    s = sub.add_parser("score", help="score a system's release (PRED) against a gold release: ner, mentions, "
                                     "linking, events, quotes, coref")
    s.add_argument("gold", help="the gold release folder, or a project folder (built first)")
    s.add_argument("pred", help="the predicted release folder (the same configs), or a project folder whose "
                                "annotations/documents hold the predictions (built first)")
    s.add_argument("--task", action="append", choices=("ner", "mentions", "linking", "events", "quotes", "coref"),
                   help="a task to score (repeat it; default: every task)")
    s.add_argument("--format", choices=("text", "json", "markdown"), default="text")
    s.set_defaults(func=cmd_score)

    s = sub.add_parser("agreement", help="inter-annotator agreement of two annotations of the same documents")
    s.add_argument("a", help="a project folder or a git revision (the first annotator's)")
    s.add_argument("b", help="a project folder or a git revision (the second annotator's)")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument("--record", action="store_true",
                   help="keep the figures in annotations/agreement.json, which the dataset card reports")
    s.set_defaults(func=cmd_agreement)

    s = sub.add_parser("verify", help="check a release folder against its manifest.json")
    s.add_argument("folder")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("diff", help="semantic changelog between two releases, project folders or git revisions")
    s.add_argument("old", help="a released version (e.g. 0.1.0), a release folder, a project folder or a git revision (e.g. HEAD~3)")
    s.add_argument("new", help="the same kinds; '.' for the working tree")
    s.add_argument("--format", choices=("markdown", "json"), default="markdown")
    s.set_defaults(func=cmd_diff)

    s = sub.add_parser("release", help="check the version against the change, write CHANGELOG.md, build")
    s.add_argument("version", nargs="?",
                   help="MAJOR.MINOR.PATCH (with --dry-run it may be left out: the version the change requires)")
    s.add_argument("--previous", help="the release to compare with (default: the last version in annotations/releases/)")
    s.add_argument("--date", help="the date for the CHANGELOG entry (default: today)")
    s.add_argument("--dry-run", action="store_true", help="only check the version and print the CHANGELOG entry")
    s.set_defaults(func=cmd_release)

    s = sub.add_parser("publish", help="upload a verified release to the Hugging Face Hub, tagged with its version")
    s.add_argument("folder")
    s.add_argument("--repo-id", required=True, help="ORG/NAME of the dataset repository")
    s.add_argument("--dry-run", action="store_true", help="print exactly what would be uploaded, upload nothing")
    s.set_defaults(func=cmd_publish)

    s = sub.add_parser("view", help="write a static HTML site to look at the corpus and its layers")
    s.add_argument("--out", help="the site folder (default: site/)")
    s.add_argument("--no-cache", action="store_true", help="do not use the validation cache")
    s.set_defaults(func=cmd_view)

    s = sub.add_parser("stats", help="counts per document, layer and label; entities by mentions and documents")
    s.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    s.add_argument("--top", type=int, default=15, help="how many entities to list by number of mentions")
    s.set_defaults(func=cmd_stats)

    s = sub.add_parser("links", help="Wikidata links: coverage (offline); --online checks every link against Wikidata")
    s.add_argument("--online", action="store_true", help="check every link against Wikidata (needs the network)")
    s.add_argument("--record", action="store_true",
                   help="with --online: write each link's check into annotations/entities.json (wikidata_checked)")
    s.add_argument("--review", metavar="FILE", help="with --online: write candidates for named entities without a "
                   "Wikidata id to FILE, for a maintainer to accept or reject")
    s.add_argument("--accept", metavar="FILE", help="link the candidates accepted in a review file")
    s.add_argument("--format", choices=("text", "json"), default="text")
    s.add_argument("--no-cache", action="store_true", help="validate without the cache")
    s.set_defaults(func=cmd_links)

    s = sub.add_parser("rules", help="list the problem codes, or explain one")
    s.add_argument("code", nargs="?", help="a code such as T002")
    s.set_defaults(func=cmd_rules)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with gc_tuned():  # (the command's imports too: see reading/files.py)
            return args.func(args)
    except (UsageError, OutputError) as e:
        print(f"peacetalks {args.command}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


def run() -> None:
    """The ``peacetalks`` command: ``main``, then the process ends at once, as mypy's does (its
    ``hard_exit``): the interpreter's exit would free every object of the corpus one by one, ~0.25 s of
    a one-document re-check at 50,000 documents (2.08 -> 1.82 s, medians of 5). Everything is written
    by then (files are closed, temporary folders and worker pools are gone with their ``with``
    blocks); only the output streams are flushed here. ``main`` is for callers in a process of
    their own (the tests), which it leaves as it was. A path that is not UTF-8 is printed with its bytes
    escaped, on stdout as Python does on stderr, rather than failing."""
    if isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout.reconfigure(errors="backslashreplace")
    code = main()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # (a closed pipe: nothing more can be said there)
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
