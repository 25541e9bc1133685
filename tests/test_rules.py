"""The rule catalogue: every code documented, emitted somewhere, explained with a bad and a fixed example."""

import ast
import re

from conftest import ROOT

from peacetalks.cli import main
from peacetalks.diagnostics.rules import LEVELS, RULES

CODE = re.compile(f"[{''.join(LEVELS)}]\\d{{3}}")  # (the code families the catalogue defines)


def emitted_codes() -> set[str]:
    """Every problem code that appears as a string constant in the package, outside the catalogue."""
    found = set()
    for path in (ROOT / "src" / "peacetalks").rglob("*.py"):
        if path.name == "rules.py":
            continue
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE.fullmatch(node.value):
                found.add(node.value)
    return found


def test_every_catalogued_code_is_emitted_and_every_emitted_code_is_catalogued():
    emitted = emitted_codes()
    assert emitted - set(RULES) == set()
    assert set(RULES) - emitted == set()


def test_every_rule_has_an_explanation_and_examples(capsys):
    for code, rule in RULES.items():
        assert rule.explanation and rule.bad and rule.good and rule.bad != rule.good, code
        assert main(["rules", code]) == 0
        out = capsys.readouterr().out
        assert "Bad:" in out and "Fixed:" in out


def test_role_rules_show_the_role_inventory_and_fix_the_role(capsys):
    assert main(["rules", "R004"]) == 0
    out = capsys.readouterr().out
    assert "Contact.Phone: Participant" in out  # the listing the explanation mentions
    rule = RULES["R004"]
    assert re.search(r'"type": "([\w.]+)"', rule.bad).group(1) == re.search(r'"type": "([\w.]+)"', rule.good).group(1)


def test_examples_use_the_corpus_id_style():
    for code, rule in RULES.items():
        for ref in re.findall(r'"(?:speaker|addressee|mention)": "(\w+)"', rule.bad + rule.good):
            assert re.fullmatch(r"m\d+", ref), (code, ref)
