"""Drift between two scheduled runs, with hand-checked intervals."""

from __future__ import annotations

from rolecast.drift import Snapshot, compare
from rolecast.profiles.stats import wilson_interval


def snap(run_id, rates, coalition, fingerprints=None):
    """``rates``: {(role, candidate): (successes, n)}."""
    scores: dict = {}
    for (role, name), (k, n) in rates.items():
        scores.setdefault(role, {})[name] = wilson_interval(k, n)
    return Snapshot(run_id, scores, fingerprints or {"a": "fa", "b": "fb"}, coalition)


def test_only_shifts_beyond_the_intervals_count():
    # 2/20 has a 95% Wilson interval of about [0.03, 0.30], 18/20 about [0.70, 0.97]:
    # apart. 10/20 [0.30, 0.70] and 12/20 [0.39, 0.78] overlap: noise.
    before = snap(1, {("planner", "a"): (2, 20), ("planner", "b"): (10, 20)},
                  {"planner": "b"})  # fmt: skip
    after = snap(2, {("planner", "a"): (18, 20), ("planner", "b"): (12, 20)},
                 {"planner": "a"}, {"a": "fa2", "b": "fb"})  # fmt: skip
    report = compare(before, after)
    assert [(s.role, s.candidate, s.direction) for s in report.moved] == [("planner", "a", "up")]
    assert report.coalition_changed and report.refingerprinted == ["a"]
    assert report.to_json()["coalition_before"] == {"planner": "b"}


def test_same_pick_and_new_pairs():
    before = snap(1, {("planner", "a"): (5, 10)}, {"planner": "a"})
    after = snap(2, {("planner", "a"): (5, 10), ("caller", "a"): (3, 10)}, {"planner": "a"})
    report = compare(before, after)
    assert not report.coalition_changed and report.moved == []
    assert report.added == [("caller", "a")] and report.removed == []


def test_first_run_and_round_trip():
    first = snap(1, {("planner", "a"): (5, 10)}, {"planner": "a"})
    assert not compare(None, first).coalition_changed
    assert Snapshot.from_json(first.to_json()) == first


def test_the_scheduler_examples_match_the_exit_codes_and_load():
    """docs/scheduling: the CronJob's project loads, its failure policy follows the codes."""
    from pathlib import Path

    import yaml

    from rolecast.config import parse_model
    from rolecast.errors import InfrastructureError, RolecastError
    from rolecast.project import ProjectConfig
    from rolecast.scheduled import EXIT_COALITION_CHANGED

    docs = Path(__file__).resolve().parents[1] / "docs" / "scheduling"
    text = (docs / "cronjob.yaml").read_text()
    manifests = {doc["kind"]: doc for doc in yaml.safe_load_all(text)}
    assert set(manifests) == {"Secret", "ConfigMap", "PersistentVolumeClaim", "CronJob"}
    project = yaml.safe_load(manifests["ConfigMap"]["data"]["rolecast.yaml"])
    parse_model(ProjectConfig, project, "cronjob.yaml")
    job = manifests["CronJob"]["spec"]["jobTemplate"]["spec"]
    rules = {rule["action"]: rule for rule in job["podFailurePolicy"]["rules"]}
    assert rules["FailJob"]["onExitCodes"]["values"] == [
        RolecastError.exit_code, EXIT_COALITION_CHANGED
    ]
    assert rules["Count"]["onExitCodes"]["values"] == [InfrastructureError.exit_code]
    container = job["template"]["spec"]["containers"][0]
    assert container["args"][0] == "reprofile" and "ROLECAST_DB" in (
        manifests["Secret"]["stringData"]
    )
    service = (docs / "rolecast-reprofile.service").read_text()
    assert f"SuccessExitStatus={EXIT_COALITION_CHANGED}" in service
