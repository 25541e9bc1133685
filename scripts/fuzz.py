"""Coverage-guided fuzzing (atheris) of every file kind the corpus reads.

    python scripts/fuzz.py --seconds 10            # every kind, 10 s each, one process per kind
    python scripts/fuzz.py --kind entities --seconds 60

Each target copies the checkout once, then writes libFuzzer's input in place of one file
and runs validation (levels 1-5 and the warnings) and `fmt --check` in-process: any
exception is a crash, which atheris reports with the input that caused it (saved as
$TMPDIR/peacetalks-fuzz-crashes/<kind>-crash-*). The seed input of each kind is the real file. Exits non-zero on a crash.
The same kinds are fuzzed by hypothesis in tests/test_fuzz.py (whole commands, files
written); this is the coverage-guided complement, run by .ci/run with a fixed budget.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = "003_b7bcec48b37e17cc"
KINDS = {
    "annotations": f"annotations/documents/{DOC}.json",
    "entities": "annotations/entities.json",
    "xdoc-events": "annotations/xdoc-events.json",
    "allow": "annotations/allow.json",
    "layers": "annotations/layers.json",
    "corpus-metadata": f"corpus/{DOC}.json",
    "corpus-text": f"corpus/{DOC}.txt",
    "seed": f"seeds/{DOC}.txt",
    "seed-checksums": "seeds/SHA256SUMS",
}


def fuzz_one(kind: str, seconds: int, work: Path) -> int:
    import atheris

    with atheris.instrument_imports(include=["peacetalks"]):
        from peacetalks.checks.validate import validate
        from peacetalks.reading.project import Project
        from peacetalks.tools.fmt import fmt

    project = Project(work / "project")
    for name in ("seeds", "corpus", "annotations", "schema"):
        shutil.copytree(ROOT / name, project.root / name)
    target = project.root / KINDS[kind]
    seeds = work / "seeds"
    seeds.mkdir()
    (seeds / "real").write_bytes(target.read_bytes())

    def one_input(data: bytes) -> None:
        target.write_bytes(data)
        validate(project)
        fmt(project, check=True)

    crashes = Path(tempfile.gettempdir()) / "peacetalks-fuzz-crashes"
    crashes.mkdir(exist_ok=True)
    atheris.Setup([sys.argv[0], f"-max_total_time={seconds}", "-rss_limit_mb=4096",
                   f"-artifact_prefix={crashes}/{kind}-", str(seeds)], one_input)
    atheris.Fuzz()
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--kind", choices=sorted(KINDS), help="one file kind (default: every kind, one process each)")
    p.add_argument("--seconds", type=int, default=10, help="time budget per kind")
    p.add_argument("--work", help=argparse.SUPPRESS)  # (a kind's process works in this folder: see below)
    args = p.parse_args()
    if args.kind and args.work:
        return fuzz_one(args.kind, args.seconds, Path(args.work))
    # each kind runs in a process of its own, in a folder this process makes and removes: libFuzzer ends
    # the fuzzing process when its time is up without unwinding it, so that process cannot remove its own
    failed = []
    for kind in [args.kind] if args.kind else sorted(KINDS):
        print(f"fuzzing {kind} for {args.seconds} s", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"peacetalks-fuzz-{kind}-") as work:
            done = subprocess.run([sys.executable, __file__, "--kind", kind, "--seconds", str(args.seconds),
                                   "--work", work], capture_output=True, text=True)
        tail = [line for line in done.stderr.splitlines() if line.startswith(("#", "Done", "==", "INFO: -max"))][-2:]
        print("\n".join(f"  {line}" for line in tail))
        if done.returncode != 0:
            failed.append(kind)
            print(done.stderr[-4000:], file=sys.stderr)
    print("no crash" if not failed else f"crashes in: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
