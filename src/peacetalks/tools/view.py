"""``peacetalks view``: a static HTML site to look at the corpus and its layers.

No server is needed: the pages use relative links and open from the file system or on
GitHub Pages. Everything from the corpus is escaped (``html.escape``; data embedded for
the page script is JSON with ``<`` escaped), so an article containing ``<script>`` shows
it as text.

- ``index.html``: every document (title, outlet, date, counts per layer, quality flags)
  and corpus totals;
- ``doc/<id>.html``: the text with mentions highlighted by type (nested spans drawn as
  nested boxes, crossing spans split), time expressions, event triggers and quotes with
  their cues; a details panel (click or keyboard) shows a mention's entity, Wikidata id
  and its other mentions, a quote's speaker and cue, an event's type, realis and
  arguments; each layer can be toggled, and type labels shown inline. A layer of the layer
  table without a drawing of its own here (``DRAWN``) is drawn from its definition: its spans
  marked, a toggle, and a table of its entries;
- ``entity/<id>.html``: a registry entity with all its mentions in context;
- ``event/<id>.html``: a cross-document event with its mentions in every document;
- ``stats.html``: the figures of ``peacetalks stats`` as SVG bar charts.

Colour is never the only cue: every mention carries its type as a label (toggle), a
title and an ``aria-label``, and levels differ in border style.
"""

from __future__ import annotations

import html
import json
import shutil
from collections import defaultdict
from pathlib import Path

import polars as pl

from ..checks.validate import Result
from ..model.layers import LAYER_TABLE, Layer
from ..reading.annotations import CHILDREN, DOCUMENT_TABLES
from ..reading.files import check_output, put_in_place, temp_dir_beside
from ..release.stats import compute

TYPE_COLOURS = {
    "PER": "#fbd38d", "ORG": "#9ae6b4", "GPE": "#90cdf4", "LOC": "#b2f5ea", "FAC": "#e9d8fd",
    "NORP": "#fed7e2", "DATE": "#e2e8f0", "TIME": "#e2e8f0",
}

CSS = """
:root { font-family: system-ui, sans-serif; line-height: 1.5; color: #1a202c; }
body { margin: 0; }
a { color: #2b6cb0; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1em; top: 1em; background: #fff; padding: .3em; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: .5rem 1rem; }
header nav a { margin-right: 1em; }
table { border-collapse: collapse; margin: .5em 0 1.5em; } th, td { border: 1px solid #cbd5e0; padding: .2em .5em; text-align: left; vertical-align: top; }
.layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(16rem, 1fr); gap: 1.5rem; }
.text p { margin: 0 0 1em; }
.text p.headline { font-size: 1.25em; font-weight: 600; }
.m { border-radius: 3px; padding: 0 1px; border: 1px solid #4a5568; cursor: pointer; }
.m.lvl-NOM { border-style: dashed; } .m.lvl-PRO { border-style: dotted; } .m.timex { border-style: double; border-width: 3px; }
""" + "".join(f".m.t-{t} {{ background: {c}; }}\n" for t, c in TYPE_COLOURS.items()) + """
.m.cont { border-left: none; }
.tag { font-size: .65em; font-weight: 600; vertical-align: super; margin-left: 1px; color: #2d3748; }
.ev { text-decoration: underline wavy #c53030; text-underline-offset: 3px; cursor: pointer; font-weight: 600; }
.q { background: #fefcbf; box-shadow: inset 0 -2px #d69e2e; cursor: pointer; }
.cue { outline: 2px solid #d69e2e; font-style: italic; }
.flagged { box-shadow: inset 3px 0 #e53e3e; }
.ly { box-shadow: inset 0 -3px #805ad5; }
body.hide-mentions .m { background: none !important; border-color: transparent; cursor: auto; }
body.hide-mentions .m:not(.timex) > .tag { display: none; }
body.hide-timex .m.timex { background: none !important; border-color: transparent; }
body.hide-timex .m.timex > .tag { display: none; }
body.hide-labels .tag { display: none; }
body.hide-events .ev { text-decoration: none; font-weight: normal; cursor: auto; }
body.hide-quotes .q { background: none; box-shadow: none; cursor: auto; }
body.hide-quotes .cue { outline: none; font-style: normal; }
""" + "".join(f"body.hide-{layer.name} .ly-{layer.name} {{ box-shadow: none; }}\n" for layer in LAYER_TABLE) + """
.m:focus, .ev:focus, .q:focus { outline: 3px solid #2b6cb0; outline-offset: 1px; }
.m.hl { outline: 3px solid #c53030; outline-offset: 1px; box-shadow: 0 0 0 5px #fed7d7; }
aside { position: sticky; top: 0; align-self: start; max-height: 100vh; overflow: auto; }
#details { border: 1px solid #cbd5e0; padding: .5em; min-height: 6em; background: #f7fafc; }
.legend span.m { cursor: default; }
.toggles label { display: inline-block; margin-right: .8em; }
.flag { border-left: 4px solid #e53e3e; padding-left: .5em; margin: .5em 0; }
.kwic td.left { text-align: right; } .kwic .hit { font-weight: 700; background: #fefcbf; }
svg text { font-size: 11px; font-family: system-ui, sans-serif; }
"""

JS = """
(function () {
  var data = JSON.parse(document.getElementById('layer-data').textContent);
  var panel = document.getElementById('details');
  function esc(s) { var d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function show(html) { panel.innerHTML = html; }
  function mentionHtml(id) {
    var m = data.mentions[id]; if (!m) return '';
    var out = '<h3>' + esc(m.text) + '</h3><p>' + esc(m.type) + (m.level ? ' · ' + esc(m.level) : '') + '</p>';
    if (m.value !== undefined) { out += '<p>value: <code>' + esc(m.value) + '</code></p>'; return out; }
    var e = data.entities[m.entity] || {};
    out += '<p>entity: <a href="../entity/' + encodeURIComponent(m.entity) + '.html">' + esc(e.name || m.entity) + '</a>';
    if (e.wikidata) out += ' (<a href="https://www.wikidata.org/wiki/' + encodeURIComponent(e.wikidata) + '">' + esc(e.wikidata) + '</a>)';
    out += '</p><p>in this document: ' + esc(e.here) + ' mention(s); in the corpus: ' + esc(e.mentions) + ' in ' + esc(e.documents) + ' document(s)</p>';
    return out;
  }
  function eventHtml(id) {
    var e = data.events[id]; if (!e) return '';
    var out = '<h3>' + esc(e.trigger) + '</h3><p>' + esc(e.type) + ' · ' + esc(e.realis) + (e.modality ? ' · ' + esc(e.modality) : '') + '</p><ul>';
    e.arguments.forEach(function (a) { out += '<li>' + esc(a.role) + ': ' + ref(a.mention, a.text) + '</li>'; });
    out += '</ul>';
    if (e.xdoc) out += '<p>same event as: <a href="../event/' + encodeURIComponent(e.xdoc) + '.html">' + esc(e.xdoc_name) + '</a></p>';
    return out;
  }
  function quoteHtml(id) {
    var q = data.quotes[id]; if (!q) return '';
    return '<h3>Quote (' + esc(q.kind) + ')</h3><p class="speaker">speaker: ' + (q.speaker ? ref(q.speaker_id, q.speaker) : 'none') + '</p>'
      + (q.addressee ? '<p>addressee: ' + ref(q.addressee_id, q.addressee) + '</p>' : '')
      + '<p>cue: ' + esc(q.cue || 'none') + '</p><blockquote>' + esc(q.content) + '</blockquote>';
  }
  // a mention named in the details (an argument, a speaker): a link that marks it in the text
  function ref(id, label) {
    return '<a href="#m-' + encodeURIComponent(id) + '" class="ref" data-ref="' + esc(id) + '">' + esc(label) + '</a>';
  }
  function mark(ids) {
    document.querySelectorAll('.text .hl').forEach(function (el) { el.classList.remove('hl'); });
    ids.forEach(function (id) {
      document.querySelectorAll('.text .m[data-m="' + CSS.escape(id) + '"]').forEach(function (el) { el.classList.add('hl'); });
    });
  }
  function related(t) {
    if (t.classList.contains('ev')) return (data.events[t.dataset.e] || {arguments: []}).arguments.map(function (a) { return a.mention; });
    if (t.classList.contains('q')) { var q = data.quotes[t.dataset.q] || {}; return [q.speaker_id, q.addressee_id].filter(Boolean); }
    return [t.dataset.m];  // a mention: itself, in all its pieces
  }
  function pick(ev) {
    var t = ev.target.closest('.m, .ev, .q'); if (!t) return;
    ev.stopPropagation();
    if (t.classList.contains('m') && !document.body.classList.contains('hide-mentions')) show(mentionHtml(t.dataset.m));
    else if (t.classList.contains('ev') && !document.body.classList.contains('hide-events')) show(eventHtml(t.dataset.e));
    else if (t.classList.contains('q') && !document.body.classList.contains('hide-quotes')) show(quoteHtml(t.dataset.q));
    else return;
    mark(related(t));
  }
  panel.addEventListener('click', function (ev) {
    var a = ev.target.closest('a.ref'); if (!a) return;
    ev.preventDefault();
    mark([a.dataset.ref]);
    var el = document.getElementById('m-' + a.dataset.ref);
    if (el) { el.scrollIntoView({block: 'center'}); el.focus({preventScroll: true}); mark([a.dataset.ref]); }
  });
  function fromHash() {
    var id = decodeURIComponent(location.hash.replace(/^#m-/, ''));
    if (location.hash.indexOf('#m-') === 0 && data.mentions[id]) { mark([id]); show(mentionHtml(id)); }
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
  var text = document.querySelector('.text');
  text.addEventListener('click', pick);
  text.addEventListener('focusin', pick);
  text.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { pick(ev); ev.preventDefault(); } });
  document.querySelectorAll('.toggles input').forEach(function (box) {
    box.addEventListener('change', function () { document.body.classList.toggle('hide-' + box.value, !box.checked); });
  });
})();
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _json_for_script(value) -> str:
    """JSON that cannot end its <script> element early."""
    return (json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026"))


def _page(title: str, body: str, depth: int, body_class: str = "", script: str = "") -> str:
    up = "../" * depth
    return (f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)} · peacetalks</title><link rel=\"stylesheet\" href=\"{up}style.css\"></head>"
            f"<body class=\"{body_class}\"><a class=\"skip\" href=\"#main\">Skip to content</a>"
            f"<header><nav aria-label=\"site\"><a href=\"{up}index.html\">Documents</a>"
            f"<a href=\"{up}entities.html\">Entities</a><a href=\"{up}events.html\">Cross-document events</a>"
            f"<a href=\"{up}stats.html\">Statistics</a></nav></header>"
            f"<main id=\"main\">{body}</main>{script}</body></html>\n")


def _table(header: list[str], rows: list[list[str]], caption: str | None = None, cls: str = "") -> str:
    head = "".join(f"<th scope=\"col\">{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    cap = f"<caption>{_e(caption)}</caption>" if caption else ""
    return f"<table class=\"{cls}\">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


# ---------------------------------------------------------------- document text

def _render_text(text: str, anns: list[dict]) -> str:
    """Text with annotations as nested elements; crossing spans are split (later pieces get class 'cont').

    ``anns``: dicts with start, end, open (the opening tag for a piece, with a
    placeholder ``{first}`` for the attribute on the first piece), close, tag (html
    shown at the end of the last piece, or "").
    """
    breaks = {i for i, ch in enumerate(text) if ch == "\n"}
    cuts = sorted({0, len(text)} | {a["start"] for a in anns} | {a["end"] for a in anns}
                  | breaks | {i + 1 for i in breaks})
    order = sorted(range(len(anns)), key=lambda i: (anns[i]["start"], -anns[i]["end"], anns[i]["rank"]))
    out, stack, opened = [], [], set()
    for a, b in zip(cuts, cuts[1:]):
        if a == b:
            continue
        if a in breaks:  # a paragraph break: close everything (with the label of what ends here), reopen after it
            for i in reversed(stack):
                if anns[i]["end"] <= a and anns[i]["tag"]:
                    out.append(anns[i]["tag"])
                out.append(anns[i]["close"])
            stack = []
            out.append("</p><p>")
            continue
        want = [i for i in order if anns[i]["start"] <= a and anns[i]["end"] >= b]
        keep = 0
        while keep < len(stack) and keep < len(want) and stack[keep] == want[keep]:
            keep += 1
        for i in reversed(stack[keep:]):
            ann = anns[i]
            if ann["end"] <= a and ann["tag"]:
                out.append(ann["tag"])
            out.append(ann["close"])
        stack = stack[:keep]
        for i in want[keep:]:
            first = i not in opened
            anchor = f" id=\"{anns[i]['anchor']}\"" if first and anns[i].get("anchor") else ""
            out.append(anns[i]["open"].replace("{first}", f" data-first=\"1\"{anchor}" if first else " data-cont=\"1\"")
                       .replace("{cls}", "" if first else " cont"))
            opened.add(i)
            stack.append(i)
        out.append(_e(text[a:b]))
    for i in reversed(stack):
        if anns[i]["tag"]:
            out.append(anns[i]["tag"])
        out.append(anns[i]["close"])
    return "<p>" + "".join(out) + "</p>"


def _speaker(mention_id: str | None, mentions: list[dict], entities: dict) -> str | None:
    """A quote's speaker as shown: the mention's text and, for a pronoun or nominal, whom it resolves to."""
    m = next((m for m in mentions if m["id"] == mention_id), None)
    if m is None:
        return None
    name = entities.get(m["entity"], {}).get("name")
    return m["text"] + (f" ({name})" if name and name != m["text"] else "")


#: the layers this viewer draws in a way of its own (mentions as typed boxes, event triggers, quotes with
#: their cues, flags above the text); any other layer of the layer table is drawn by ``_layer_spans`` and
#: listed by ``_layer_table``, from its definition alone
DRAWN = frozenset({"mentions", "events", "quotes", "flags"})


def _value(row: dict, key: str, layer: Layer, rows: dict) -> str:
    """An entry's value of one of its keys as shown: a span as its text; a list of the entry's own (an
    event's arguments, a table of its own: ``annotations.CHILDREN``) by its items' fields."""
    part = next((p for p in layer.spans if p.key == key), None)
    if part is not None:
        return _e(row.get(part.columns()[2]) or "–")
    child = next((c for c in CHILDREN if c[0] == layer.name and c[1] == key), None)
    if child is not None:
        fields = [f.name for f in layer.struct.field(key).type.value_type]
        return "; ".join(", ".join(_e(item[f]) for f in fields if item.get(f) is not None)
                         for item in rows.get(key, []) if item[child[2]] == row["index"]) or "–"
    return _e("–" if row.get(key) is None else row[key])


def _layer_spans(layer: Layer, entries: list[dict]) -> list[dict]:
    """The spans of a layer the viewer has no drawing of its own for, as ``_render_text`` takes them:
    every span part of every entry, titled with the entry's id and labels."""
    anns = []
    for row in entries:
        label = " ".join(str(row[c]) for c in layer.labels if row.get(c) is not None)
        name = f"{layer.item} {row.get('id') or ''} {label}".strip()
        for part in layer.spans:
            start, end, _ = part.columns()
            if row.get(start) is None or row.get(end) is None:
                continue
            anns.append({"start": row[start], "end": row[end], "rank": 4, "close": "</span>", "tag": "",
                         "open": f"<span class=\"ly ly-{_e(layer.name)}{{cls}}\" title=\"{_e(name)}\"{{first}}>"})
    return anns


def _layer_table(layer: Layer, rows: dict) -> str:
    """A layer's entries in a document (``rows``: the document's rows of every table), one row each, a
    column per key of its entries (``Layer.keys``)."""
    entries = rows.get(layer.name, [])
    return (f"<h2>{_e(layer.title or layer.name)} ({len(entries)})</h2>"
            + _table(list(layer.keys), [[_value(row, key, layer, rows) for key in layer.keys] for row in entries],
                     cls=f"layer-{layer.name}"))


def _doc_page(doc: dict, rows: dict, ctx: dict) -> str:
    text, doc_id = doc["text"], doc["id"]
    ments, events, quotes, flags, args = rows["mentions"], rows["events"], rows["quotes"], rows["flags"], rows["arguments"]
    entities = ctx["entities"]
    anns = []
    for m in ments:
        timex = m["entity"] is None
        ent = entities.get(m["entity"], {})
        label = f"{m['type']}" + (f" {m['level']}" if m["level"] else "") + \
            (f": {ent.get('name')}" if not timex else (f" = {m['value']}" if m["value"] else ""))
        cls = f"m t-{m['type']}" + (" timex" if timex else f" lvl-{m['level']}")
        anns.append({"start": m["start"], "end": m["end"], "rank": 0, "anchor": f"m-{m['id']}",
                     "open": f"<span class=\"{cls}{{cls}}\" data-m=\"{_e(m['id'])}\" data-type=\"{_e(m['type'])}\" "
                             f"tabindex=\"0\" role=\"button\" title=\"{_e(label)}\" aria-label=\"{_e(label)}\"{{first}}>",
                     "close": "</span>", "tag": f"<span class=\"tag\" aria-hidden=\"true\">{_e(m['type'])}</span>"})
    for e in events:
        label = f"event {e['type']} ({e['realis']})"
        anns.append({"start": e["trigger_start"], "end": e["trigger_end"], "rank": 2, "anchor": f"e-{e['id']}",
                     "open": f"<span class=\"ev{{cls}}\" data-e=\"{_e(e['id'])}\" tabindex=\"0\" role=\"button\" "
                             f"title=\"{_e(label)}\" aria-label=\"{_e(label)}\"{{first}}>",
                     "close": "</span>", "tag": ""})
    mention_text = {m["id"]: m["text"] for m in ments}
    for q in quotes:
        speaker = mention_text.get(q["speaker"])
        label = f"quote ({q['kind']})" + (f", speaker {speaker}" if speaker else "")
        anns.append({"start": q["content_start"], "end": q["content_end"], "rank": -1,
                     "open": f"<span class=\"q{{cls}}\" data-q=\"{_e(q['id'])}\" tabindex=\"0\" role=\"button\" "
                             f"title=\"{_e(label)}\" aria-label=\"{_e(label)}\"{{first}}>",
                     "close": "</span>", "tag": ""})
        if q["cue_start"] is not None:
            anns.append({"start": q["cue_start"], "end": q["cue_end"], "rank": 3,
                         "open": f"<span class=\"cue{{cls}}\" data-cue=\"{_e(q['id'])}\" title=\"cue of {_e(q['id'])}\"{{first}}>",
                         "close": "</span>", "tag": ""})
    others = [layer for layer in LAYER_TABLE if layer.name not in DRAWN]
    for layer in others:
        anns += _layer_spans(layer, rows.get(layer.name, []))
    body_text = _render_text(text, anns)
    if doc["title"] and text.startswith(doc["title"] + "\n") and body_text.startswith("<p>"):
        body_text = "<p class=\"headline\">" + body_text[3:]  # the headline is the text's first paragraph

    here = defaultdict(int)
    for m in ments:
        if m["entity"]:
            here[m["entity"]] += 1
    data = {
        "mentions": {m["id"]: ({"text": m["text"], "type": m["type"], "level": m["level"], "entity": m["entity"]}
                               if m["entity"] else {"text": m["text"], "type": m["type"], "value": m["value"]})
                     for m in ments},
        "entities": {k: {**entities[k], "here": v} for k, v in here.items() if k in entities},
        "events": {e["id"]: {"trigger": e["trigger_text"], "type": e["type"], "realis": e["realis"],
                             "modality": e["modality"], "xdoc": e["xdoc"],
                             "xdoc_name": ctx["xdoc"].get(e["xdoc"], {}).get("name"),
                             "arguments": [{"role": a["role"], "mention": a["mention"],
                                            "text": mention_text.get(a["mention"], a["mention"])}
                                           for a in args if a["event_index"] == e["index"]]} for e in events},
        "quotes": {q["id"]: {"kind": q["kind"], "content": q["content_text"], "cue": q["cue_text"],
                             "speaker": _speaker(q["speaker"], ments, entities), "speaker_id": q["speaker"],
                             "addressee": _speaker(q["addressee"], ments, entities), "addressee_id": q["addressee"]}
                   for q in quotes},
    }
    legend = "".join(
        f"<li><span class=\"m t-{t}{'' if t not in ('DATE', 'TIME') else ' timex'}\">{t}</span> "
        f"{_e(ctx['labels'].get(t, ''))}</li>" for t in TYPE_COLOURS)
    toggles = "".join(f"<label><input type=\"checkbox\" value=\"{v}\" checked> {_e(n)}</label>" for v, n in (
        ("mentions", "Entity mentions"), ("timex", "Time expressions"), ("events", "Events"),
        ("quotes", "Quotes"), *((layer.name, layer.title or layer.name) for layer in others),
        ("labels", "Type labels")))
    meta = " · ".join(_e(x) for x in (doc["outlet"], doc["author"], doc["date"]) if x) or "no outlet or date stated"
    flag_html = "".join(f"<div class=\"flag\"><strong>{_e(f['code'])}</strong>: {_e(f['note'])}</div>" for f in flags)
    ev_rows = [[_e(e["id"]), _e(e["trigger_text"]), _e(e["type"]), _e(e["realis"]) + (f" ({_e(e['modality'])})" if e["modality"] else ""),
                "; ".join(f"{_e(a['role'])}: {_e(mention_text.get(a['mention'], a['mention']))}"
                          for a in args if a["event_index"] == e["index"]),
                f"<a href=\"../event/{_e(e['xdoc'])}.html\">{_e(e['xdoc'])}</a>" if e["xdoc"] else ""] for e in events]
    q_rows = [[_e(q["id"]), _e(q["kind"]), f"<span class=\"speaker\">{_e(mention_text.get(q['speaker'], '–'))}</span>",
               _e(q["cue_text"] or "–"), _e(q["content_text"])] for q in quotes]
    body = (f"<h1>{_e(doc['title'] or doc_id)}</h1><p>{meta} · <code>{_e(doc_id)}</code></p>{flag_html}"
            f"<div class=\"layout\"><article class=\"text\" aria-label=\"annotated text\">{body_text}</article>"
            f"<aside><h2>Layers</h2><fieldset class=\"toggles\"><legend>Show</legend>{toggles}</fieldset>"
            f"<h2>Details</h2><div id=\"details\" aria-live=\"polite\">Click or focus a highlighted span.</div>"
            f"<h2>Legend</h2><ul class=\"legend\">{legend}<li><span class=\"ev\">event</span> trigger</li>"
            f"<li><span class=\"q\">quote</span> with its <span class=\"cue\">cue</span></li>"
            f"<li>solid border: name; dashed: nominal; dotted: pronoun; double: time</li></ul></aside></div>"
            f"<h2>Events ({len(events)})</h2>" + _table(["id", "trigger", "type", "realis", "arguments", "cross-document"], ev_rows)
            + f"<h2>Quotes ({len(quotes)})</h2>" + _table(["id", "kind", "speaker", "cue", "content"], q_rows, cls="quotes")
            + "".join(_layer_table(layer, rows) for layer in others))
    script = (f"<script type=\"application/json\" id=\"layer-data\">{_json_for_script(data)}</script>"
              f"<script src=\"../view.js\"></script>")
    return _page(doc["title"] or doc_id, body, 1, script=script)


# ---------------------------------------------------------------- plots

def _bars(title: str, items: list[tuple[str, int]], width: int = 560) -> str:
    """A horizontal bar chart as inline SVG, with the numbers written out (accessible without colour)."""
    bar_h, pad = 18, 4
    label_w = max([len(label) for label, _ in items] or [10]) * 7 + 14  # 11px system-ui: under 7px a character
    width = max(width, label_w + 260)
    height = max(1, len(items)) * (bar_h + pad) + 30
    top = max([v for _, v in items] or [1]) or 1
    parts = [f"<svg role=\"img\" aria-label=\"{_e(title)}\" width=\"{width}\" height=\"{height}\" "
             f"viewBox=\"0 0 {width} {height}\" xmlns=\"http://www.w3.org/2000/svg\"><title>{_e(title)}</title>"
             f"<text x=\"0\" y=\"14\" font-weight=\"600\">{_e(title)}</text>"]
    for n, (label, value) in enumerate(items):
        y = 24 + n * (bar_h + pad)
        w = int((width - label_w - 50) * value / top)
        parts.append(f"<text x=\"{label_w - 6}\" y=\"{y + 13}\" text-anchor=\"end\">{_e(label)}</text>"
                     f"<rect x=\"{label_w}\" y=\"{y}\" width=\"{w}\" height=\"{bar_h}\" fill=\"#4a90c2\"></rect>"
                     f"<text x=\"{label_w + w + 4}\" y=\"{y + 13}\">{value}</text>")
    parts.append("</svg>")
    return "".join(parts)


def figures(stats: dict) -> dict[str, str]:
    """The statistics figures, by file name: the same numbers as ``peacetalks stats``."""
    lab = stats["labels"]
    mention_types = {}
    for by_type in lab["mentions"].values():
        for t, v in by_type.items():
            mention_types[t] = mention_types.get(t, 0) + v
    mention_types.update(lab["time_expressions"])
    return {
        "mention-types.svg": _bars("Mentions by type", list(mention_types.items())),
        "mentions-per-document.svg": _bars("Mentions per document", [
            (d["document"], d["NAM"] + d["NOM"] + d["PRO"] + d["timex"]) for d in stats["documents"]]),
        "entity-frequency.svg": _bars("Entities by number of mentions",
                                      [(e["entity"], e["mentions"]) for e in stats["entities_by_mentions"]]),
        "quote-kinds.svg": _bars("Quote kinds", list(lab["quotes"].items())),
        "event-types.svg": _bars("Event types", list(lab["events"].items())),
        "realis.svg": _bars("Event realis", list(lab["realis"].items())),
    }


# ---------------------------------------------------------------- site

def _kwic(text: str, start: int, end: int, width: int = 60) -> tuple[str, str, str]:
    """Left context, hit, right context: about ``width`` characters each side, cut between words."""
    lo = max(0, start - width)
    if lo > 0:
        space = text.find(" ", lo, start)
        lo = space + 1 if space != -1 else lo
    hi = min(len(text), end + width)
    if hi < len(text):
        space = text.rfind(" ", end, hi)
        hi = space if space != -1 else hi
    left, right = text[lo:start].replace("\n", " "), text[end:hi].replace("\n", " ")
    return (_e(("… " if lo > 0 else "") + left), _e(text[start:end]), _e(right + (" …" if hi < len(text) else "")))


SITE_MARKER = ".peacetalks-site"


def is_site(folder: Path) -> bool:
    """Whether ``folder`` is a site that ``write_site`` wrote (and so may replace)."""
    return (folder / SITE_MARKER).is_file() and not (folder / SITE_MARKER).is_symlink()


def add_site(result: Result, release: Path) -> Path:
    """The site in a release's folder, as ``site/`` (``release.build``'s ``extra``, for ``build --site``)."""
    return write_site(result, release / "site")


def write_site(result: Result, out: Path) -> Path:
    """Write the site to ``out`` (replaced atomically) and return its index page."""
    t = result.tables
    docs = pl.from_arrow(t.documents).sort("id").to_dicts()
    frames = {name: pl.from_arrow(getattr(t, name)) for name in DOCUMENT_TABLES}  # (every layer, its entries' lists)
    entities_df = pl.from_arrow(t.entities)
    xdoc_df = pl.from_arrow(t.xdoc_events)
    stats = compute(result, top=20)
    counts = pl.from_arrow(t.mentions).filter(pl.col("entity").is_not_null()).group_by("entity").agg(
        pl.len().alias("mentions"), pl.col("document").n_unique().alias("documents"))
    counts = {r["entity"]: r for r in counts.to_dicts()}
    entities = {r["id"]: {"name": r["name"], "type": r["type"], "wikidata": r["wikidata"],
                          "mentions": counts.get(r["id"], {}).get("mentions", 0),
                          "documents": counts.get(r["id"], {}).get("documents", 0)} for r in entities_df.to_dicts()}
    xdoc = {r["id"]: r for r in xdoc_df.to_dicts()}
    labels = {lab.name: lab.title for key in ("EntityType", "TimexType") for lab in result.labels[key].labels}
    ctx = {"entities": entities, "xdoc": xdoc, "labels": labels}
    by_document = {name: {key[0]: part for key, part in f.sort(
        "document", *(["event_index"] if "event_index" in f.columns else []), "index", maintain_order=True).partition_by(
        "document", as_dict=True, maintain_order=True).items()} if f.height else {} for name, f in frames.items()}
    rows = {d["id"]: {name: parts[d["id"]].to_dicts() if d["id"] in parts else []
                      for name, parts in by_document.items()} for d in docs}  # (one pass per layer, not per document)
    out = Path(out)
    check_output(out, is_site, "a site that `peacetalks view` wrote (it has no .peacetalks-site marker)")
    tmp = temp_dir_beside(out)
    try:
        (tmp / SITE_MARKER).write_text("A static site written by `peacetalks view`; it replaces this folder "
                                       "when asked to write here again.\n", "utf-8")
        (tmp / "doc").mkdir()
        (tmp / "entity").mkdir()
        (tmp / "event").mkdir()
        (tmp / "figures").mkdir()
        (tmp / "style.css").write_text(CSS, "utf-8")
        (tmp / "view.js").write_text(JS, "utf-8")
        texts = {d["id"]: d["text"] for d in docs}
        others = [layer for layer in LAYER_TABLE if layer.name not in DRAWN]  # (drawn from the layer table alone)
        for d in docs:
            (tmp / "doc" / f"{d['id']}.html").write_text(_doc_page(d, rows[d["id"]], ctx), "utf-8")

        # index
        per_doc = {r["document"]: r for r in stats["documents"]}
        doc_rows = []
        for d in docs:
            c = per_doc.get(d["id"], {})
            flags = rows[d["id"]]["flags"]
            doc_rows.append([f"<a href=\"doc/{_e(d['id'])}.html\">{_e(d['title'] or d['id'])}</a>",
                             _e(d["outlet"] or "–"), _e(d["date"] or "–"),
                             str(c.get("NAM", 0) + c.get("NOM", 0) + c.get("PRO", 0)), str(c.get("timex", 0)),
                             str(c.get("events", 0)), str(c.get("quotes", 0)),
                             *(str(len(rows[d["id"]].get(layer.name, []))) for layer in others),
                             "<br>".join(f"{_e(f['code'])}" for f in flags) or "–"])
        totals = "".join(f"<li>{_e(k.replace('_', ' '))}: {v}</li>" for k, v in stats["totals"].items())
        index = ("<h1>peacetalks corpus</h1><p>English news on European diplomacy around the Russia–Ukraine peace "
                 "talks, with hand-curated entity mentions, time expressions, events and quotes.</p>"
                 + _table(["document", "outlet", "date", "mentions", "time expressions", "events", "quotes",
                           *(layer.title or layer.name for layer in others), "quality flags"], doc_rows,
                          caption="Documents") + f"<h2>Corpus totals</h2><ul>{totals}</ul>")
        (tmp / "index.html").write_text(_page("Documents", index, 0), "utf-8")

        # entity pages
        mentions = frames["mentions"].filter(pl.col("entity").is_not_null()).sort("document", "start")
        ent_rows = []
        for eid, ent in sorted(entities.items()):
            hits = mentions.filter(pl.col("entity") == eid).to_dicts()
            kwic = [[f"<a href=\"../doc/{_e(h['document'])}.html#m-{_e(h['id'])}\">{_e(h['document'])}</a>", _e(h["level"] or ""),
                     *(lambda l, m, r: [l, f"<span class=\"hit\">{m}</span>", r])(*_kwic(texts[h["document"]], h["start"], h["end"]))]
                    for h in hits]
            wd = (f"<a href=\"https://www.wikidata.org/wiki/{_e(ent['wikidata'])}\">{_e(ent['wikidata'])}</a>"
                  if ent["wikidata"] else "no certain Wikidata id")
            body = (f"<h1>{_e(ent['name'])}</h1><p>{_e(ent['type'])} · {wd} · <code>{_e(eid)}</code></p>"
                    f"<p>{ent['mentions']} mention(s) in {ent['documents']} document(s)</p>"
                    + _table(["document", "level", "before", "mention", "after"], kwic, cls="kwic"))
            (tmp / "entity" / f"{eid}.html").write_text(_page(ent["name"], body, 1), "utf-8")
            ent_rows.append([f"<a href=\"entity/{_e(eid)}.html\">{_e(ent['name'])}</a>", _e(ent["type"]),
                             _e(ent["wikidata"] or "–"), str(ent["mentions"]), str(ent["documents"])])
        (tmp / "entities.html").write_text(_page("Entities", "<h1>Entities</h1>" + _table(
            ["entity", "type", "Wikidata", "mentions", "documents"], ent_rows), 0), "utf-8")

        # cross-document event pages
        ev = frames["events"].filter(pl.col("xdoc").is_not_null()).sort("document", "trigger_start")
        x_rows = []
        for xid, x in sorted(xdoc.items()):
            hits = ev.filter(pl.col("xdoc") == xid).to_dicts()
            kwic = [[f"<a href=\"../doc/{_e(h['document'])}.html#e-{_e(h['id'])}\">{_e(h['document'])}</a>", _e(h["type"]), _e(h["realis"]),
                     *(lambda l, m, r: [l, f"<span class=\"hit\">{m}</span>", r])(*_kwic(texts[h["document"]], h["trigger_start"], h["trigger_end"]))]
                    for h in hits]
            body = (f"<h1>{_e(x['name'])}</h1><p>{_e(x['description'])}</p><p>date: {_e(x['date'] or 'unknown')} · "
                    f"<code>{_e(xid)}</code></p>" + _table(["document", "type", "realis", "before", "trigger", "after"],
                                                           kwic, cls="kwic"))
            (tmp / "event" / f"{xid}.html").write_text(_page(x["name"], body, 1), "utf-8")
            x_rows.append([f"<a href=\"event/{_e(xid)}.html\">{_e(x['name'])}</a>", _e(x["date"] or "–"), str(len(hits)),
                           str(len({h["document"] for h in hits}))])
        (tmp / "events.html").write_text(_page("Cross-document events", "<h1>Cross-document events</h1>" + _table(
            ["event", "date", "event mentions", "documents"], x_rows), 0), "utf-8")

        # statistics
        figs = figures(stats)
        for name, svg in figs.items():
            (tmp / "figures" / name).write_text(svg, "utf-8")
        body = "<h1>Statistics</h1><p>The figures of <code>peacetalks stats</code>.</p>" + "".join(
            f"<figure><img src=\"figures/{name}\" alt=\"{_e(name[:-4].replace('-', ' '))}\"></figure>" for name in figs)
        (tmp / "stats.html").write_text(_page("Statistics", body, 0), "utf-8")

        put_in_place(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out / "index.html"
