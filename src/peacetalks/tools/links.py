"""``peacetalks links``: the registry's Wikidata links, counted offline and checked online.

Offline (the default) it reports link coverage: how many named entities (entities with
at least one NAM mention) carry a Wikidata id, by type, how many of those ids passed an
online check, and which named entities have none. The card shows the same figures.

``--online`` (opt-in; it needs the network) checks every link against Wikidata:

1. the item exists (L001) and is not a redirect to another item (L002);
2. its English label or one of its English aliases matches the entity's name or one of
   its aliases, compared without case, accents or punctuation (L003);
3. it is an instance (P31, through any chain of P279 subclass of) of a class that the
   entity's type allows in ``schema/labels.json`` (``x-wikidata-classes``) (L004).

and proposes candidates (``wbsearchentities``) for every named entity without an id in a
review file (``--review FILE``) that a maintainer accepts (``"accept": "Q…"``) or rejects
(``"accept": false``) and applies with ``--accept FILE``. ``--record`` writes the outcome
into ``annotations/entities.json``: each passing link gets ``wikidata_checked`` (the id,
the date and the label that matched); a failing one gets null. A Wikidata id without a
check record for that very id (``null``, as ``fmt`` marks it) is *unverified*, here, in the card and in the release's
``wikidata_verified`` column; the rule is that no id is added without such a check.

Exit codes: 0 every link checked is right, 1 a link is wrong (or a review file is
wrong), 3 the API could not be reached (nothing was decided), 2 a usage error.
HTTP goes through httpx with timeouts, retries with back-off (honouring Retry-After and
the API's ``maxlag``), and a descriptive User-Agent, as Wikimedia's API etiquette asks.
"""

from __future__ import annotations

import datetime as _dt
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from .. import __version__
from ..defaults import (
    WIKIDATA_ATTEMPTS,
    WIKIDATA_BACKOFF,
    WIKIDATA_BATCH,
    WIKIDATA_CANDIDATES,
    WIKIDATA_CONNECT_TIMEOUT,
    WIKIDATA_MAXLAG,
    WIKIDATA_TIMEOUT,
)
from ..diagnostics.locate import Locator
from ..diagnostics.problems import Problem
from ..model.labels import Labels
from ..reading.files import atomic_write, read_json_file
from ..reading.project import Project
from .fmt import canonical_entities

API = "https://www.wikidata.org/w/api.php"
SPARQL = "https://query.wikidata.org/sparql"
TIMEOUT = httpx.Timeout(WIKIDATA_TIMEOUT, connect=WIKIDATA_CONNECT_TIMEOUT)
USER_AGENT = (f"peacetalks/{__version__} (https://pypi.org/project/peacetalks-corpus/; corpus maintainers) "
              f"httpx/{httpx.__version__}")
REVIEW_HELP = ("set \"accept\" to one candidate's id to link the entity, or to false to reject them all; "
               "then run `peacetalks links --accept FILE`")


class NetworkError(Exception):
    """The API could not be reached or answered with something else than its JSON (exit 3)."""


class ReviewError(Exception):
    """A review file that cannot be applied."""


# ------------------------------------------------------------------ offline: coverage


def render_coverage(c: dict) -> str:
    lines = ["Wikidata links of named entities (entities with a name mention):", "",
             f"{'type':<6}{'named':>7}{'linked':>8}{'verified':>10}{'unverified':>12}{'unlinked':>10}"]
    for name, r in list(c["by_type"].items()) + [("all", c["total"])]:
        lines.append(f"{name:<6}{r['named']:>7}{r['linked']:>8}{r['verified']:>10}{r['unverified']:>12}{r['unlinked']:>10}")
    m = c["name_mentions"]
    lines += ["", f"name mentions whose entity is linked: {m['linked']} of {m['all']}"]
    if c["unverified"]:
        lines += ["", "unverified (added without an online check; `peacetalks links --online --record` checks them):"]
        lines += [f"  {u['entity']}  {u['wikidata']}" for u in c["unverified"]]
    if c["unlinked"]:
        lines += ["", "named entities without a Wikidata id (`peacetalks links --online --review FILE` proposes candidates):"]
        lines += [f"  {u['entity']}  ({u['type']}, {u['names']} name mention{'s' if u['names'] != 1 else ''})"
                  for u in c["unlinked"]]
    return "\n".join(lines)


# ------------------------------------------------------------------ online: the Wikidata client


class Client:
    """Wikidata's action API and query service, over one httpx client (injectable ``transport`` for tests)."""

    def __init__(self, transport: httpx.BaseTransport | None = None, sleep=time.sleep):
        self.http = httpx.Client(headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
                                 timeout=TIMEOUT, transport=transport, follow_redirects=True)
        self.sleep = sleep

    def close(self) -> None:
        self.http.close()

    def _get(self, url: str, params: dict) -> dict:
        last = "no answer"
        for attempt in range(WIKIDATA_ATTEMPTS):
            wait = WIKIDATA_BACKOFF * 2 ** attempt
            try:
                r = self.http.get(url, params=params)
            except httpx.HTTPError as e:  # timeouts, refused or reset connections, DNS failures
                last = f"{type(e).__name__}: {e}"
            else:
                if r.status_code == 429 or r.status_code >= 500:
                    last = f"HTTP {r.status_code}"
                    wait = max(wait, _retry_after(r))
                elif r.status_code != 200:
                    raise NetworkError(f"{url} answered HTTP {r.status_code}")
                else:
                    try:
                        data = r.json()
                    except ValueError:
                        raise NetworkError(f"{url} answered something other than JSON") from None
                    error = data.get("error") if isinstance(data, dict) else None
                    if not error:
                        return data
                    if error.get("code") != "maxlag":
                        raise NetworkError(f"{url}: {error.get('code')}: {error.get('info')}")
                    last = "the API asked to wait (maxlag)"
                    wait = max(wait, _retry_after(r))
            if attempt + 1 < WIKIDATA_ATTEMPTS:
                self.sleep(wait)
        raise NetworkError(f"{url}: {last} (after {WIKIDATA_ATTEMPTS} attempts)")

    def items(self, ids: list[str]) -> dict[str, dict]:
        """wbgetentities: requested id -> the entity object as the API returns it (labels and aliases in English)."""
        out: dict[str, dict] = {}
        for i in range(0, len(ids), WIKIDATA_BATCH):
            data = self._get(API, {"action": "wbgetentities", "ids": "|".join(ids[i:i + WIKIDATA_BATCH]),
                                   "props": "labels|aliases|descriptions|info", "languages": "en", "format": "json",
                                   "maxlag": WIKIDATA_MAXLAG})
            out.update(data.get("entities") or {})
        return out

    def instances(self, ids: list[str], classes: list[str]) -> set[tuple[str, str]]:
        """(item, class) for every item that is an instance of a class (P31/P279*), from the query service."""
        if not ids or not classes:
            return set()
        query = ("SELECT DISTINCT ?item ?class WHERE { VALUES ?item { " + " ".join(f"wd:{q}" for q in ids)
                 + " } VALUES ?class { " + " ".join(f"wd:{q}" for q in classes)
                 + " } ?item wdt:P31/wdt:P279* ?class . }")
        data = self._get(SPARQL, {"query": query, "format": "json"})
        pairs = set()
        for b in data.get("results", {}).get("bindings", []):
            pairs.add((b["item"]["value"].rsplit("/", 1)[-1], b["class"]["value"].rsplit("/", 1)[-1]))
        return pairs

    def search(self, name: str) -> list[dict]:
        """wbsearchentities: the items whose label or alias matches ``name`` (English)."""
        data = self._get(API, {"action": "wbsearchentities", "search": name, "language": "en", "uselang": "en",
                               "type": "item", "limit": WIKIDATA_CANDIDATES, "format": "json", "maxlag": WIKIDATA_MAXLAG})
        return data.get("search") or []


def _retry_after(response: httpx.Response) -> float:
    try:
        return min(float(response.headers.get("Retry-After", 0)), 120.0)
    except ValueError:
        return 0.0


# ------------------------------------------------------------------ online: the checks


def _fold(name: str) -> str:
    """A name compared without case, accents, punctuation or a leading article."""
    text = unicodedata.normalize("NFKD", name.casefold())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[\W_]+", " ", text).strip()
    return re.sub(r"^the ", "", text)


def _names(item: dict) -> list[str]:
    label = (item.get("labels") or {}).get("en", {}).get("value")
    return ([label] if label else []) + [a.get("value") for a in (item.get("aliases") or {}).get("en", []) if a.get("value")]


def _match(entity: dict, item: dict) -> str | None:
    """The item's label or alias that matches the entity's name or aliases, if any."""
    ours = {_fold(n) for n in [entity["name"], *(entity.get("aliases") or [])]}
    return next((n for n in _names(item) if _fold(n) in ours), None)


@dataclass
class Outcome:
    """What the online check found: problems per entity, the checks that passed, proposed candidates."""

    problems: list[Problem] = field(default_factory=list)
    passed: dict[str, dict] = field(default_factory=dict)  # entity id -> wikidata_checked record
    failed: set[str] = field(default_factory=set)
    checked: int = 0
    candidates: list[dict] = field(default_factory=list)


def check_online(project: Project, registry: dict, labels: Labels, client: Client, today: str,
                 unlinked: list[dict] | None = None) -> Outcome:
    """Check every Wikidata id of ``registry`` (the parsed entities.json); propose candidates for ``unlinked``."""
    out = Outcome()
    locator = Locator()
    shown = project.rel(project.entities)
    linked = [(i, e) for i, e in enumerate(registry["entities"]) if e.get("wikidata")]
    items = client.items(sorted({e["wikidata"] for _, e in linked}))
    classes = labels.wikidata_classes
    wanted = sorted({q for _, e in linked for q in classes.get(e["type"], {})})
    present = [e["wikidata"] for _, e in linked if "missing" not in items.get(e["wikidata"], {"missing": ""})
               and not items[e["wikidata"]].get("redirects")]
    kinds = client.instances(sorted(set(present)), wanted)

    def problem(i: int, code: str, message: str, hint: str) -> None:
        out.problems.append(Problem(shown, *locator.locate(project.entities, f"/entities/{i}/wikidata"), code, message, hint))

    for i, e in linked:
        qid, out.checked = e["wikidata"], out.checked + 1
        item = items.get(qid)
        allowed = classes.get(e["type"], {})
        if item is None or "missing" in item:
            problem(i, "L001", f"{e['id']}: Wikidata has no item {qid}",
                    "the id may be mistyped or the item deleted; search Wikidata, or set wikidata to null")
        elif item.get("redirects"):
            target = item["redirects"].get("to") or item.get("id")
            problem(i, "L002", f"{e['id']}: {qid} redirects to {target} (the items were merged)",
                    f"write {target} instead of {qid}, then check again")
        elif (matched := _match(e, item)) is None:
            theirs = ", ".join(repr(n) for n in _names(item)[:4]) or "no English label"
            problem(i, "L003", f"{e['id']}: {qid} is {theirs}, not {e['name']!r} or an alias of it",
                    "a wrong item, or a name the registry lacks: fix the id, or add the item's name to aliases")
        elif allowed and not any((qid, c) in kinds for c in allowed):
            problem(i, "L004", f"{e['id']}: {qid} ({matched}) is not an instance of a class type {e['type']} allows "
                    f"({', '.join(f'{c} {n}' for c, n in allowed.items())})",
                    "a wrong item (a namesake, or the building for the institution), a wrong entity type, or a class "
                    "labels.json x-wikidata-classes should allow")
        else:
            out.passed[e["id"]] = {"wikidata": qid, "date": today, "label": matched}
            continue
        out.failed.add(e["id"])
    if unlinked:
        out.candidates = propose(registry, unlinked, labels, client)
    return out


def _searchable(name: str) -> str:
    """A registry name as Wikidata would have it: without the registry's parenthetical ("British (people)")."""
    return re.sub(r"\s*\([^)]*\)", "", name).strip() or name


def propose(registry: dict, unlinked: list[dict], labels: Labels, client: Client) -> list[dict]:
    """Candidates for unlinked named entities, each with whether its label and its type fit."""
    by_id = {e["id"]: e for e in registry["entities"]}
    found = {u["entity"]: client.search(_searchable(by_id[u["entity"]]["name"])) for u in unlinked if u["entity"] in by_id}
    ids = sorted({c["id"] for hits in found.values() for c in hits if c.get("id")})
    classes = labels.wikidata_classes
    kinds = client.instances(ids, sorted({q for v in classes.values() for q in v}))
    review = []
    for entity_id, hits in found.items():
        e = by_id[entity_id]
        allowed = classes.get(e["type"], {})
        options = []
        for c in hits:
            names = [c.get("label")] + [a for a in (c.get("aliases") or []) if a]
            item = {"labels": {"en": {"value": names[0]}} if names[0] else {}, "aliases": {"en": [{"value": a} for a in names[1:]]}}
            options.append({"wikidata": c["id"], "label": c.get("label"), "description": c.get("description"),
                            "label_matches": _match(e, item) is not None,
                            "type_fits": any((c["id"], q) in kinds for q in allowed)})
        review.append({"entity": entity_id, "name": e["name"], "type": e["type"], "accept": None, "options": options})
    return review


# ------------------------------------------------------------------ writing the registry


def load_registry(project: Project) -> dict:
    registry, problems = read_json_file(project.entities, project.rel(project.entities))
    if problems or not isinstance(registry, dict) or not isinstance(registry.get("entities"), list):
        raise ReviewError(problems[0].render() if problems else f"{project.rel(project.entities)} is not a registry; "
                          "run `peacetalks validate`")
    return registry


def _write_registry(project: Project, registry: dict) -> None:
    atomic_write(project.entities, canonical_entities(registry))


def record(project: Project, outcome: Outcome) -> int:
    """Write the check's outcome into the registry; returns how many entities changed."""
    registry = load_registry(project)
    changed = 0
    for e in registry["entities"]:
        if e["id"] in outcome.passed and e.get("wikidata_checked") != outcome.passed[e["id"]]:
            e["wikidata_checked"] = outcome.passed[e["id"]]
            changed += 1
        elif e["id"] in outcome.failed and e.get("wikidata_checked") is not None:
            e["wikidata_checked"] = None  # unverified again
            changed += 1
    if changed:
        _write_registry(project, registry)
    return changed


def accept(project: Project, review_path: Path, today: str) -> list[str]:
    """Apply a review file: each accepted candidate, if it passed the checks when proposed, becomes the link."""
    review, problems = read_json_file(review_path, str(review_path))
    if problems:
        raise ReviewError(problems[0].render())
    if not isinstance(review, dict) or not isinstance(review.get("candidates"), list):
        raise ReviewError(f"{review_path}: not a review file (no \"candidates\" list); write one with "
                          "`peacetalks links --online --review FILE`")
    registry = load_registry(project)
    by_id = {e["id"]: e for e in registry["entities"]}
    applied, errors = [], []
    for n, c in enumerate(review["candidates"]):
        choice = c.get("accept") if isinstance(c, dict) else None
        if choice is None or choice is False:
            continue
        entity = by_id.get(c.get("entity"))
        option = next((o for o in c.get("options") or [] if o.get("wikidata") == choice), None)
        if entity is None:
            errors.append(f"candidates[{n}]: entity {c.get('entity')!r} is not in the registry")
        elif option is None:
            errors.append(f"candidates[{n}]: {choice!r} is not one of the proposed options for {entity['id']}")
        elif not (option.get("label_matches") and option.get("type_fits")):
            errors.append(f"candidates[{n}]: {choice} did not pass the check for {entity['id']} (label matches: "
                          f"{option.get('label_matches')}, type fits: {option.get('type_fits')}); fix the registry's "
                          "name or type, or link it by hand and let the next online check verify it")
        elif entity.get("wikidata") not in (None, choice):
            errors.append(f"candidates[{n}]: {entity['id']} is already linked to {entity['wikidata']}")
        else:
            entity["wikidata"] = choice
            entity["wikidata_checked"] = {"wikidata": choice, "date": review.get("date") or today,
                                          "label": option.get("label") or entity["name"]}
            applied.append(f"{entity['id']} -> {choice}")
    if errors:
        raise ReviewError("\n".join(f"{review_path}: {e}" for e in errors) + "\nnothing was written")
    if applied:
        _write_registry(project, registry)
    return applied


def today() -> str:
    return _dt.date.today().isoformat()
