"""Benchmark: validate + build against the floor, on a deterministic synthetic corpus.

    python scripts/bench.py [--sizes 1000 10000] [--keep DIR]

For each size it generates a corpus (documents of ~3,000 characters with ~60
annotations each, non-ASCII names included; seeded, so every run makes the same
files), then runs each step in a fresh process of its own, as a user runs the command, and
reports its time and that process's peak memory:

- floor: read and parse every file (orjson), and write the same tables the build wrote (every
  config, with the build's Parquet settings) to Parquet;
- validate: ``peacetalks.checks.validate.validate`` over the corpus, warnings included, as ``peacetalks
  validate`` runs it (the corpus's tables not kept: the corpus-level warnings read them back a shard at a time);
- build: ``peacetalks.release.build.build``, as users run it (``peacetalks build``): every check that can
  fail (levels 1-5; warnings are not computed, they cannot stop a build), then the release. This
  is the "validate + build" the target compares with the floor: a build validates first;
- load: ``datasets.load_dataset`` of the mentions config against ``pyarrow.parquet.read_table``;
- cached validate: the content-hash cache filled, one document changed, ``validate`` again in the
  same process; then another document changed and ``peacetalks validate`` run as a contributor runs
  it, in a fresh process (its imports and start included); each ``--repeat`` times, another
  document each time (medians, with their range). Where bytecode is not written
  (``PYTHONDONTWRITEBYTECODE``), every process compiles the package's modules from source, which an
  installed package does not: the fresh runs are then timed again with its bytecode kept in the
  bench's folder (``cli_bytecode_kept_s``);
- peak memory: ru_maxrss of the validate and the build process, and ``peak_total_mib``: the
  build's processes together (this one, the pool's fork server or the workers it forked, which
  check and tokenise shards of documents), their proportional set sizes summed every 20 ms, in
  one more build of its own: reading every process's page tables that often takes a core's worth
  of time (it made the 10,000-document build ~1.5 s slower on the 2-core machine), so the timed
  builds are not sampled.

The floor and the build are timed after a first validate has read every file, so the
operating system's file cache is warm for both; before every step the files written so far
are flushed to disk (``os.sync``), so that no step pays for writing back another's.

Figures are printed, not asserted: timing on shared machines is noisy, so validate, build
and floor run ``--repeat`` times (default 3) and the medians are printed, with the range of
the build/floor ratio.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing as mp
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

NAMES = ["Emmanuel Macron", "Volodymyr Zelenskyy", "Władysław Kosiniak-Kamysz", "Sergeï Lavrov", "Jürgen Hardt",
         "Keir Starmer", "Ursula von der Leyen", "Kaja Kallas", "Mette Frederiksen", "Petr Pavel"]
PLACES = ["Paris", "Kyiv", "Kraków", "Genève", "Zürich", "Moscow", "London", "Brussels", "Reykjavík", "Tallinn"]
FILLER = ("The talks continued late into the evening as officials weighed a proposed ceasefire, "
          "and diplomats said that further meetings were planned. ")


def generate(root: Path, n_docs: int, seed: int = 7) -> None:
    """A synthetic project: schema copied, corpus and annotations generated (no seeds, so no drift check)."""
    from peacetalks.model.layers import LAYERS
    from peacetalks.reading.files import dump_json, dump_records
    rng = random.Random(seed)
    shutil.copytree(ROOT / "schema", root / "schema")
    (root / "corpus").mkdir()
    (root / "annotations" / "documents").mkdir(parents=True)
    shutil.copy(ROOT / "annotations" / "layers.json", root / "annotations" / "layers.json")
    entities = [{"id": f"per-{i}", "name": n, "type": "PER", "wikidata": None, "aliases": []} for i, n in enumerate(NAMES)]
    entities += [{"id": f"gpe-{i}", "name": n, "type": "GPE", "wikidata": None, "aliases": []} for i, n in enumerate(PLACES)]
    (root / "annotations" / "entities.json").write_bytes(dump_records({"entities": entities}, ("entities",)))
    (root / "annotations" / "xdoc-events.json").write_bytes(dump_records(
        {"events": [{"id": "x-meet", "name": "A meeting", "description": "Synthetic.", "date": None}]}, ("events",)))
    for d in range(n_docs):
        doc_id = f"doc{d:06d}"
        parts, mentions, events, quotes = [], [], [], []
        pos = 0
        while pos < 2900:
            who = rng.randrange(len(NAMES))
            where = rng.randrange(len(PLACES))
            sentence = f"{NAMES[who]} met officials in {PLACES[where]} on Thursday. "
            base = pos
            m_who = {"id": f"m{len(mentions) + 1}", "start": base, "end": base + len(NAMES[who]), "text": NAMES[who],
                     "type": "PER", "level": "NAM", "entity": f"per-{who}"}
            p_start = base + sentence.index(" in ") + 4
            m_where = {"id": f"m{len(mentions) + 2}", "start": p_start, "end": p_start + len(PLACES[where]),
                       "text": PLACES[where], "type": "GPE", "level": "NAM", "entity": f"gpe-{where}"}
            t_start = base + sentence.index("Thursday")
            m_time = {"id": f"m{len(mentions) + 3}", "start": t_start, "end": t_start + 8, "text": "Thursday",
                      "type": "DATE", "value": "2025-04-17"}
            mentions += [m_who, m_where, m_time]
            trig = base + sentence.index("met")
            events.append({"id": f"e{len(events) + 1}", "trigger": {"start": trig, "end": trig + 3, "text": "met"},
                           "type": "Contact.Meet", "realis": "actual",
                           "arguments": [{"role": "Participant", "mention": m_who["id"]},
                                         {"role": "Place", "mention": m_where["id"]},
                                         {"role": "Time", "mention": m_time["id"]}], "xdoc": "x-meet"})
            parts.append(sentence)
            pos += len(sentence)
            if rng.random() < 0.35:
                quote = f"“We will meet again,” {NAMES[who]} said. "
                q_start = pos + 1
                sp = pos + quote.index(NAMES[who])
                mentions.append({"id": f"m{len(mentions) + 1}", "start": sp, "end": sp + len(NAMES[who]),
                                 "text": NAMES[who], "type": "PER", "level": "NAM", "entity": f"per-{who}"})
                cue = pos + quote.index(" said") + 1
                quotes.append({"id": f"q{len(quotes) + 1}", "kind": "direct",
                               "content": {"start": q_start, "end": q_start + 18, "text": "We will meet again"},
                               "cue": {"start": cue, "end": cue + 4, "text": "said"}, "speaker": mentions[-1]["id"]})
                parts.append(quote)
                pos += len(quote)
            parts.append(FILLER)
            pos += len(FILLER)
        text = "".join(parts).rstrip()
        # one paragraph per line: end the text cleanly, with no trailing space
        (root / "corpus" / f"{doc_id}.txt").write_text(text + "\n", "utf-8")
        (root / "corpus" / f"{doc_id}.json").write_bytes(dump_json({
            "id": doc_id, "title": None, "date": "2025-04-17", "outlet": None, "author": None, "url": None,
            "language": "en", "source": {"file": f"{doc_id}.txt", "sha256": f"{d:064x}", "normaliser": "1.0"}}))
        (root / "annotations" / "documents" / f"{doc_id}.json").write_bytes(dump_records(
            {"document": doc_id, "flags": [], "mentions": mentions, "events": events, "quotes": quotes},
            LAYERS))


def floor(root: Path, release: Path, out: Path) -> tuple[float, float]:
    """The least any build must do: read and parse every file, and write the release's tables to Parquet.

    Reading: every corpus text and record and every annotation file, parsed with orjson
    (garbage collector paused) and turned into Arrow. Writing: the very tables the build
    wrote (read back before the clock starts), with the build's Parquet settings.
    Returns (read and parse seconds, write seconds).
    """
    import orjson
    import pyarrow as pa
    import pyarrow.parquet as pq

    from peacetalks.model.layers import DOCUMENT
    from peacetalks.release.build import CONFIGS, parquet_path
    from peacetalks.release.parquet import write_parquet
    tables = {c: pq.read_table(release / parquet_path(c)) for c in CONFIGS}
    t0 = time.perf_counter()
    gc.disable()
    try:
        texts = [p.read_text("utf-8") for p in sorted((root / "corpus").glob("*.txt"))]
        metas = [orjson.loads(p.read_bytes()) for p in sorted((root / "corpus").glob("*.json"))]
        docs = [orjson.loads(p.read_bytes()) for p in sorted((root / "annotations" / "documents").glob("*.json"))]
        registries = [orjson.loads((root / "annotations" / f).read_bytes()) for f in ("entities.json", "xdoc-events.json")]
    finally:
        gc.enable()
    pa.array(docs, type=DOCUMENT)
    pa.table({"id": [m["id"] for m in metas], "text": texts})
    pa.array(registries[0]["entities"])
    read = time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    for config, table in tables.items():
        write_parquet(table, out / f"{config}.parquet")
    return read, time.perf_counter() - t0


def _peak() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux


def _pss_mib(pids: list[int]) -> float:
    """The proportional set size of these processes together: each page counted once, shared pages (a
    worker's imports, shared with the fork server it came from) split between their sharers."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("Pss:"))
        except (OSError, ValueError, IndexError, StopIteration):
            pass  # (it ended)
    return total / 1024


def _tree(root: int) -> list[int]:
    """This process and all its descendants (the pool's fork server and workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += children.get(pid, [])
    return out


class TreePeak:
    """The peak memory of this process and its descendants together (summed PSS, see ``_pss_mib``),
    sampled every 20 ms while a step runs, by a process of its own (``--sample-tree``): a thread here
    would change how the build starts its workers (``checks/runner.py`` forks them from a process
    with no thread of its own only)."""

    def __init__(self) -> None:
        self._sampler = subprocess.Popen([sys.executable, __file__, "--sample-tree", str(os.getpid())],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._sampler.stdout.readline()  # (it has started)

    def stop(self) -> float:
        out, _ = self._sampler.communicate("stop\n")
        return float(out)


def sample_tree(pid: int) -> None:
    """``TreePeak``'s sampler: the peak PSS of ``pid`` and its descendants (this process left out),
    printed when a line arrives on stdin."""
    import select
    peak = 0.0
    print("started", flush=True)
    while True:
        peak = max(peak, _pss_mib([p for p in _tree(pid) if p != os.getpid()]))
        if select.select([sys.stdin], [], [], 0.02)[0]:
            break
    print(max(peak, _pss_mib([p for p in _tree(pid) if p != os.getpid()])), flush=True)


def phase(name: str, work: str, queue, repeat: int = 1) -> None:
    """One step in a fresh process, as a user runs it; reports its time and its own peak memory."""
    from peacetalks.reading.project import Project
    work_dir = Path(work)
    project = Project(work_dir / "project")
    out: dict = {}
    if name == "validate":
        from peacetalks.checks.validate import validate
        t0 = time.perf_counter()
        result = validate(project, keep_tables=False)  # (as `peacetalks validate` runs it)
        out["validate_s"] = time.perf_counter() - t0
        out["errors"], out["warnings"] = len(result.errors), len(result.problems) - len(result.errors)
    elif name in ("build", "build-memory"):
        from peacetalks.release.build import build
        shutil.rmtree(work_dir / "release", ignore_errors=True)  # a fresh release every run
        sampler = TreePeak() if name == "build-memory" else None
        t0 = time.perf_counter()
        release = build(project, work_dir / "release")
        if sampler is None:
            out["build_s"] = time.perf_counter() - t0
        else:
            out["peak_total_mib"] = sampler.stop()
        out["mentions"] = release.counts["mentions"]
    elif name == "floor":
        out["floor_read_s"], out["floor_write_s"] = floor(project.root, work_dir / "release", work_dir / "floor")
    elif name == "cached":
        # a pull request that changes one document: fill the cache, change one file, validate again,
        # ``repeat`` times (another document each time); the figures are medians
        from peacetalks.checks.validate import validate
        from peacetalks.model.layers import LAYERS
        from peacetalks.reading.files import dump_records
        os.environ["PEACETALKS_CACHE_DIR"] = str(work_dir / "cache")
        validate(project, cache=True, keep_tables=False)  # (as `peacetalks validate` runs it)
        os.sync()  # (the cache just written goes to disk now, not while the re-checks are timed)
        changed = iter(sorted(project.documents.glob("*.json"))[:3 * repeat])

        def change_one() -> None:
            one = next(changed)
            data = json.loads(one.read_text("utf-8"))
            data["flags"] = [{"code": "inserted-material", "note": "Benchmark change."}]
            one.write_bytes(dump_records(data, LAYERS))

        same, fresh = [], []
        for _ in range(repeat):
            change_one()
            t0 = time.perf_counter()
            warm = validate(project, cache=True, keep_tables=False)
            same.append(time.perf_counter() - t0)
            out["warm_errors"] = len(warm.errors)
        # as a contributor runs it: `peacetalks validate` in a fresh process (its imports included), after
        # one more document changed (the index written by the run before knows every other file)
        command = [sys.executable, "-c", "from peacetalks.cli import run; run()",  # (what `peacetalks` runs)
                   "--root", str(project.root), "validate"]
        for _ in range(repeat):
            change_one()
            t0 = time.perf_counter()
            done = subprocess.run(command, capture_output=True, text=True,
                                  env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
            fresh.append(time.perf_counter() - t0)
            out["cli_exit"] = done.returncode
        if os.environ.get("PYTHONDONTWRITEBYTECODE") or sys.flags.dont_write_bytecode:
            # bytecode is not written here, so every process compiles the package's own modules again (the
            # libraries' was compiled when pip installed them, as an installed peacetalks's is): the same
            # runs again with the bytecode kept in this step's folder, after one untimed run compiles it
            # (PYTHONPYCACHEPREFIX: every module's is looked up there)
            kept = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            kept |= {"PYTHONPATH": str(ROOT / "src"), "PYTHONPYCACHEPREFIX": str(work_dir / "bytecode")}
            subprocess.run(command, capture_output=True, env=kept)
            compiled = []
            for _ in range(repeat):
                change_one()
                t0 = time.perf_counter()
                subprocess.run(command, capture_output=True, env=kept)
                compiled.append(time.perf_counter() - t0)
            out["cli_bytecode_kept_s"] = statistics.median(compiled)
            out["cli_bytecode_kept_s_range"] = [min(compiled), max(compiled)]
        out["validate_one_changed_cached_s"] = statistics.median(same)
        out["validate_one_changed_cached_s_range"] = [min(same), max(same)]
        out["cli_one_changed_cached_s"] = statistics.median(fresh)
        out["cli_one_changed_cached_s_range"] = [min(fresh), max(fresh)]
    elif name == "load":
        import pyarrow.parquet as pq
        from datasets import load_dataset

        from peacetalks.release.build import parquet_path
        path = work_dir / "release" / parquet_path("mentions")
        t0 = time.perf_counter()
        pq.read_table(path)
        out["read_table_s"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        load_dataset(str(work_dir / "release"), "mentions", split="train")
        out["load_dataset_s"] = time.perf_counter() - t0
    out[f"peak_{name}_mib"] = _peak()
    queue.put(out)


def _run(ctx, name: str, work: Path, repeat: int = 1) -> dict:
    os.sync()  # the files the last step wrote go to disk now, not while this step is timed
    q = ctx.Queue()
    p = ctx.Process(target=phase, args=(name, str(work), q, repeat))
    p.start()
    out = q.get()
    p.join()
    return out


def measure(n_docs: int, keep: str | None, repeat: int) -> dict:
    """Every step ``repeat`` times, each in a fresh process; times are medians (with min and max), peaks maxima."""
    work = Path(keep or tempfile.mkdtemp(prefix="peacetalks-bench-")) / f"n{n_docs}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    t0 = time.perf_counter()
    generate(work / "project", n_docs)
    row: dict = {"docs": n_docs, "generate_s": time.perf_counter() - t0, "repeat": repeat}
    ctx = mp.get_context("spawn")
    runs: dict[str, list] = {}
    for _ in range(repeat):
        for name in ("validate", "build", "floor"):
            for key, value in _run(ctx, name, work).items():
                runs.setdefault(key, []).append(value)
    runs["peak_total_mib"] = [_run(ctx, "build-memory", work)["peak_total_mib"]]  # (a build of its own: see phase)
    runs["floor_s"] = [a + b for a, b in zip(runs["floor_read_s"], runs["floor_write_s"])]
    runs["ratio"] = [b / f for b, f in zip(runs["build_s"], runs["floor_s"])]
    for key, values in runs.items():
        if key.startswith("peak"):
            row[key] = max(values)
        elif isinstance(values[0], float):
            row[key] = statistics.median(values)
            row[key + "_range"] = [min(values), max(values)]
        else:
            row[key] = values[-1]
    for name in ("cached", "load"):
        row.update(_run(ctx, name, work, repeat))
    if not keep:
        shutil.rmtree(work.parent, ignore_errors=True)
    return row


def _range(row: dict, key: str) -> str:
    low, high = row[key + "_range"]
    return f"runs {low:.2f}-{high:.2f} s, medians of {row['repeat']}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--keep", help="keep the generated corpora and releases under this folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs of validate, build, floor and the cached re-checks (medians are printed)")
    ap.add_argument("--sample-tree", type=int, help=argparse.SUPPRESS)  # (TreePeak's sampler process)
    args = ap.parse_args()
    if args.sample_tree:
        return sample_tree(args.sample_tree)
    rows = []
    for n in args.sizes:
        rows.append(measure(n, args.keep, args.repeat))
        r = rows[-1]
        print(f"{r['docs']:>6} docs, {r['mentions']:>7} mentions: floor {r['floor_s']:.2f} s (read {r['floor_read_s']:.2f} s,"
              f" write {r['floor_write_s']:.2f} s) | validate {r['validate_s']:.2f} s ({r['warnings']} warnings)"
              f" | build (error checks + release) {r['build_s']:.2f} s | build/floor {r['ratio']:.2f}x"
              f" (runs {r['ratio_range'][0]:.2f}-{r['ratio_range'][1]:.2f}x, medians of {r['repeat']})"
              f" | peak memory: validate {r['peak_validate_mib']:.0f} MiB, build {r['peak_build_mib']:.0f} MiB"
              f" (this process; all the build's processes together: peak_total_mib {r['peak_total_mib']:.0f})"
              f" | load_dataset {r['load_dataset_s']:.2f} s vs read_table {r['read_table_s']:.3f} s | errors {r['errors']}"
              f" | validate after changing 1 document, with cache {r['validate_one_changed_cached_s']:.2f} s"
              f" ({_range(r, 'validate_one_changed_cached_s')}; in a fresh `peacetalks validate` process, imports"
              f" included: {r['cli_one_changed_cached_s']:.2f} s, {_range(r, 'cli_one_changed_cached_s')}"
              + (f"; bytecode is not written here (PYTHONDONTWRITEBYTECODE), so every process compiles the"
                 f" package's modules: with it kept, as an installed package has it,"
                 f" {r['cli_bytecode_kept_s']:.2f} s, {_range(r, 'cli_bytecode_kept_s')}"
                 if "cli_bytecode_kept_s" in r else "") + ")", flush=True)
    if len(rows) > 1:
        a, b = rows[0], rows[-1]
        scale = b["docs"] / a["docs"]
        print(f"scaling {a['docs']} -> {b['docs']} docs (x{scale:.0f}): build time x{b['build_s'] / a['build_s']:.1f}, "
              f"floor x{b['floor_s'] / a['floor_s']:.1f}")
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
