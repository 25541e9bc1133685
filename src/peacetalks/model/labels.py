"""The label inventories, read from schema/labels.json (their one source of truth)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import orjson


@dataclass(frozen=True)
class Label:
    name: str
    title: str
    description: str
    roles: dict[str, list[str]] = field(default_factory=dict)  # event types only
    wikidata_classes: dict[str, str] = field(default_factory=dict)  # entity types only: QID -> class label
    examples: tuple[str, ...] = ()  # corpus examples (x-examples), shown in GUIDELINES.md
    cue_stems: tuple[str, ...] = ()  # modality `alleged` only: beginnings of accusation cues (x-cue-stems)


@dataclass(frozen=True)
class Inventory:
    title: str
    description: str
    labels: tuple[Label, ...]

    @property
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    def __contains__(self, name: object) -> bool:
        return name in self.names


class Labels:
    """All inventories of schema/labels.json, in file order (which fixes ClassLabel ids)."""

    def __init__(self, path: Path):
        self.path = path
        self.raw = orjson.loads(path.read_bytes())
        self.schema_version: str = self.raw["x-schema-version"]
        self.inventories: dict[str, Inventory] = {}
        for key, definition in self.raw["$defs"].items():
            self.inventories[key] = Inventory(
                title=definition["title"],
                description=definition["description"],
                labels=tuple(
                    Label(
                        name=item["const"],
                        title=item["title"],
                        description=item["description"],
                        roles=item.get("x-roles", {}),
                        wikidata_classes=item.get("x-wikidata-classes", {}),
                        examples=tuple(item.get("x-examples", ())),
                        cue_stems=tuple(item.get("x-cue-stems", ())),
                    )
                    for item in definition["oneOf"]
                ),
            )

    def __getitem__(self, key: str) -> Inventory:
        return self.inventories[key]

    @cached_property
    def entity_types(self) -> list[str]:
        return self["EntityType"].names

    @cached_property
    def timex_types(self) -> list[str]:
        return self["TimexType"].names

    @cached_property
    def wikidata_classes(self) -> dict[str, dict[str, str]]:
        """Entity type -> the Wikidata classes (QID -> label) an entity of that type may be an instance of."""
        return {label.name: label.wikidata_classes for label in self["EntityType"].labels}

    @cached_property
    def alleged_cue_stems(self) -> list[str]:
        """Beginnings of the cues of accusations and contested claims (modality `alleged`, x-cue-stems)."""
        return [stem for label in self["Modality"].labels for stem in label.cue_stems]

    @cached_property
    def mention_types(self) -> list[str]:
        """Entity types, then time expression types: the NER label set."""
        return self.entity_types + self.timex_types

    @cached_property
    def event_roles(self) -> dict[str, dict[str, list[str]]]:
        """Event type -> role -> the mention types its filler may have."""
        return {label.name: label.roles for label in self["EventType"].labels}

    @cached_property
    def roles(self) -> list[str]:
        """Every role of any event type, in first-seen order (the ClassLabel for roles)."""
        seen: dict[str, None] = {}
        for roles in self.event_roles.values():
            seen.update(dict.fromkeys(roles))
        return list(seen)

    @cached_property
    def ner_tags(self) -> list[str]:
        """BIO tags, conll2003 style: O, then B-X, I-X for each mention type."""
        return ["O"] + [f"{p}-{t}" for t in self.mention_types for p in ("B", "I")]


GUIDELINE_BLOCK = "<!-- labels:{key} (generated from schema/labels.json by `peacetalks fmt`; edit labels.json) -->"
GUIDELINE_END = "<!-- /labels:{key} -->"


def inventory_table(labels: Labels, key: str) -> str:
    """The Markdown table of one inventory as GUIDELINES.md shows it: every label with its definition,
    its corpus examples and, for event types, its roles (with the mention types each role takes)."""
    inventory = labels[key]
    roles = any(label.roles for label in inventory.labels)
    head = ["label", "definition"] + (["roles (filler types)"] if roles else []) + ["corpus examples"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for label in inventory.labels:
        cells = [f"`{label.name}`", f"**{label.title}.** {label.description}"]
        if roles:
            cells.append("; ".join(f"{r} ({', '.join(t)})" for r, t in label.roles.items()))
        cells.append("; ".join(label.examples) or "–")
        rows.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(rows)


def refresh_guidelines(text: str, labels: Labels) -> tuple[str, list[str]]:
    """``text`` (GUIDELINES.md) with every generated label table rewritten from ``labels``; and the
    inventories it names that labels.json does not have."""
    unknown = []
    pattern = re.compile(r"<!-- labels:(\w+)[^\n]*-->\n.*?<!-- /labels:\1 -->", re.S)

    def table(m: re.Match) -> str:
        key = m.group(1)
        if key not in labels.inventories:
            unknown.append(key)
            return m.group(0)
        return f"{GUIDELINE_BLOCK.format(key=key)}\n{inventory_table(labels, key)}\n{GUIDELINE_END.format(key=key)}"
    return pattern.sub(table, text), unknown
