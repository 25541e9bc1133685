"""The GitHub workflows run the same checks as `peacetalks check`, and the templates exist."""

from pathlib import Path

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


def test_a_scheduled_workflow_checks_the_wikidata_links_online():
    run, workflow = steps("links.yml")
    assert workflow[True]["schedule"] and "workflow_dispatch" in workflow[True]
    assert "annotations/entities.json" in workflow[True]["pull_request"]["paths"]
    assert "peacetalks links --online" in run


def test_templates():
    assert "peacetalks check" in (ROOT / ".github" / "PULL_REQUEST_TEMPLATE.md").read_text("utf-8")
    form = yaml.safe_load((ROOT / ".github" / "ISSUE_TEMPLATE" / "annotation-error.yml").read_text("utf-8"))
    assert {b["id"] for b in form["body"]} >= {"version", "document", "layer", "where", "problem"}


def test_the_workflows_pass_the_zizmor_audit_with_no_medium_or_high_finding():
    import shutil
    import subprocess
    import sys
    zizmor = shutil.which("zizmor") or str(Path(sys.executable).parent / "zizmor")
    result = subprocess.run([zizmor, "--offline", "--min-severity", "medium", "--format", "plain",
                             str(ROOT / ".github" / "workflows")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_action_is_pinned_to_a_commit_with_its_version_and_no_credentials_persist():
    import re
    for name in ("ci.yml", "release.yml", "links.yml"):
        text = (ROOT / ".github" / "workflows" / name).read_text("utf-8")
        uses = re.findall(r"uses: (\S+)(.*)", text)
        assert uses and all(re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", u) and re.search(r"# v\d", c) for u, c in uses)
        workflow = yaml.safe_load(text)
        assert workflow["permissions"] == {}
        for job in workflow["jobs"].values():
            assert job["permissions"]  # least privilege, per job
            checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
            assert checkout["with"]["persist-credentials"] is False
