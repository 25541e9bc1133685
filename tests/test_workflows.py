"""The GitHub workflows run the same checks as `peacetalks check`, and the templates exist."""

import yaml

from conftest import ROOT


def steps(name):
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text("utf-8"))
    [job] = workflow["jobs"].values()
    return "\n".join(step.get("run", "") for step in job["steps"]), workflow


def test_pull_requests_run_every_check():
    run, workflow = steps("ci.yml")
    assert "pull_request" in workflow[True]  # YAML reads the key `on` as True
    for command in ("pip install -e '.[test]'", "peacetalks validate --no-cache --format github", "peacetalks fmt --check",
                    "peacetalks ingest --check", "peacetalks build", "peacetalks verify", "python -m pytest"):
        assert command in run, command
    assert "peacetalks check --no-cache" in (ROOT / ".ci" / "run").read_text("utf-8")


def test_the_release_workflow_builds_twice_compares_verifies_and_publishes():
    run, workflow = steps("release.yml")
    assert workflow[True]["push"]["tags"] == ["v*.*.*"]
    assert run.count("peacetalks build --no-cache") == 2 and "diff a.sha256 b.sha256" in run
    assert "peacetalks verify" in run and "peacetalks publish" in run


def test_templates():
    assert "peacetalks check" in (ROOT / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text("utf-8")
    form = yaml.safe_load((ROOT / ".github" / "ISSUE_TEMPLATE" / "annotation-error.yml").read_text("utf-8"))
    assert {b["id"] for b in form["body"]} >= {"version", "document", "layer", "where", "problem"}
