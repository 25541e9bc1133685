"""`peacetalks view`: the static site, checked as files and in a real headless Chromium.

The browser tests use Debian's chromium and chromium-driver (installed by .ci/run);
where they are missing the browser tests skip with that reason. Screenshots are kept
in tests/artifacts/.
"""

import html
import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest
from conftest import DOC, ROOT, copy_checkout

from peacetalks.checks.validate import validate
from peacetalks.reading.files import dump_records
from peacetalks.reading.ingest import add_seed
from peacetalks.tools.view import add_site, write_site

ARTIFACTS = ROOT / "tests" / "artifacts"
EVIL = "evil_doc"
EVIL_TEXT = ("Injected\nThe page said <script>window.__pwned = 1; document.title = 'pwned'</script> and "
             "<img src=x onerror=\"window.__pwned = 2\"> to Emmanuel Macron.\n")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The real corpus plus one hostile document, viewed."""
    root = tmp_path_factory.mktemp("view")
    project = copy_checkout(root)
    article = root / "evil.txt"
    article.write_text(EVIL_TEXT, "utf-8")
    add_seed(project, article, EVIL)
    text = (project.corpus / f"{EVIL}.txt").read_text("utf-8")
    start = text.index("Emmanuel Macron")
    script = text.index("<script>")
    data = {"document": EVIL, "flags": [], "mentions": [
        {"id": "m1", "start": start, "end": start + 15, "text": "Emmanuel Macron", "type": "PER", "level": "NAM",
         "entity": "evil-entity"}],
        "events": [], "quotes": [{"id": "q1", "kind": "indirect",
                                  "content": {"start": script, "end": script + 8, "text": "<script>"},
                                  "cue": {"start": text.index("said"), "end": text.index("said") + 4, "text": "said"},
                                  "speaker": "m1"}]}
    (project.documents / f"{EVIL}.json").write_bytes(dump_records(data, ("flags", "mentions", "events", "quotes")))
    registry = json.loads(project.entities.read_text("utf-8"))
    registry["entities"].append({"id": "evil-entity", "name": "<b onmouseover=alert(1)>Macron</b>", "type": "PER",
                                 "wikidata": None, "aliases": []})
    project.entities.write_bytes(dump_records(registry, ("entities",)))
    result = validate(project)
    assert result.ok, [p.render() for p in result.errors]
    index = write_site(result, root / "site")
    return index.parent, result


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.scripts, self.depth, self.open = [], [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("href", "src"):
            if key in attrs:
                self.links.append(attrs[key])
        if tag == "script":
            self.scripts.append(attrs)
        if tag not in ("meta", "link", "br", "img", "input", "rect"):
            self.open.append(tag)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, (tag, self.open[-5:])
        self.open.pop()


def test_every_page_is_well_formed_and_every_link_resolves(site):
    folder, _ = site
    pages = sorted(folder.rglob("*.html"))
    assert {p.name for p in (folder / "doc").iterdir()} >= {f"{DOC}.html", f"{EVIL}.html"}
    for page in pages:
        parser = _Links()
        parser.feed(page.read_text("utf-8"))
        assert parser.open == [], page
        for link in parser.links:
            url = urlparse(link)
            if url.scheme in ("http", "https"):
                continue
            target = (page.parent / unquote(url.path)).resolve()
            assert target.exists(), (page, link)


def test_corpus_text_is_escaped(site):
    folder, _ = site
    page = (folder / "doc" / f"{EVIL}.html").read_text("utf-8")
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "&lt;script&gt;" in page and "window.__pwned = 1; document.title = &#x27;pwned&#x27;&lt;/script&gt;" in page
    entity = (folder / "entity" / "evil-entity.html").read_text("utf-8")
    assert "<b onmouseover" not in entity and "&lt;b onmouseover=alert(1)&gt;" in entity
    # the embedded data cannot close its <script> element
    data = re.search(r'<script type="application/json" id="layer-data">(.*?)</script>', page, re.S).group(1)
    assert "<" not in data and json.loads(data)["mentions"]["m1"]["text"] == "Emmanuel Macron"


def test_index_entities_events_and_stats(site):
    folder, result = site
    index = (folder / "index.html").read_text("utf-8")
    for doc in result.tables.documents.column("id").to_pylist():
        assert f'href="doc/{doc}.html"' in index
    assert "inserted-material" in index and "truncated" in index  # quality flags are listed
    macron = (folder / "entity" / "emmanuel-macron.html").read_text("utf-8")
    n = sum(1 for m in result.tables.mentions.column("entity").to_pylist() if m == "emmanuel-macron")
    assert macron.count('class="hit"') == n and "Q3052772" in macron
    paris = (folder / "event" / "paris-talks-2025-04-17.html").read_text("utf-8")
    assert "002_10aa8657d00e2537" in paris and DOC in paris
    stats = (folder / "stats.html").read_text("utf-8")
    for fig in sorted((folder / "figures").glob("*.svg")):
        assert f'src="figures/{fig.name}"' in stats
        assert fig.read_text("utf-8").startswith("<svg")


def test_the_headline_is_the_annotated_first_paragraph(site):
    folder, result = site
    docs = result.tables.documents.select(["id", "title"]).to_pylist()
    assert any(d["title"] for d in docs) and any(not d["title"] for d in docs)
    for d in docs:
        page = (folder / "doc" / f"{d['id']}.html").read_text("utf-8")
        article = page.split('aria-label="annotated text">', 1)[1]
        assert article.startswith('<p class="headline">') == bool(d["title"]), d["id"]
        if d["title"]:
            headline = article.split("</p>", 1)[0]
            words = re.sub(r"<[^>]+>", "", re.sub(r'<span class="tag"[^>]*>[^<]*</span>', "", headline))
            assert html.unescape(words) == d["title"]  # (without the type labels that follow mentions)
    first = (folder / "doc" / "000_4d90cd6c48df9336.html").read_text("utf-8").split('class="headline">', 1)[1]
    assert 'title="PER NAM: Emmanuel Macron"' in first.split("</p>", 1)[0]  # a mention in the headline


# ---------------------------------------------------------------- in a real browser

def _driver():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not chromedriver:
        pytest.skip("Chromium/ChromeDriver not installed (Debian packages chromium and chromium-driver; "
                    ".ci/run installs them where apt-get can)")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed (pip install -e '.[test]')")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    try:
        return webdriver.Chrome(service=Service(chromedriver), options=options)
    except Exception as e:  # noqa: BLE001 - a browser that cannot start is a reason to skip, said plainly
        pytest.skip(f"Chromium did not start: {type(e).__name__}: {str(e).splitlines()[0]}")


@pytest.fixture(scope="module")
def browser():
    driver = _driver()
    yield driver
    driver.quit()


def _open(browser, path: Path):
    browser.get(path.resolve().as_uri())


def test_a_reader_sees_every_mention_and_a_quotes_speaker(site, browser):
    folder, result = site
    _open(browser, folder / "doc" / f"{DOC}.html")
    source = json.loads((ROOT / "annotations" / "documents" / f"{DOC}.json").read_text("utf-8"))
    shown = browser.execute_script("return document.querySelectorAll('.text .m[data-first]').length")
    assert shown == len(source["mentions"])
    visible = browser.execute_script(
        "return [...document.querySelectorAll('.text .m[data-first]')].filter(e => e.getClientRects().length).length")
    assert visible == len(source["mentions"])
    first_quote = source["quotes"][0]
    speaker = next(m for m in source["mentions"] if m["id"] == first_quote["speaker"])
    browser.find_element("css selector", f'.q[data-q="{first_quote["id"]}"][data-first]').click()
    details = browser.find_element("id", "details").text
    assert f"speaker: {speaker['text']}" in details and first_quote["kind"] in details
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"view-{DOC}.png"))


def test_keyboard_focus_shows_an_entity(site, browser):
    folder, _ = site
    _open(browser, folder / "doc" / f"{DOC}.html")
    browser.execute_script("document.querySelector('.text .m.t-PER[data-first]').focus()")
    details = browser.find_element("id", "details").text
    assert "entity:" in details and "mention(s)" in details


def test_the_layer_toggle_hides_a_layer(site, browser):
    folder, _ = site
    _open(browser, folder / "doc" / f"{DOC}.html")
    background = "return getComputedStyle(document.querySelector('.text .q')).backgroundColor"
    assert browser.execute_script(background) not in ("rgba(0, 0, 0, 0)", "transparent")
    browser.find_element("css selector", '.toggles input[value="quotes"]').click()
    assert browser.execute_script(background) in ("rgba(0, 0, 0, 0)", "transparent")
    labels = "return getComputedStyle(document.querySelector('.text .tag')).display"
    assert browser.execute_script(labels) != "none"
    browser.find_element("css selector", '.toggles input[value="labels"]').click()
    assert browser.execute_script(labels) == "none"
    browser.save_screenshot(str(ARTIFACTS / f"view-{DOC}-toggled.png"))


def test_an_injected_script_does_not_run(site, browser):
    folder, _ = site
    _open(browser, folder / "doc" / f"{EVIL}.html")
    assert browser.execute_script("return window.__pwned") is None
    assert browser.title != "pwned"
    assert "<script>window.__pwned = 1;" in browser.find_element("css selector", ".text").text
    browser.find_element("css selector", ".text .m[data-first]").click()
    assert "<b onmouseover=alert(1)>Macron</b>" in browser.find_element("id", "details").text
    assert browser.execute_script("return window.__pwned") is None
    browser.save_screenshot(str(ARTIFACTS / f"view-{EVIL}.png"))


def test_the_statistics_figures_render(site, browser):
    folder, _ = site
    _open(browser, folder / "stats.html")
    widths = browser.execute_script("return [...document.images].map(i => i.complete ? i.naturalWidth : 0)")
    assert widths and all(w > 0 for w in widths)
    browser.save_screenshot(str(ARTIFACTS / "view-stats.png"))


def test_a_release_can_carry_the_site_and_stays_reproducible(project, tmp_path):
    from peacetalks.release.build import build
    from peacetalks.release.versions import verify
    a = build(project, tmp_path / "a", extra=add_site)
    b = build(project, tmp_path / "b", extra=add_site)
    ma = json.loads((a.path / "manifest.json").read_text("utf-8"))
    mb = json.loads((b.path / "manifest.json").read_text("utf-8"))
    assert ma["files"] == mb["files"] and any(f.startswith("site/doc/") for f in ma["files"])
    assert verify(a.path) == []


def test_every_mention_keeps_its_type_label_also_at_a_paragraph_end(site, browser):
    folder, result = site
    for doc in result.tables.documents.column("id").to_pylist():
        _open(browser, folder / "doc" / f"{doc}.html")
        n = sum(1 for d in result.tables.mentions.column("document").to_pylist() if d == doc)
        tags = browser.execute_script("return document.querySelectorAll('.text .m > .tag').length")
        assert tags == n, doc
    text = result.tables.documents.column("text").to_pylist()
    ends = [m for m in result.tables.mentions.to_pylist()
            if m["end"] == len(text[result.tables.documents.column("id").to_pylist().index(m["document"])])
            or text[result.tables.documents.column("id").to_pylist().index(m["document"])][m["end"]:m["end"] + 1] == "\n"]
    assert ends, "the corpus has mentions that end a paragraph"
    m = ends[0]
    _open(browser, folder / "doc" / f"{m['document']}.html")
    label = browser.execute_script(
        f"var el = document.getElementById('m-{m['id']}'); var all = document.querySelectorAll("
        f"'.text .m[data-m=\"{m['id']}\"] > .tag'); return all.length ? all[all.length - 1].textContent : null")
    assert label == m["type"]


def test_an_events_arguments_and_a_quotes_speaker_are_marked_in_the_text(site, browser):
    folder, result = site
    source = json.loads((ROOT / "annotations" / "documents" / f"{DOC}.json").read_text("utf-8"))
    _open(browser, folder / "doc" / f"{DOC}.html")
    event = next(e for e in source["events"] if len(e["arguments"]) >= 2)
    browser.find_element("css selector", f'.ev[data-e="{event["id"]}"][data-first]').click()
    marked = browser.execute_script("return [...new Set([...document.querySelectorAll('.text .m.hl')].map(e => e.dataset.m))]")
    assert sorted(marked) == sorted({a["mention"] for a in event["arguments"]})
    second = event["arguments"][1]["mention"]
    browser.find_element("css selector", f'#details a.ref[data-ref="{second}"]').click()
    marked = browser.execute_script("return [...new Set([...document.querySelectorAll('.text .m.hl')].map(e => e.dataset.m))]")
    assert marked == [second]
    assert browser.execute_script("return document.activeElement.id") == f"m-{second}"
    browser.save_screenshot(str(ARTIFACTS / f"view-{DOC}-argument.png"))
    quote = next(q for q in source["quotes"] if q.get("speaker"))
    browser.find_element("css selector", f'.q[data-q="{quote["id"]}"][data-first]').click()
    marked = browser.execute_script("return [...new Set([...document.querySelectorAll('.text .m.hl')].map(e => e.dataset.m))]")
    assert marked == [quote["speaker"]]


def test_the_concordance_links_to_the_mention_and_cuts_between_words(site, browser):
    folder, result = site
    page = (folder / "entity" / "emmanuel-macron.html").read_text("utf-8")
    links = re.findall(r'href="\.\./doc/([^"#]+)\.html#m-([^"]+)"', page)
    assert links
    doc, mention = links[0]
    _open(browser, folder / "entity" / "emmanuel-macron.html")
    browser.find_element("css selector", f'a[href="../doc/{doc}.html#m-{mention}"]').click()
    assert browser.execute_script("return [...document.querySelectorAll('.text .m.hl')].map(e => e.dataset.m)")[0] == mention
    lefts = re.findall(r"<tr><td>.*?</td><td>.*?</td><td>(.*?)</td>", page)
    texts = dict(zip(result.tables.documents.column("id").to_pylist(), result.tables.documents.column("text").to_pylist()))
    for left in lefts:
        words = left.removeprefix("… ").split(" ")
        if left.startswith("… ") and words[0]:
            assert f" {words[0]}" in " " + " ".join(texts.values()).replace("\n", " ")  # a whole word


def test_long_labels_fit_their_figure(site):
    from peacetalks.tools.view import _bars
    svg = _bars("Event types", [("Government.Agreement.Propose", 3), ("Contact.Meet", 10)])
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    label_end = int(re.search(r'<text x="(\d+)" y="\d+" text-anchor="end">Government', svg).group(1))
    assert label_end - len("Government.Agreement.Propose") * 7 >= 0 and width > label_end


def test_a_layer_without_a_drawing_of_its_own_is_drawn_from_the_layer_table(tmp_path, monkeypatch):
    """A layer the viewer has no drawing for (a new layer; here events and quotes, as if they were new)
    is still shown, from its definition in the layer table alone: each span of each entry marked in the
    text with the entry's id and labels, a toggle, a table with a column per key (an entry's own list,
    the arguments, by its items), and a count per document on the index."""
    from peacetalks.model.layers import LAYER
    from peacetalks.reading.project import Project
    from peacetalks.tools import view
    monkeypatch.setattr(view, "DRAWN", frozenset({"mentions", "flags"}))
    result = validate(Project(ROOT), lints=False)
    index = write_site(result, tmp_path / "site")
    events, quotes = result.tables.events.to_pylist(), result.tables.quotes.to_pylist()
    arguments = result.tables.arguments.to_pylist()
    doc = max({e["document"] for e in events}, key=lambda d: sum(e["document"] == d for e in events))
    page = (tmp_path / "site" / "doc" / f"{doc}.html").read_text("utf-8")
    mine = [e for e in events if e["document"] == doc]
    spans = [q for q in quotes if q["document"] == doc]
    assert page.count('class="ly ly-events"') == len(mine)
    assert page.count('class="ly ly-quotes"') == len(spans) + sum(q["cue_start"] is not None for q in spans)
    for e in mine:
        assert f'title="event {e["id"]} {e["type"]} {e["realis"]}' in page
    for name in ("events", "quotes"):
        layer = LAYER[name]
        assert f'value="{name}" checked> {layer.title}</label>' in page
        table = page.split(f'<table class="layer-{name}">')[1].split("</table>")[0]
        assert re.findall(r"<th scope=\"col\">([^<]*)</th>", table) == list(layer.keys)
        assert table.count("<tr>") == 1 + (len(mine) if name == "events" else len(spans))
    table = page.split('<table class="layer-events">')[1].split("</table>")[0]
    argued = next(e for e in mine if any(a["document"] == doc and a["event_index"] == e["index"] for a in arguments))
    first = next(a for a in arguments if a["document"] == doc and a["event_index"] == argued["index"])
    assert f"{html.escape(first['role'])}, {html.escape(first['mention'])}" in table
    front = index.read_text("utf-8")
    assert f"<th scope=\"col\">{LAYER['events'].title}</th>" in front and f"<th scope=\"col\">{LAYER['quotes'].title}</th>" in front
