"""Importing results measured elsewhere: CSV and JSON Lines, bad rows skipped by line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rolecast.errors import ConfigError
from rolecast.profiles.imports import read_results
from rolecast.storage.records import StepRecord


def test_csv_round_trip(tmp_path: Path) -> None:
    file = tmp_path / "results.csv"
    file.write_text(
        "candidate,role,case_id,score,success,step_index,tokens_in,tokens_out,latency_s\n"
        "mixtral,planner,toolalpaca/Nager.Date/3,1,,0,812,9,0.42\n"
        "mixtral,caller,toolalpaca/Nager.Date/3,0.4,true,1,,,\n"
    )
    records, skipped = read_results(file)
    assert skipped == []
    assert records == [
        StepRecord(
            candidate="mixtral",
            fingerprint="import:mixtral",
            role="planner",
            prompt_version="import",
            case_id="toolalpaca/Nager.Date/3",
            case_hash="id:toolalpaca/Nager.Date/3",
            step_index=0,
            success=True,
            score=1.0,
            tokens_in=812,
            tokens_out=9,
            latency_s=0.42,
            source="import:results.csv",
        ),
        StepRecord(
            candidate="mixtral",
            fingerprint="import:mixtral",
            role="caller",
            prompt_version="import",
            case_id="toolalpaca/Nager.Date/3",
            case_hash="id:toolalpaca/Nager.Date/3",
            step_index=1,
            success=True,  # given, although score < 0.5
            score=0.4,
            source="import:results.csv",
        ),
    ]


def test_jsonl_round_trip(tmp_path: Path) -> None:
    rows = [
        {
            "candidate": "flan-ul2",
            "role": "extractor",
            "case_id": "jsonrag/fishapi/1",
            "score": 0.25,
        },
        {
            "candidate": "flan-ul2",
            "role": "responder",
            "case_id": "c",
            "score": 0.5,
            "success": False,
        },
    ]
    file = tmp_path / "results.jsonl"
    file.write_text("\n".join(json.dumps(row) for row in rows))
    records, skipped = read_results(file)
    assert skipped == []
    assert [(r.role, r.score, r.success, r.step_index) for r in records] == [
        ("extractor", 0.25, False, 0),  # default success: score >= 0.5
        ("responder", 0.5, False, 0),
    ]
    assert {r.source for r in records} == {"import:results.jsonl"}


def test_bad_csv_rows_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    file = tmp_path / "scores.csv"
    file.write_text(
        "candidate,role,case_id,score\n"
        "a,planner,c1,0.9\n"
        "a,summarizer,c1,0.9\n"
        "a,caller,,0.9\n"
        "a,caller,c1,high\n"
        "a,caller,c1,1.5\n"
        "\n"
        "a,planner,c1,0.1\n"
        "a,caller,c2\n"
        "a,caller,c3,0.5,extra\n"
        "b,caller,c1,0\n"
    )
    records, skipped = read_results(file)
    assert [(r.candidate, r.role, r.case_id, r.score) for r in records] == [
        ("a", "planner", "c1", 0.9),
        ("b", "caller", "c1", 0.0),
    ]
    lines = [s.record for s in skipped]
    assert lines == [f"scores.csv:{n}" for n in (3, 4, 5, 6, 8, 9, 10)]
    reasons = [s.reason for s in skipped]
    assert reasons[0].startswith("role: Input should be 'planner', 'caller', 'extractor'")
    assert reasons[1] == "missing value for case_id"
    assert reasons[2].startswith("score: Input should be a valid number")
    assert reasons[3].startswith("score: Input should be less than or equal to 1")
    assert reasons[4] == "repeats candidate/role/case_id/step_index of line 2"
    assert reasons[5] == "fewer values than the 4 columns"
    assert reasons[6] == "more values than the 4 columns"


def test_bad_jsonl_rows_are_skipped_with_line_numbers(tmp_path: Path) -> None:
    file = tmp_path / "scores.jsonl"
    good = {"candidate": "a", "role": "caller", "case_id": "c1", "score": 1}
    file.write_text(
        "\n".join(
            [
                json.dumps(good),
                '{"candidate": "a", ',
                json.dumps({**good, "case_id": "c2", "scroe": 1}),
                json.dumps({**good, "case_id": "c3", "score": None}),
                json.dumps({**good, "case_id": "c4", "score": True}),
                json.dumps([1, 2]),
            ]
        )
    )
    records, skipped = read_results(file)
    assert [r.case_id for r in records] == ["c1"]
    messages = [str(s) for s in skipped]
    assert messages[0].startswith("scores.jsonl:2: malformed JSON")
    assert messages[1].startswith("scores.jsonl:3: unknown key 'scroe'; allowed keys: ")
    assert messages[2] == "scores.jsonl:4: missing value for score"
    assert messages[3] == "scores.jsonl:5: score True is not a number in [0, 1]"
    assert messages[4] == "scores.jsonl:6: not a JSON object"


def test_whole_file_problems(tmp_path: Path) -> None:
    header = tmp_path / "header.csv"
    header.write_text("candidate,role,case,score\na,planner,c,1\n")
    with pytest.raises(ConfigError, match=r"missing column.*case_id; unknown column.*case"):
        read_results(header)
    nothing = tmp_path / "nothing.csv"
    nothing.write_text("candidate,role,case_id,score\na,boss,c,1\n")
    with pytest.raises(ConfigError, match=r"nothing\.csv: no valid result rows; first problem"):
        read_results(nothing)
    with pytest.raises(ConfigError, match=r"must be a \.csv or \.jsonl"):
        read_results(tmp_path / "results.xlsx")
    with pytest.raises(ConfigError, match="file not found"):
        read_results(tmp_path / "absent.csv")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(b"candidate,role,case_id,score\ncaf\xe9,planner,c,1\n")
    with pytest.raises(ConfigError, match=r"latin1\.csv: not UTF-8"):
        read_results(latin1)
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(ConfigError, match=r"folder\.csv: is a folder"):
        read_results(tmp_path / "folder.csv")


def test_importing_again_replaces_rows_instead_of_adding(tmp_path: Path, monkeypatch, capsys):
    from _helpers import cli

    from rolecast.storage import ProfileStore, resolve_db_url

    file = tmp_path / "results.csv"
    header = "candidate,role,case_id,score\n"
    file.write_text(header + "ext,planner,u01,0.2\next,caller,u01,1\n")
    assert cli(monkeypatch, capsys, "import", str(file))[0] == 0
    file.write_text(header + "ext,planner,u01,0.9\n")  # corrected score
    code, out, err = cli(monkeypatch, capsys, "import", str(file))
    assert code == 0, err
    assert "imported 1 step(s)" in out
    with ProfileStore(resolve_db_url(None)) as store:
        steps = store.steps(candidates=["ext"])
    assert [(s.role, s.score, s.success) for s in steps] == [
        ("caller", 1.0, True),  # not in the new file: kept
        ("planner", 0.9, True),
    ]


# Spellings of each column, valid and not, as a CSV cell (str) or a JSON value.
SPELLINGS: dict[str, list[object]] = {
    "candidate": ["m", "model-01", " m", "m ", "", 7, None, ["m"]],
    "role": ["planner", "caller", "extractor", "responder", "Planner", "judge", "", 1],
    "case_id": ["c/1", "toolalpaca/Nager.Date/3", " c", "", 3, None],
    "score": ["0.5", 1, "0", "1", "0.499", "0.123456789012345678", "1.0", "1.5", "00.5", ".5",
              "1e-3", "-0.1", "nan", "inf", "1" * 400, "", "abc", 0, 1, 2, 0.25, -0.5, True,
              float("nan"), 10**400, None],
    "success": ["true", "false", "True", "FALSE", "yes", "no", "1", "0", "", "maybe", True,
                False, 1, 0, None, ["x"]],
    "step_index": ["0", 3, "03", "-1", "1.0", "1_000", "9" * 20, "", 0, 5, -2, 1.0, True],
    "tokens_in": ["0", "812", "1e3", "", 12, 2.5, False],
    "tokens_out": ["9", "0", "x", 4],
    "latency_s": ["0", "0.42", "0.05", "12", "1e400", "-1", "inf", "NaN", "", 0.42, 3, -1.0,
                  float("inf"), True],
    "observed": ["true", "false", True],
    "given": ["planner", "caller"],
    "extra": ["x"],
}  # fmt: skip


def test_the_plain_spelling_fast_path_gives_what_full_validation_gives() -> None:
    """A row the fast path takes must be a valid row whose step is exactly ImportRow's."""
    import random

    from rolecast.profiles.imports import REQUIRED, _plain_record, _validated_record

    rng = random.Random(13)
    source = "import:r.csv"
    taken = 0
    for _ in range(20_000):
        row: dict[str, object] = {}
        for name, values in SPELLINGS.items():
            rare = name in ("observed", "given", "extra")
            if rng.random() < (0.05 if rare else 0.97 if name in REQUIRED else 0.7):
                common = rng.random() < 0.85  # the first two spellings are plain and valid
                row[name] = rng.choice(values[:2] if common else values)
        fast = _plain_record(row, source)
        full = _validated_record(row, source)
        if fast is not None:
            taken += 1
            assert fast == full, row
    assert taken > 2000  # the common spellings do take the fast path
    plain = {"candidate": "model-01", "role": "planner", "case_id": "bench/suite/case-0000001",
             "score": "0.123", "success": "false", "step_index": "0", "tokens_in": "301",
             "tokens_out": "21", "latency_s": "0.06"}  # fmt: skip
    assert _plain_record(plain, source) == _validated_record(plain, source)
