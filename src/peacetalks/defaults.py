"""Every tuning constant in one place, each with the reason for its value (as flake8's defaults.py).

Limits bound what one input may cost; batch sizes bound the memory a step holds at once;
the figures come from ``scripts/bench.py`` where a value was measured, and say so where it
was not. Nothing here is a label or a layout: those live in ``model/`` and ``release/layout``.
"""

from __future__ import annotations

# ---------------------------------------------------------------- input limits (reading/files.py)

#: an annotation file of the largest article is ~40 KB; registries grow slowly
MAX_JSON_BYTES = 8 * 1024 * 1024
#: corpus texts: the longest news article is well under 100 KB
MAX_TEXT_BYTES = 2 * 1024 * 1024
#: a raw article as received; a 200 MB seed drove validate to ~3.9 GiB before this limit
MAX_SEED_BYTES = 2 * 1024 * 1024
#: a tool's file for ``peacetalks import``: a Label Studio export holds every task of its project
#: (the five-document export is 446 KB, ~90 KB a document), so 512 MiB is some 5,000 documents;
#: an XMI or .ann file holds one document (the largest, 52 KB)
MAX_TOOL_BYTES = 512 * 1024 * 1024
#: the deepest corpus file nests 5 levels (document > events > event > arguments > argument);
#: recursive code (JSON Schema, fmt, source maps) runs only on files within this bound
MAX_JSON_DEPTH = 16

# ---------------------------------------------------------------- reading and checking

#: documents per shard, the unit of per-document work (checks/shards.py) that runs in this process
#: or in a worker, and one Parquet row group of each config. It bounds what a process holds at once
#: (a shard of 1,000 synthetic documents is ~20 MB of tables). Each shard pays a fixed cost (pandera's
#: and polars' per-call overhead, ~0.1 s): at 10,000 documents (scripts/bench.py) shards of 250 built
#: in 7.7 s, of 500 in 6.9 s, of 1,000 in 6.7 s. It is a constant, not a function of the cores: the
#: same corpus gives the same row groups, so the same release bytes, on any machine
SHARD_DOCS = 1000
#: shards per worker queued or finished and waiting to be merged (checks/runner.py): enough to keep
#: every worker busy while the first process merges, few enough that held results stay bounded
IN_FLIGHT = 2
#: annotation files parsed before they are turned into Arrow and their Python objects freed
#: (checks/shards.py): a whole shard at once held ~100 MB of them, mapped and unmapped again by
#: every shard (page faults: a quarter of the workers' time went to the kernel)
ARROW_BATCH_DOCS = 50
#: shards given to a started worker at once (checks/runner.py): the one it runs and the next, so that it
#: never waits for this process to receive a result before it gets another (~0.2 s per shard at 10,000
#: documents when it did)
QUEUED_PER_WORKER = 2
#: a worker's memory (checks/runner.py, glibc's malloc only): allocations up to this size come from its
#: heap, and up to WORKER_TRIM_THRESHOLD of freed memory stays there for the next shard. By default
#: glibc maps blocks from 128 KiB up separately and hands them back when freed, so that every shard
#: faulted its memory in again: at 10,000 documents the workers took ~245,000 page faults, a fifth of
#: their time in the kernel; with these, ~120,000, and the build used 6.0 instead of 6.5 s of CPU
#: (scripts/bench.py's corpus, 2 cores). 32 MiB is the most glibc accepts.
WORKER_MMAP_THRESHOLD = 32 * 1024 * 1024
WORKER_TRIM_THRESHOLD = 256 * 1024 * 1024
#: the cyclic garbage collector's thresholds during a command, a validation or a build (reading/files.py's
#: ``gc_tuned``, which also freezes what is alive when it starts: the imported libraries). With Python's
#: default, (700, 10, 10), a one-document re-check at 50,000 documents ran ~850 young and 3 full
#: collections, 0.17-0.19 s, each full one walking every object of pyarrow, polars and the rest; a
#: 10,000-document build spent ~0.2 s of its one-core start (before the workers fork) collecting.
#: Tuned: 0.01 s and 0.04 s. mypy's value; garbage is still collected, less often
GC_THRESHOLD = (200_000, 30, 30)
#: segment files of the validation cache before they are compacted into one (reading/cache.py): each
#: run that checked something appends one; reading a cache costs a little per segment
MAX_SEGMENTS = 16
#: runs of consecutive rows the validation cache's live entries may be scattered over before it is
#: compacted into one segment (reading/cache.py): a re-check takes the unchanged documents from the
#: cache a run at a time, and every document changed since the last compaction splits a run. At 50,000
#: documents, with 400 documents changed (~800 runs), one re-check took them out in 0.40-0.46 s, against
#: 0.08 s from one run; a compaction writes the whole cache (~5-7 s). 512 runs: at most ~0.2 s more
MAX_CACHE_RUNS = 512
#: rows the stat index's delta file may hold (or an eighth of the base, if more) before the base is written
#: again with them (reading/cache.py): a changed document is a row, and writing the base costs 0.1-0.4 s
#: at 50,000 documents (~38 MB), the delta of a few rows a millisecond
STAT_DELTA_ROWS = 4096
#: documents whose files' stats a cached run takes as one shard of work (checks/validate.py): ~40-50 ms of
#: one core each. Of the 150,000 files of 50,000 documents, on 2 cores (medians of 5): 0.52 s in shards of
#: 10,000 files against 0.78 s in one process; shards of 50,000 balanced badly (0.64 s), of 5,000 no better
#: (0.52 s). A document is three files: 3,000 documents are ~9,000 files
STAT_DOCS = 3_000
#: documents from which a cached run takes their stats over every core, its workers forked from it
#: (checks/validate.py): starting and stopping two forked workers costs ~40 ms, and 60,000 files (20,000
#: documents) took 0.23-0.34 s in 2 workers against 0.23-0.37 s in one process (20,000: 0.10 s against 0.08 s)
STAT_PARALLEL_FROM = 16_000
#: documents whose texts the candidate warnings (W009, W010) search as one string
#: (a bound on the string's size; not tuned separately)
LINT_BATCH_DOCS = 500

#: seconds to wait for workers forked from this process to answer before it checks a shard itself
#: (checks/runner.py): they answer in ~2 ms; had it checked a first shard instead (~0.7 s at 10,000
#: documents), both workers would have been idle meanwhile
FORKED_START_S = 2.0

# ---------------------------------------------------------------- the release

#: documents from which the per-document work runs in a process pool (checks/runner.py) unless
#: --jobs says otherwise: below it, starting the workers costs more than it saves (scripts/bench.py)
PARALLEL_FROM = 200
#: zstd's own default level: level 9 made files 12% smaller on 10,000 synthetic documents (none on
#: the real corpus) and took 0.4 s longer to write (scripts/bench.py)
PARQUET_ZSTD_LEVEL = 3
#: rows per batch when a config's content is digested for the ledger (bounded memory whatever its size)
DIGEST_ROWS = 4096
#: documents and flags listed one by one in the card; the configs hold them all
CARD_ROWS = 100

# ---------------------------------------------------------------- Wikidata (tools/links.py)

#: wbgetentities takes at most 50 ids per request (the API's limit for clients without bot rights)
WIKIDATA_BATCH = 50
#: candidates proposed per unlinked entity: enough for the right one among namesakes
WIKIDATA_CANDIDATES = 5
#: seconds to connect, and for an answer: a subclass-chain SPARQL query over ~100 items takes a few
WIKIDATA_CONNECT_TIMEOUT = 10.0
WIKIDATA_TIMEOUT = 30.0
#: tries per request; waits BACKOFF, 2 BACKOFF, 4 BACKOFF seconds between them (or what Retry-After asks)
WIKIDATA_ATTEMPTS = 4
WIKIDATA_BACKOFF = 2.0
#: seconds of replication lag above which the API asks bots to wait (Wikimedia's API etiquette)
WIKIDATA_MAXLAG = 5
