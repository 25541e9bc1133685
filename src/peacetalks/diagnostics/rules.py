"""Every problem code the validator can report, documented in one place.

``peacetalks rules`` lists them; ``peacetalks rules CODE`` explains one, with a bad
and a fixed example. Codes are grouped in levels, like Universal Dependencies'
validate.py: a file that fails a level is not checked at the levels above it, but
every problem at the levels it reaches is reported.

- ``F`` level 1, files: encoding, line endings, syntax, size, names, ids.
- ``S`` level 2, structure: JSON Schema.
- ``T`` level 3, spans: offsets against the document text.
- ``R`` level 4, references: ids, links, type agreement, event roles.
- ``C`` level 5, corpus tables: pandera checks over the flattened tables.
- ``D`` corpus drift: corpus/ against seeds/.
- ``V`` release verification: a release folder against its manifest (``peacetalks verify``).
- ``L`` Wikidata links, checked online against Wikidata (``peacetalks links --online``).
- ``I`` tool import: a file annotated in brat, Label Studio or INCEpTION (``peacetalks import``).
- ``W`` warnings: likely misses. They do not fail validation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]

LEVELS = {
    "F": (1, "files"),
    "S": (2, "structure"),
    "T": (3, "spans"),
    "R": (4, "references"),
    "C": (5, "corpus tables"),
    "D": (1, "corpus drift"),
    "V": (0, "release verification"),
    "L": (0, "Wikidata links (online)"),
    "I": (0, "tool import"),
    "W": (0, "warnings"),
}


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    summary: str
    explanation: str
    bad: str
    good: str

    @property
    def severity(self) -> Severity:
        return "warning" if self.code.startswith("W") else "error"

    @property
    def level(self) -> int:
        return LEVELS[self.code[0]][0]


_M = '{"id": "m1", "start": 9, "end": 15, "text": "Macron", "type": "PER", "level": "NAM", "entity": "emmanuel-macron"}'

_RULES = [
    # level 1: files
    Rule("F001", "not-utf8", "file is not valid UTF-8",
         "Every text and annotation file is UTF-8. The position given is the first byte that does not decode.",
         "a file saved as Latin-1: b'Zelensky\\xe9'", "the same file saved as UTF-8"),
    Rule("F002", "bom", "file starts with a byte order mark",
         "UTF-8 files must not start with a BOM (EF BB BF); many tools then see an invisible character.",
         "\\ufeff{\"document\": ...}", "{\"document\": ...}"),
    Rule("F003", "crlf", "file has CR or CRLF line endings",
         "Files use LF line endings only, so that diffs stay clean. `peacetalks fmt` rewrites them.",
         "{\\r\\n  \"document\": ...", "{\\n  \"document\": ..."),
    Rule("F004", "syntax", "file is not valid JSON",
         "The file could not be parsed. The position is where the parser stopped.",
         '{"id": "m1", "start": 9,}', '{"id": "m1", "start": 9}'),
    Rule("F005", "too-large", "file is larger than the size limit",
         "Annotation and registry files are limited to 8 MiB, texts and seeds to 2 MiB, to keep the corpus reviewable and the validator's memory bounded. The size is checked before the file is read.",
         "a 50 MiB annotation file", "split the article, or drop generated material"),
    Rule("F006", "name-mismatch", "file name does not match the id inside it",
         "annotations/documents/<id>.json must hold {\"document\": \"<id>\"}, and corpus/<id>.json must hold {\"id\": \"<id>\"}.",
         'annotations/documents/003_b7.json: {"document": "004_59"}', 'annotations/documents/003_b7.json: {"document": "003_b7"}'),
    Rule("F007", "unsafe-id", "id or file name is not a safe identifier",
         "Ids double as file names: letters, digits, '.', '_' and '-', starting with a letter or digit, no '..', no path separators, at most 128 characters. A file name whose bytes are not UTF-8 is none (reports show such bytes as \\xNN, and control characters as \\n or \\x1b, so that every report stays on its line).",
         '{"document": "../x"}', '{"document": "x"}'),
    Rule("F008", "unexpected-file", "file of an unexpected kind in the corpus",
         "annotations/documents/ holds only <id>.json files, corpus/ only <id>.txt and <id>.json pairs, and every input is a regular file inside the project: a symbolic link (even to a file), a folder named like a file, or a device is reported, never followed or read, as is a corpus/ file whose name is not UTF-8. Annotations are JSON, not YAML: YAML is never parsed, so no YAML tag can construct an object.",
         "annotations/documents/003.yaml; annotations/documents/004.json -> /home/me/elsewhere.json",
         "annotations/documents/003.json, a regular file"),
    Rule("F009", "missing-file", "a file the corpus needs is missing",
         "Every corpus/<id>.json has its corpus/<id>.txt and the other way round; every annotation file has its corpus document; the registries annotations/entities.json and annotations/xdoc-events.json exist.",
         "corpus/003.json without corpus/003.txt", "run `peacetalks ingest` to regenerate corpus/ from seeds/"),
    Rule("F010", "empty-text", "document text is empty",
         "A corpus document must have some text after normalisation.",
         "corpus/x.txt containing only blank lines", "an article with text"),
    Rule("F011", "duplicate-key", "a key appears twice in the same JSON object",
         "JSON parsers keep only the last of two equal keys, so a reviewer reading the first one on the line would see a value the release does not store. Every key appears once per object.",
         '{"id": "m1", "level": "NAM", "text": "Macron", "level": "NOM"}', '{"id": "m1", "level": "NAM", "text": "Macron"}'),
    Rule("F012", "too-deep", "JSON nests deeper than the limit",
         "Corpus files are shallow records (an event's argument is 5 levels deep); nesting beyond 16 levels is refused before any check reads the file, so that no input can exhaust the checkers.",
         '{"document": "x", "note": [[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]}', '{"document": "x", "note": "1"}'),
    # level 2: structure
    Rule("S001", "schema", "value does not match the JSON Schema",
         "The file does not have the structure schema/*.json declares. The message names the field and what was expected.",
         '{"id": "m1", "start": -1, ...}', '{"id": "m1", "start": 0, ...}'),
    Rule("S002", "required", "a required field is missing",
         "Every annotation has the fields its schema requires. Entity mentions need 'level' and 'entity'; time expressions need 'value' (null when it cannot be normalised).",
         '{"id": "m1", "start": 9, "end": 15, "text": "Macron", "type": "PER"}', _M),
    Rule("S003", "unknown-field", "field is not allowed here",
         "Schemas forbid fields they do not declare, so that typos are caught rather than ignored.",
         '{"id": "m1", ..., "typ": "PER"}', '{"id": "m1", ..., "type": "PER"}'),
    Rule("S004", "wrong-type", "value has the wrong JSON type",
         "Offsets are integers, texts are strings, lists are arrays.",
         '{"id": "m1", "start": "9", ...}', '{"id": "m1", "start": 9, ...}'),
    Rule("S005", "unknown-label", "label is not in the inventory",
         "Labels come from schema/labels.json, the one source of truth: entity and time types, mention levels, event types, realis, modality, quote kinds, flag codes.",
         '{"id": "m1", ..., "type": "PERSON"}', '{"id": "m1", ..., "type": "PER"}'),
    Rule("S006", "bad-format", "value does not have the required form",
         "Ids are safe identifiers, Wikidata ids look like Q123, TIMEX3 values like 2025-04-17, dates like 2025-04-17.",
         '{"wikidata": "3052772"}', '{"wikidata": "Q3052772"}'),
    Rule("S007", "field-combination", "fields are not allowed in this combination",
         "Entity mentions have 'level' and 'entity' and no 'value'; time expressions (DATE, TIME) have 'value' and neither 'level' nor 'entity'. An event has 'modality' exactly when its realis is 'other'.",
         '{"id": "t1", ..., "type": "DATE", "value": "2025-04-17", "entity": "thursday"}',
         '{"id": "t1", ..., "type": "DATE", "value": "2025-04-17"}'),
    # level 3: spans
    Rule("T001", "span-range", "span is empty, inverted or outside the text",
         "Offsets are Unicode code point offsets into the document text, half-open: 0 <= start < end <= len(text).",
         '{"start": 15, "end": 9, ...}', '{"start": 9, "end": 15, ...}'),
    Rule("T002", "span-text", "span text does not match the document text at its offsets",
         "The 'text' of a span repeats text[start:end] so that reviewers can read it; when they differ, the offsets or the text are wrong. The hint lists where the text does occur.",
         '{"start": 10, "end": 16, "text": "Macron"}  # text[10:16] == "acron "', '{"start": 9, "end": 15, "text": "Macron"}'),
    Rule("T003", "span-whitespace", "span starts or ends with whitespace",
         "Spans are trimmed: no leading or trailing whitespace.",
         '{"start": 8, "end": 15, "text": " Macron"}', '{"start": 9, "end": 15, "text": "Macron"}'),
    Rule("T004", "span-boundary", "span does not start or end at a token boundary",
         "A span may not cut a word: the characters on either side of a boundary cannot both be letters or digits. Possessive 's stays outside: 'Kyiv' in \"Kyiv's\" is fine.",
         '"Macro" inside "Macron"', '"Macron"'),
    Rule("T005", "span-text-not-found", "span written by its text does not occur in the document (peacetalks fmt)",
         "`peacetalks fmt` fills in the offsets of a span written as {\"text\": ..., \"occurrence\": N}; the text must occur at least N times (word-bounded occurrences are counted when there are any; `peacetalks locate DOC TEXT --all` lists them).",
         '{"text": "Macron", "occurrence": 9, "type": "PER", ...} in a document with five', '{"text": "Macron", "occurrence": 2, "type": "PER", ...}'),
    # level 4: references
    Rule("T009", "span-text-taken", "span written by its text resolves to a place another annotation has (peacetalks fmt)",
         "`peacetalks fmt` fills in a span written by its text with its first occurrence (or the one 'occurrence' names). When another annotation of the same layer already has that span, the second one almost always meant another occurrence: fmt leaves it unfilled and names both ids.",
         '{"id": "m7", "text": "Macron"} while m2 already covers the first "Macron"', '{"id": "m7", "text": "Macron", "occurrence": 2}'),
    Rule("T006", "span-crosses-paragraph", "span runs over a paragraph break",
         "A mention, trigger, cue or flag lies within one paragraph (one line of the text), so that no token sequence in the ner config starts a sentence inside a name. Two spans are exceptions: a quote's content (a long direct quote may run over paragraphs, GUIDELINES §5.2) and a quality flag's passage (an inserted passage may be several paragraphs, §7).",
         '{"text": "Luxembourg\\nThe", "start": 120, "end": 134}', '{"text": "Luxembourg", "start": 120, "end": 130}'),
    Rule("T007", "span-splits-character", "span edge falls inside a grapheme cluster",
         "A span starts and ends between characters as readers see them (extended grapheme clusters): never between a letter and its combining accent, nor inside an emoji sequence.",
         '"Adébáyọ" where the text has "Adébáyọ̀" (the grave accent U+0300 left outside)', '"Adébáyọ̀", the accent included'),
    Rule("T008", "name-span-punctuation", "name's span starts or ends with punctuation",
         "A named mention covers the name alone (GUIDELINES §2.3): no comma, full stop, quotation mark or bracket at its edges. An abbreviation keeps its period (\"U.S.\", \"Jr.\"), and a bracket the name itself opens is kept.",
         '{"text": "Maria Lindqvist,", "start": 40, "end": 56}', '{"text": "Maria Lindqvist", "start": 40, "end": 55}'),
    Rule("R001", "duplicate-id", "id is used twice",
         "Ids are unique: mention, event and quote ids within their document (across all three layers), entity and cross-document event ids within their registry, document ids within the corpus.",
         '[{"id": "m1", ...}, {"id": "m1", ...}]', '[{"id": "m1", ...}, {"id": "m2", ...}]'),
    Rule("R002", "dangling-reference", "reference does not resolve",
         "A mention's 'entity' is an id in annotations/entities.json; a quote's 'speaker' and 'addressee' and an event argument's 'mention' are mention ids in the same document; an event's 'xdoc' is an id in annotations/xdoc-events.json; an annotation file names a corpus document.",
         '{"entity": "emanuel-macron"}', '{"entity": "emmanuel-macron"}'),
    Rule("R003", "type-disagreement", "mention type disagrees with its entity's type",
         "A mention has the type of the registry entity it links to: a PER entity's mentions are PER. Metonymy ('Washington' for the US government) keeps the type of what the name denotes (GPE) and links to that entity.",
         '{"text": "Macron", "type": "ORG", "entity": "emmanuel-macron"}  # registry says PER', '{"text": "Macron", "type": "PER", "entity": "emmanuel-macron"}'),
    Rule("R004", "role-not-allowed", "argument role is not allowed for the event type",
         "Each event type allows the roles that schema/labels.json lists for it (x-roles); `peacetalks rules R004` prints them below, and the dataset card and GUIDELINES §4.1 list them too. Keep the type the text gives and choose one of its roles.",
         '{"type": "Contact.Phone", "arguments": [{"role": "Place", "mention": "m5"}]}  # a call has no place',
         '{"type": "Contact.Phone", "arguments": [{"role": "Participant", "mention": "m2"}]}'),
    Rule("R005", "argument-type", "argument's mention type is not allowed for its role",
         "Each role accepts mentions of certain types (schema/labels.json, x-roles): a Place is a GPE, LOC or FAC; a Time is a DATE or TIME.",
         '{"role": "Place", "mention": "m3"}  # m3 is a PER mention', '{"role": "Place", "mention": "m7"}  # m7: "Paris", GPE'),
    Rule("R006", "speaker-type", "quote speaker or addressee is not an entity mention",
         "A speaker or addressee is an entity mention (PER, ORG, GPE, NORP, ...: a name, a nominal or a pronoun), never a time expression.",
         '{"speaker": "m6"}  # m6 is the DATE "Thursday"', '{"speaker": "m4"}  # m4 is the PER "Dmitry Peskov"'),
    # level 5: corpus tables
    Rule("C001", "table-check", "corpus table fails a pandera check",
         "After flattening, every table (documents, mentions, entities, events, arguments, quotes) is checked with pandera: dtypes, uniqueness, value sets, ranges and per-document consistency. These catch what no single file shows.",
         "two corpus documents with the same id", "distinct ids"),
    # drift
    Rule("D001", "corpus-drift", "corpus/ differs from what seeds/ regenerate",
         "corpus/ is produced from seeds/ by `peacetalks ingest`, never edited by hand. Regenerate it, or fix the seed.",
         "a hand edit in corpus/003.txt", "`peacetalks ingest` (and annotations re-checked)"),
    Rule("D002", "seed-checksum", "seed file does not match seeds/SHA256SUMS",
         "Seeds are the raw articles, byte for byte. Their checksums are recorded in seeds/SHA256SUMS.",
         "an edited seed", "the seed as it was received; corrections go into annotations or quality flags"),
    # tool import
    Rule("I001", "tool-file-unreadable", "the tool's file cannot be read in its format",
         "`peacetalks import` reads brat standoff by its grammar (T, E, A, R, N and AnnotatorNotes lines), Label Studio's JSON export, and UIMA CAS XMI with its type system (dkpro-cassis). The position is where the reading stopped.",
         "T1\tPER 0 6 Macron   (spaces where brat writes tabs)", "T1\tPER 0 6\tMacron"),
    Rule("I002", "tool-text-differs", "the tool's text of the document is not the corpus text",
         "Offsets are only meaningful on the text they were made on: the tool must hold corpus/<id>.txt exactly as `peacetalks export` wrote it. A fix to the text goes through seeds/ and `peacetalks ingest`, not through the annotation tool.",
         "a .txt edited in the tool, 'Macron' changed to 'Macro'", "the .txt of the export, unchanged"),
    Rule("I003", "tool-unknown-label", "a label the inventories do not have",
         "Every type, level, role, realis, modality, quote kind, flag code, attribute and relation of the tool's file must be one of schema/labels.json (the labeling config of `peacetalks export` lists them). A new label is a change to labels.json first.",
         "T1\tPERSON 0 6\tMacron", "T1\tPER 0 6\tMacron"),
    Rule("I004", "tool-annotation-unmapped", "an annotation that does not map to the corpus's layers",
         "Each annotation of the tool must become one of the corpus's: a span on the text's offsets with its text, a relation from a quote to a mention or cue, an event argument to a mention, a note peacetalks wrote. What does not map is reported here, never dropped in silence: fix it in the tool and export again.",
         "R1\tSpeaker Arg1:T4 Arg2:T9   (T9 is a Cue)", "R1\tSpeaker Arg1:T4 Arg2:T2   (T2 is the speaker's mention)"),
    Rule("I005", "tool-document-missing", "the document is not in the tool's file",
         "The tool's file (a Label Studio export, a brat folder) has no task or text of the document given with --document.",
         "peacetalks import label-studio tasks.json --document 005_x   (tasks.json has no task of 005_x)",
         "the document id of one of its tasks"),
    # warnings
    Rule("D003", "seed-metadata-conflict", "metadata stated beside a seed contradicts the seed",
         "seeds/<id>.meta.json may only fill fields the seed itself leaves empty; the seed's own statement (a date header, a byline) wins.",
         '{"date": "2025-04-18"} beside a seed that starts "date 2025-04-17"', "remove 'date' from seeds/<id>.meta.json"),
    Rule("V001", "release-file-changed", "release file differs from manifest.json",
         "Releases are immutable: every file's sha256 and size are recorded in manifest.json when it is built.",
         "data/mentions/train-00000-of-00001.parquet edited after the build", "rebuild the release with `peacetalks build`"),
    Rule("V002", "release-file-missing", "file listed in manifest.json is missing", "A release is complete or it is not a release.",
         "README.md deleted from a release folder", "rebuild the release"),
    Rule("V003", "release-file-extra", "file in the release folder is not in manifest.json",
         "Nothing may be added to a release after it is built.", "notes.txt copied into the release folder", "remove it"),
    Rule("V004", "release-manifest", "manifest.json is missing or invalid", "Without its manifest a folder cannot be verified.",
         "a folder without manifest.json", "verify the folder `peacetalks build` wrote"),
    Rule("V005", "release-path-outside", "manifest entry or file leaves the release folder",
         "A release lists and holds only its own regular files: no absolute path, no '..', no symbolic link. `verify` never reads outside the folder it checks.",
         '"files": {"../secret.txt": {...}}', '"files": {"data/mentions/train-00000-of-00001.parquet": {...}}'),
    Rule("V006", "release-inconsistent", "manifest, Parquet files, card and Croissant metadata disagree",
         "The version, the configs and their row counts are the same in manifest.json, the Parquet files, the card's metadata (README.md) and croissant.json; `publish` would otherwise tag a version the files contradict.",
         'manifest.json "version": "9.9.9" beside croissant.json "version": "0.2.0"', "rebuild the release with `peacetalks build`"),
    # Wikidata links, online
    Rule("L001", "wikidata-missing", "the Wikidata id names no item",
         "`peacetalks links --online` fetched the entity's Wikidata id and Wikidata has no such item: the id is mistyped, or the item was deleted.",
         '{"id": "emmanuel-macron", "name": "Emmanuel Macron", "type": "PER", "wikidata": "Q30527720", "aliases": ["Macron"]}',
         '{"id": "emmanuel-macron", "name": "Emmanuel Macron", "type": "PER", "wikidata": "Q3052772", "aliases": ["Macron"]}'),
    Rule("L002", "wikidata-redirect", "the Wikidata id redirects to another item",
         "The item was merged into another one; Wikidata keeps the old id as a redirect. The registry names the item that is kept.",
         '{"id": "osce", "wikidata": "<an id merged into another>"}', '{"id": "osce", "wikidata": "<the id it redirects to>"}'),
    Rule("L003", "wikidata-label-mismatch", "the Wikidata item's label and aliases do not match the entity's name",
         "Neither the item's English label nor any English alias equals the entity's name or one of its aliases (compared without case, accents, punctuation or a leading 'the'): a wrong item, or a name the registry lacks.",
         '{"id": "paris", "name": "Paris", "type": "GPE", "wikidata": "Q142", "aliases": []}',
         '{"id": "paris", "name": "Paris", "type": "GPE", "wikidata": "Q90", "aliases": []}'),
    Rule("L004", "wikidata-type-mismatch", "the Wikidata item is not of a class the entity type allows",
         "The item is not an instance (P31, through P279 subclass of) of any class schema/labels.json lists for the entity's type in x-wikidata-classes: a namesake, the building for the institution, or the wrong entity type.",
         '{"id": "white-house", "name": "White House", "type": "FAC", "wikidata": "<the US executive office>"}',
         '{"id": "white-house", "name": "White House", "type": "FAC", "wikidata": "Q35525"}'),
    Rule("W001", "unannotated-occurrence", "string annotated elsewhere in the document is left bare here",
         "The same string is annotated as a mention in one place and not in another place of the same document; usually a miss.",
         '"Macron" annotated at 9-15, bare at 301-307', "annotate 301-307 too, or accept it in annotations/allow.json"),
    Rule("W002", "quote-without-cue", "quote has no cue",
         "PARC quotes have a cue (the reporting verb or phrase) where the text has one.",
         '{"id": "q1", "kind": "direct", "content": {...}}', '{"id": "q1", "kind": "direct", "content": {...}, "cue": {...}}'),
    Rule("W003", "quote-without-speaker", "quote has no speaker",
         "A quote's speaker is a mention, so that it resolves to a registry entity; pronouns and nominals ('the source') are mentions too.",
         '{"id": "q1", "kind": "direct", "content": {...}, "cue": {...}}', '{"id": "q1", ..., "speaker": "m12"}'),
    Rule("W004", "event-without-arguments", "actual event has no arguments",
         "An event that happened (realis 'actual') almost always has a participant, place or time somewhere in the document; arguments may be linked across sentences. Generic and other events are not reported.",
         '{"id": "e1", "type": "Contact.Meet", "arguments": []}', '{"id": "e1", "type": "Contact.Meet", "arguments": [{"role": "Participant", "mention": "m1"}]}'),
    Rule("W005", "entity-without-mentions", "registry entity has no mentions",
         "Every registry entity is mentioned somewhere in the corpus; otherwise remove it.",
         '{"id": "unused-entity", ...}', "remove it, or annotate its mentions"),
    Rule("W006", "document-not-annotated", "corpus document has no annotation file",
         "Every corpus document gets annotations/documents/<id>.json; until then it is released with empty layers.",
         "corpus/004.txt without annotations/documents/004.json", "annotate it"),
    Rule("W007", "unannotated-corpus-name", "name annotated in other documents is left bare here",
         "A string annotated as a name in another document occurs here without a mention; usually a miss (cross-corpus consistency).",
         '"Kremlin" annotated in 000, bare in 001', "annotate it here too, or accept it in annotations/allow.json"),
    Rule("W008", "inconsistent-label", "name labelled with a different type than elsewhere in the corpus",
         "The same name has different types in different places, like spaCy's debug data reports; fix the odd one or accept a real difference (metonymy is typed by what it refers to).",
         '"Kremlin" ORG in four places, GPE in one', "make it ORG, or accept it in annotations/allow.json with a reason"),
    Rule("W009", "capitalised-candidate", "capitalised token sequence not covered by any annotation",
         "A sequence of capitalised words (not a single sentence-initial word, not in a heading line) that no mention or event trigger covers; names are usually capitalised. Titles ('Prime Minister') are not annotated and are accepted in the allow-list.",
         '"Getty Images" with no mention', '{"id": "m3", "start": 22, "end": 34, "text": "Getty Images", "type": "ORG", ...}'),
    Rule("W010", "quoted-candidate", "quoted string that is neither a quote nor a mention",
         "Text in quotation marks that no quote content or mention covers: an attribution to annotate, or scare quotes to accept in the allow-list.",
         "'trade agreements' with no quote and no mention", "annotate the quote, or accept the scare quotes with a reason"),
    Rule("W011", "unused-allow-entry", "allow-list entry matches no warning",
         "Every entry of annotations/allow.json must accept a current warning (like ruff's unused-noqa), so the list cannot go stale.",
         '{"code": "W004", "path": null, "contains": "e99", "reason": "..."}', "remove the entry"),
    Rule("W012", "name-possessive", "name's span includes a possessive 's",
         "The possessive 's is outside a name (GUIDELINES §2.3): \"Hungary's\" is the GPE \"Hungary\". A name that really ends in 's (McDonald's) is accepted in annotations/allow.json.",
         '{"text": "Hungary\'s", "type": "GPE", "level": "NAM"}', '{"text": "Hungary", "type": "GPE", "level": "NAM"}'),
    Rule("W013", "name-lowercase-tail", "name begins with a capital and ends in a lowercase word",
         "A span that took in the words after a name (\"Luxembourg next month\") begins with a capital and ends in a lowercase word; a real name of that shape is accepted in annotations/allow.json with its reason.",
         '{"text": "Luxembourg next month", "type": "GPE", "level": "NAM"}', '{"text": "Luxembourg", "type": "GPE", "level": "NAM"}'),
    Rule("W014", "time-value-rule", "a time expression's value breaks the normalisation rules",
         "GUIDELINES §3 fixes the value of some shapes of time expression: a weekday is that day in the document's week or before (undated: XXXX-WXX-N, N the ISO weekday), a month name is that month (undated: XXXX-MM), 'this/last/next week|month|year' is that period of the document date (undated: PRESENT_REF / PAST_REF / FUTURE_REF). Recurring expressions (TimeML SET: 'every night') are not annotated.",
         '{"text": "Thursday", "type": "DATE", "value": null}  (in an undated document)',
         '{"text": "Thursday", "type": "DATE", "value": "XXXX-WXX-4"}'),
    Rule("W015", "accusation-presented-as-actual", "an event an accusation asserts is presented as actual",
         "The event's trigger is inside the content of a quote whose cue is an accusation or contested claim (the cue stems labels.json lists for modality alleged: accused, alleged, claimed, asserted, charged, blamed). The text does not commit to it: realis other, modality alleged (GUIDELINES §4.2).",
         'Russia has accused Ukraine of breaching the truce: {"trigger": {"text": "breaching"}, "realis": "actual"}',
         '{"trigger": {"text": "breaching"}, "realis": "other", "modality": "alleged"}'),
    Rule("W016", "alleged-without-source", "an alleged event has no source in the text",
         "Modality alleged says a source the text reports claims the event; this event is inside no quote's content and its sentence has no accusation or hedge ('allegedly', 'reportedly'). Give it the realis the text gives it, or annotate the attribution.",
         'Macron met Starmer: {"trigger": {"text": "met"}, "realis": "other", "modality": "alleged"}',
         '{"trigger": {"text": "met"}, "realis": "actual"}'),
    Rule("W017", "argument-not-nearest-mention", "an argument is not the mention the guidelines pick for its entity",
         "GUIDELINES §4.1: a role is filled, in the trigger's sentence, by the participant's name nearest to the trigger, or, if the sentence names it only by a nominal or pronoun ('he', 'who'), by the nearest of those; if the sentence does not mention it, by the nearest name before the trigger (else the nearest mention before it, else after it). The hint names the mention to link; the entity stays the same.",
         'Lavrov stressed ... "the officials spoke by phone and said that Lavrov ...": Participant = the "Sergey Lavrov" two sentences before',
         'Participant = the "Lavrov" in the trigger\'s own sentence'),
    Rule("W018", "nominal-without-complement", "a nominal mention stops before its of-complement",
         "GUIDELINES §2.3: a nominal mention spans its whole noun phrase, with determiners, premodifiers, possessors and prepositional complements ('a source from the Elysee Palace', 'representatives of the US, Russia, and Ukraine'), but without relative clauses, participle clauses and appositions. A nominal followed directly by 'of' usually stopped too early.",
         '{"text": "representatives", "level": "NOM"}  before "of the US, Russia, and Ukraine"',
         '{"text": "representatives of the US, Russia, and Ukraine", "level": "NOM"}'),
]

RULES: dict[str, Rule] = {r.code: r for r in _RULES}
