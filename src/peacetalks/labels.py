"""The label inventories, read from schema/labels.json (their one source of truth)."""

from __future__ import annotations

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
