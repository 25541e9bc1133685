"""peacetalks links: coverage offline; the online check against recorded Wikidata responses."""

import json

import httpx
import pytest
from conftest import ROOT

from peacetalks.cli import main
from peacetalks.reading.files import dump_records
from peacetalks.tools import links

RECORDED = ROOT / "tests" / "data" / "wikidata"
LINKS = {"emmanuel-macron": "Q3052772",  # right
         "paris": "Q142",  # France: the label does not match
         "osce": "Q999999999",  # no such item
         "saint-petersburg": "Q1000001",  # merged into Q656: a redirect
         "white-house": "Q35525"}  # the type check does not confirm a FAC


def recorded(name):
    return json.loads((RECORDED / name).read_text("utf-8"))


class Replay:
    """A MockTransport handler serving the recorded responses; it keeps every request."""

    def __init__(self, fail: int = 0, error: Exception | None = None, lag: int = 0):
        self.requests, self.fail, self.error, self.lag = [], fail, error, lag

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.error is not None:
            raise self.error
        if self.fail:
            self.fail -= 1
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        if self.lag:
            self.lag -= 1
            return httpx.Response(200, json=recorded("maxlag.json"), headers={"Retry-After": "5"})
        params = request.url.params
        if request.url.host == "query.wikidata.org":
            return httpx.Response(200, json=recorded("sparql-instances.json"))
        if params.get("action") == "wbgetentities":
            data = recorded("wbgetentities.json")
            asked = params["ids"].split("|")
            return httpx.Response(200, json={"entities": {q: data["entities"].get(q, {"id": q, "missing": ""})
                                                          for q in asked}, "success": 1})
        if params.get("action") == "wbsearchentities":
            if params["search"] == "Keir Starmer":
                return httpx.Response(200, json=recorded("wbsearchentities-keir-starmer.json"))
            return httpx.Response(200, json={"searchinfo": {"search": params["search"]}, "search": [], "success": 1})
        return httpx.Response(400, json={"error": {"code": "badvalue", "info": "unexpected request"}})


@pytest.fixture
def linked(project):
    """The checkout copy with five links to check and every other id removed."""
    registry = json.loads(project.entities.read_text("utf-8"))
    for e in registry["entities"]:
        e["wikidata"] = LINKS.get(e["id"])
        e.pop("wikidata_checked", None)
    project.entities.write_bytes(dump_records(registry, ("entities",)))
    return project


@pytest.fixture
def replay(monkeypatch):
    handler = Replay()
    sleeps = []

    class Recorded(links.Client):
        def __init__(self):
            super().__init__(transport=httpx.MockTransport(handler), sleep=sleeps.append)
    monkeypatch.setattr(links, "Client", Recorded)
    handler.sleeps = sleeps
    return handler


def run(project, *args):
    return main(["--root", str(project.root), "links", *args])


def entities(project):
    return {e["id"]: e for e in json.loads(project.entities.read_text("utf-8"))["entities"]}


def test_offline_coverage_by_type_and_the_lists(linked, capsys):
    assert run(linked) == 0
    out = capsys.readouterr().out
    assert "unverified (added without an online check" in out and "  emmanuel-macron  Q3052772" in out
    assert "  keir-starmer  (PER," in out
    assert run(linked, "--format", "json") == 0
    cover = json.loads(capsys.readouterr().out)["coverage"]
    assert cover["total"]["linked"] == len(LINKS) and cover["total"]["verified"] == 0
    assert cover["total"]["named"] == cover["total"]["linked"] + cover["total"]["unlinked"]
    assert sum(r["named"] for r in cover["by_type"].values()) == cover["total"]["named"]
    assert {u["entity"] for u in cover["unverified"]} == set(LINKS)


def test_the_online_check_finds_each_kind_of_wrong_link(linked, replay, capsys):
    before = linked.entities.read_bytes()
    assert run(linked, "--online") == 1
    out = capsys.readouterr().out
    codes = {line.split(": ")[1].split()[0]: line for line in out.splitlines() if ": L00" in line}
    assert set(codes) == {"L001", "L002", "L003", "L004"}
    assert "osce: Wikidata has no item Q999999999" in codes["L001"]
    assert "Q1000001 redirects to Q656" in codes["L002"]
    assert "paris: Q142 is 'France'" in codes["L003"]
    assert "white-house: Q35525 (White House) is not an instance" in codes["L004"]
    assert all(line.startswith("annotations/entities.json:") for line in codes.values())
    assert "5 Wikidata links checked: 1 right, 4 wrong." in out
    assert linked.entities.read_bytes() == before  # without --record nothing is written
    agents = {r.headers["User-Agent"] for r in replay.requests}
    assert agents == {links.USER_AGENT} and links.USER_AGENT.startswith("peacetalks/")
    gets = [r for r in replay.requests if r.url.params.get("action") == "wbgetentities"]
    assert gets and all(r.url.params["maxlag"] == str(links.WIKIDATA_MAXLAG) for r in gets)


def test_record_marks_the_right_link_verified_and_the_card_says_so(linked, replay, capsys):
    assert run(linked, "--online", "--record") == 1
    after = entities(linked)
    assert after["emmanuel-macron"]["wikidata_checked"] == {"wikidata": "Q3052772", "date": links.today(),
                                                            "label": "Emmanuel Macron"}
    assert all(after[e]["wikidata_checked"] is None for e in LINKS if e != "emmanuel-macron")
    assert main(["--root", str(linked.root), "fmt", "--check"]) == 0  # written in canonical form
    capsys.readouterr()
    assert run(linked, "--format", "json") == 0
    cover = json.loads(capsys.readouterr().out)["coverage"]
    assert cover["total"]["verified"] == 1 and "emmanuel-macron" not in {u["entity"] for u in cover["unverified"]}
    # a hand edit of the id makes the link unverified again: the check names the id it checked
    registry = json.loads(linked.entities.read_text("utf-8"))
    next(e for e in registry["entities"] if e["id"] == "emmanuel-macron")["wikidata"] = "Q3052773"
    linked.entities.write_bytes(dump_records(registry, ("entities",)))
    assert run(linked, "--format", "json") == 0
    assert json.loads(capsys.readouterr().out)["coverage"]["total"]["verified"] == 0


def test_a_network_failure_is_its_own_exit_code_and_writes_nothing(linked, replay, capsys):
    replay.error = httpx.ConnectError("[Errno -3] Temporary failure in name resolution")
    before = linked.entities.read_bytes()
    assert run(linked, "--online", "--record") == 3
    err = capsys.readouterr().err
    assert "cannot reach Wikidata" in err and "ConnectError" in err and "nothing was checked or written" in err
    assert len(replay.requests) == links.WIKIDATA_ATTEMPTS and replay.sleeps == [2.0, 4.0, 8.0]
    assert linked.entities.read_bytes() == before


def test_busy_servers_and_maxlag_are_retried_after_the_wait_they_ask(linked, replay, capsys):
    replay.fail, replay.lag = 1, 1
    assert run(linked, "--online") == 1  # the links are still found wrong, after the retries
    assert replay.sleeps == [2.0, 5.0]  # back-off, then the Retry-After of the maxlag answer
    assert "5 Wikidata links checked" in capsys.readouterr().out


def test_review_proposes_checked_candidates_and_accept_links_them(linked, replay, tmp_path, capsys):
    review = tmp_path / "review.json"
    assert run(linked, "--online", "--review", str(review)) == 1
    data = json.loads(review.read_text("utf-8"))
    starmer = next(c for c in data["candidates"] if c["entity"] == "keir-starmer")
    assert starmer["accept"] is None and [o["wikidata"] for o in starmer["options"]] == ["Q6383202", "Q130000001"]
    assert starmer["options"][0]["label_matches"] and starmer["options"][0]["type_fits"]
    assert not starmer["options"][1]["label_matches"] and not starmer["options"][1]["type_fits"]
    searched = {r.url.params["search"] for r in replay.requests if r.url.params.get("action") == "wbsearchentities"}
    assert "Keir Starmer" in searched and "British" in searched  # (a registry name without its parenthesis)

    starmer["accept"] = "Q130000001"  # not a checked candidate: refused, nothing written
    review.write_text(json.dumps(data), "utf-8")
    before = linked.entities.read_bytes()
    assert run(linked, "--accept", str(review)) == 1
    assert "did not pass the check" in capsys.readouterr().err and linked.entities.read_bytes() == before

    starmer["accept"] = "Q6383202"
    review.write_text(json.dumps(data), "utf-8")
    assert run(linked, "--accept", str(review)) == 0
    assert "linked keir-starmer -> Q6383202" in capsys.readouterr().out
    e = entities(linked)["keir-starmer"]
    assert e["wikidata"] == "Q6383202" and e["wikidata_checked"]["wikidata"] == "Q6383202"
    assert main(["--root", str(linked.root), "validate"]) == 0


@pytest.mark.parametrize("args, message", [
    (["--record"], "need --online"),
    (["--review", "x.json"], "need --online"),
    (["--online", "--accept", "x.json"], "offline"),
])
def test_usage_errors(linked, capsys, args, message):
    assert run(linked, *args) == 2
    assert message in capsys.readouterr().err


def test_review_never_overwrites_a_file_it_did_not_write(linked, replay, tmp_path, capsys):
    precious = tmp_path / "notes.json"
    precious.write_text('{"mine": true}', "utf-8")
    assert run(linked, "--online", "--review", str(precious)) == 2
    assert precious.read_text("utf-8") == '{"mine": true}' and not replay.requests


@pytest.mark.parametrize("content, message", [
    ("{", "F004"),
    ('{"no": "candidates"}', "not a review file"),
    ('{"candidates": [{"entity": "nobody", "accept": "Q1", "options": []}]}', "is not in the registry"),
    ('{"candidates": [{"entity": "keir-starmer", "accept": "Q1", "options": []}]}', "not one of the proposed options"),
])
def test_a_bad_review_file_is_reported_and_nothing_is_written(linked, tmp_path, capsys, content, message):
    review = tmp_path / "review.json"
    review.write_text(content, "utf-8")
    before = linked.entities.read_bytes()
    assert run(linked, "--accept", str(review)) == 1
    assert message in capsys.readouterr().err and linked.entities.read_bytes() == before


def test_a_hand_made_check_record_must_have_its_fields(linked, capsys):
    registry = json.loads(linked.entities.read_text("utf-8"))
    next(e for e in registry["entities"] if e["id"] == "paris")["wikidata_checked"] = {"wikidata": "Q90"}
    linked.entities.write_bytes(dump_records(registry, ("entities",)))
    assert main(["--root", str(linked.root), "validate"]) == 1
    out = capsys.readouterr().out
    assert "annotations/entities.json:" in out and "S002 missing required field 'date'" in out


def test_fmt_marks_a_wikidata_id_added_by_hand_as_unverified(linked, capsys):
    registry = json.loads(linked.entities.read_text("utf-8"))
    keir = next(e for e in registry["entities"] if e["id"] == "keir-starmer")
    keir["wikidata"] = "Q6383202"  # added by hand, no check record
    linked.entities.write_bytes(dump_records(registry, ("entities",)))
    assert main(["--root", str(linked.root), "fmt", "--check"]) == 1
    assert main(["--root", str(linked.root), "fmt"]) == 0
    line = next(line for line in linked.entities.read_text("utf-8").splitlines() if '"keir-starmer"' in line)
    assert '"wikidata": "Q6383202", "wikidata_checked": null, "aliases"' in line
    capsys.readouterr()
    assert run(linked, "--format", "json") == 0
    unverified = json.loads(capsys.readouterr().out)["coverage"]["unverified"]
    assert {"entity": "keir-starmer", "wikidata": "Q6383202"} in unverified
