"""Level 5 (checks/level5_tables.py): ``passes``, the one-query verdict over a table's rules
(model/tables.py) that spares pandera's many queries, must clear exactly the tables pandera's
schema of the same rules clears, and never one it would fail."""

from pathlib import Path

import pandera.polars as pdr
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from peacetalks.checks.level5_tables import passes
from peacetalks.model.labels import Labels
from peacetalks.model.tables import table_rules, table_schemas

ROOT = Path(__file__).resolve().parents[1]
LABELS = Labels(ROOT / "schema" / "labels.json")
SCHEMAS = table_schemas(LABELS)  # pandera's
RULES = table_rules(LABELS)  # the same rules, as ``passes`` asks them


def pandera_passes(schema, frame: pl.DataFrame) -> bool:
    if isinstance(schema, str):
        schema = SCHEMAS[schema]
    try:
        schema.validate(frame, lazy=True)
    except pdr.errors.SchemaErrors:
        return False
    return True


def mention(document="d1", position=0, start=0, end=5, text="Paris", type_="GPE", level="NAM", entity="paris",
            value=None, id_="m1"):
    return {"document": document, "position": position, "id": id_, "start": start, "end": end, "text": text,
            "type": type_, "level": level, "entity": entity, "value": value}


def frame(rows, schema="mentions"):
    dtypes = {name: column.dtype for name, column in RULES[schema].columns.items()}
    return pl.DataFrame(rows, schema=dtypes)


def test_a_clean_table_passes_in_one_query():
    clean = frame([mention(), mention(position=1, start=10, end=14, text="2025", type_="DATE", level=None,
                                      entity=None, value="2025", id_="m2")])
    assert passes(RULES["mentions"], clean) and pandera_passes("mentions", clean)


@pytest.mark.parametrize("broken", [
    {"type": "PLANET"},                       # a column check (isin)
    {"start": -1},                            # ge(0)
    {"end": 0},                               # gt(0), and the dataframe check end > start
    {"text": ""},                             # str_length(min_value=1)
    {"level": "MAYBE"},                       # isin on a nullable column
    {"entity": None},                         # a dataframe check: only time expressions have no entity
    {"document": None},                       # not nullable
])
def test_each_kind_of_check_is_asked(broken):
    rows = [mention(), {**mention(position=1, start=20, end=25, id_="m2"), **broken}]
    table = frame(rows)
    assert not pandera_passes("mentions", table)
    assert not passes(RULES["mentions"], table)


def test_uniqueness_of_columns_and_of_a_column_is_asked():
    twice = frame([mention(), mention(position=1, id_="m2")])  # same document, start, end, type
    assert not pandera_passes("mentions", twice) and not passes(RULES["mentions"], twice)
    entities = pl.DataFrame({"id": ["a", "a"], "name": ["A", "B"], "type": ["ORG", "ORG"], "wikidata": [None, None],
                             "aliases": [[], []], "wikidata_checked": [None, None]},
                            schema={n: c.dtype for n, c in RULES["entities"].columns.items()})
    assert not pandera_passes("entities", entities) and not passes(RULES["entities"], entities)


def test_what_it_does_not_model_is_left_to_pandera():
    table = frame([mention()])
    assert not passes(RULES["mentions"], table.with_columns(extra=pl.lit(1)))           # strict: an extra column
    assert not pandera_passes("mentions", table.with_columns(extra=pl.lit(1)))
    assert not passes(RULES["mentions"], table.drop("value"))                           # a missing column
    assert not passes(RULES["mentions"], table.with_columns(pl.col("start").cast(pl.Int32)))  # to coerce
    assert pandera_passes("mentions", table.with_columns(pl.col("start").cast(pl.Int32)))


def test_every_table_has_its_pandera_schema_and_the_same_columns():
    assert set(SCHEMAS) == set(RULES)
    for name, rules in RULES.items():
        assert list(SCHEMAS[name].columns) == list(rules.columns), name
        assert [len(c.checks) for c in SCHEMAS[name].columns.values()] == [len(c.checks) for c in rules.columns.values()]
        assert len(SCHEMAS[name].checks) == len(rules.rules), name


def test_a_corpus_that_passes_does_not_import_pandera():
    """pandera (~0.3 s to import) is needed only to explain a failure."""
    import subprocess
    import sys
    code = ("import sys; from pathlib import Path; from peacetalks.checks.validate import validate; "
            "from peacetalks.reading.project import Project; r = validate(Project(Path(sys.argv[1]))); "
            "assert not r.errors, r.errors; print('pandera' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


OFFSETS = st.one_of(st.integers(-2, 40), st.none())
ROWS = st.fixed_dictionaries({
    "document": st.sampled_from(["d1", "d2", None]),
    "position": st.integers(-1, 3),
    "id": st.sampled_from(["m1", "m2"]),
    "start": OFFSETS,
    "end": OFFSETS,
    "text": st.sampled_from(["", "Paris", None]),
    "type": st.sampled_from([*LABELS.mention_types[:3], *LABELS.timex_types[:1], "PLANET"]),
    "level": st.sampled_from([None, "NAM", "NOM", "MAYBE"]),
    "entity": st.sampled_from([None, "paris"]),
    "value": st.sampled_from([None, "2025"]),
})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ROWS, max_size=5))
def test_it_clears_exactly_what_pandera_clears(rows):
    table = frame(rows)
    assert passes(RULES["mentions"], table) == pandera_passes("mentions", table)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({
    "document": st.sampled_from(["d1", "d2"]), "position": st.integers(-1, 2), "id": st.sampled_from(["e1", "e2"]),
    "trigger_start": OFFSETS, "trigger_end": OFFSETS, "trigger_text": st.sampled_from(["met", None]),
    "type": st.sampled_from([*LABELS["EventType"].names[:2], "PARTY"]),
    "realis": st.sampled_from([*LABELS["Realis"].names, "maybe"]),
    "modality": st.sampled_from([None, *LABELS["Modality"].names[:1]]),
    "xdoc": st.sampled_from([None, "x"]),
}), max_size=5))
def test_it_clears_exactly_what_pandera_clears_of_events(rows):
    table = frame(rows, "events")
    assert passes(RULES["events"], table) == pandera_passes("events", table)
