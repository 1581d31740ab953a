"""Case loaders: the real public data sets (when present) and bad input written to tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from rolecast.config import load_json_records
from rolecast.errors import ConfigError
from rolecast.profiles.loaders import LoadResult, load_cases
from rolecast.profiles.loaders.bfcl import bfcl_schema, canonical_call, load_bfcl
from rolecast.profiles.loaders.jsonrag import load_jsonrag, skeleton
from rolecast.profiles.loaders.native import load_native
from rolecast.profiles.loaders.toolalpaca import load_toolalpaca
from rolecast.profiles.metrics import json_paths
from rolecast.types import canonical_json

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_data = pytest.mark.skipif(
    not (DATA / "toolalpaca" / "eval_real.json").is_file(),
    reason=f"the public data sets are not at {DATA} (see shared/data/README.md)",
)


JSON_TYPES = {"object", "array", "string", "number", "integer", "boolean", "null"}


def _check_schemas(result: LoadResult, every: int = 1) -> None:
    """Tool schemas use standard JSON Schema types; every ``every``-th is meta-validated
    (``check_schema`` costs ~2 ms, too much for all of BFCL's ~2,000 distinct schemas)."""
    seen = sorted({canonical_json(t.parameters) for case in result.cases for t in case.tools})
    for index, text in enumerate(seen):
        schema = json.loads(text)
        assert schema["type"] == "object"
        _standard_types(schema)
        if index % every == 0:
            jsonschema.Draft202012Validator.check_schema(schema)


def _standard_types(schema: dict[str, Any]) -> None:
    kinds = schema.get("type", [])
    assert set([kinds] if isinstance(kinds, str) else kinds) <= JSON_TYPES, schema
    for sub in (schema.get("properties") or {}).values():
        _standard_types(sub)
    if isinstance(schema.get("items"), dict):
        _standard_types(schema["items"])


def _ids(result: LoadResult) -> list[str]:
    return [case.id for case in result.cases]


# ----------------------------------------------------------------------------- real data


@needs_data
def test_toolalpaca_eval_real_without_ibm() -> None:
    result = load_toolalpaca(DATA / "toolalpaca" / "eval_real.json")
    assert len(result.cases) + len(result.skipped) == 114
    assert len(result.cases) == 110
    assert len({case.id.split("/")[1] for case in result.cases}) == 11
    reasons = [str(s) for s in result.skipped]
    # Four CurrencyBeacon golds have a doubled key ("symbols": "symbols": [...]).
    assert len(reasons) == 4
    assert sum("API 'CurrencyBeacon'" in r and "not a valid JSON" in r for r in reasons) == 4
    assert all(r.startswith("eval_real.json: API ") for r in reasons)
    assert all(case.split == "profile" and case.source == "toolalpaca" for case in result.cases)
    assert all(case.answer is None for case in result.cases)


@needs_data
def test_toolalpaca_eval_real_with_ibm_answers_and_observations() -> None:
    result = load_toolalpaca(
        DATA / "toolalpaca" / "eval_real.json", ibm_dir=DATA / "ibm_coalitions"
    )
    # The study's corrected golds parse for CurrencyBeacon: all 114 instructions load.
    assert len(result.cases) == 114
    assert result.skipped == []
    assert all(case.answer for case in result.cases)
    steps = [step for case in result.cases for step in case.steps]
    observed = [step for step in steps if step.observation is not None]
    assert (len(steps), len(observed)) == (143, 58)
    assert sum(any(s.observation for s in case.steps) for case in result.cases) == 56
    assert any("58 of 143 gold steps" in note for note in result.notes)
    assert all(str(step.observation).startswith("Status Code: ") for step in observed)
    by_id = {case.id: case for case in result.cases}
    china = by_id["toolalpaca/Nager.Date/1"]
    assert china.steps[0].arguments == {"countryCode": "CN"}
    assert '"commonName":"China"' in china.steps[0].observation
    assert "China" in china.answer
    # The recorded call added "countyCode": "" and "offset": 0: not the gold call.
    assert by_id["toolalpaca/Nager.Date/0"].steps[0].observation is None
    # Credentials are neither arguments nor parameters.
    weather = by_id["toolalpaca/apilayer weatherstack/0"]
    assert "access_key" not in weather.steps[0].arguments
    assert "access_key" not in weather.tools[0].parameters["properties"]
    assert by_id["toolalpaca/AviationAPI/2"].steps[0].arguments["chart_name"] == "Arrivals"


@needs_data
def test_toolalpaca_nested_path_items_are_lifted_into_tools() -> None:
    # AviationAPI's spec nests five path items (and components) inside /preferred-routes;
    # its golds call them by ToolAlpaca's path rule (/weather/metar GET: weather_metar_get).
    result = load_toolalpaca(DATA / "toolalpaca" / "eval_real.json")
    metar = next(c for c in result.cases if c.id == "toolalpaca/AviationAPI/8")
    names = [tool.name for tool in metar.tools]
    assert names[:5] == [
        "airports_get", "charts_get", "charts_changes_get", "charts_afd_get",
        "preferred-routes_get",
    ]  # fmt: skip
    assert names[5:] == [
        "preferred-routes_search_get", "vatsim_pilots_get", "vatsim_controllers_get",
        "weather_metar_get", "weather_taf_get",
    ]  # fmt: skip
    assert [s.tool for s in metar.steps] == ["weather_metar_get"]
    assert metar.tool("weather_metar_get").parameters["required"] == ["apt"]
    routes = metar.tool("preferred-routes_search_get").parameters["properties"]
    assert {"origin", "dest", "type"} <= set(routes)
    # the other path items are untouched: /preferred-routes keeps only its own GET
    assert "origin" not in metar.tool("preferred-routes_get").parameters["properties"]
    [note] = [n for n in result.notes if "nests path items" in n]
    assert note.startswith("eval_real.json: API 'AviationAPI'") and "weather_taf_get" in note


def test_toolalpaca_repair_leaves_a_sound_spec_alone(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.0.0",
        "paths": {"/a": {"get": {"operationId": "a", "parameters": []}}},
    }
    api = {
        "Name": "Sound", "Documentation": json.dumps(spec),
        "Function_Projection": {"a_get": ["/a", "get"]},
        "Instructions": ["do a"], "Golden_Answers": [[{"Action": "a_get", "Action_Input": "{}"}]],
    }  # fmt: skip
    nested = json.loads(json.dumps(api))
    nested["Name"] = "Nested"
    nested_spec = {
        "openapi": "3.0.0",
        "paths": {
            "/a": {"get": {"parameters": []}, "/b": {"post": {"operationId": "makeB"}}},
            "components": {"schemas": {"X": {"type": "string"}}},
        },
    }
    nested["Documentation"] = json.dumps(nested_spec)
    nested["Golden_Answers"] = [[{"Action": "makeB", "Action_Input": "{}"}]]
    file = tmp_path / "eval_x.json"
    file.write_text(json.dumps([api, nested]))
    result = load_toolalpaca(file)
    by_name = {case.id.split("/")[1]: case for case in result.cases}
    assert [t.name for t in by_name["Sound"].tools] == ["a_get"]
    assert [t.name for t in by_name["Nested"].tools] == ["a_get", "makeB"]  # operationId wins
    assert len(result.notes) == 1 and "API 'Nested'" in result.notes[0]


@needs_data
def test_toolalpaca_schemas_are_json_schema() -> None:
    result = load_toolalpaca(DATA / "toolalpaca")  # the folder: eval_real and eval_simulated
    assert {case.tags[1] for case in result.cases} == {"eval_real", "eval_simulated"}
    _check_schemas(result)
    assert all(
        "$ref" not in canonical_json(tool.parameters) for c in result.cases for tool in c.tools
    )


@needs_data
def test_toolalpaca_eval_simulated_loads_every_instruction_or_says_why() -> None:
    result = load_toolalpaca(DATA / "toolalpaca" / "eval_simulated.json")
    assert len(result.cases) + len(result.skipped) == 100
    assert len(result.cases) == 67
    assert len({case.id.split("/")[1] for case in result.cases}) == 10
    reasons = [str(s) for s in result.skipped]
    # Placeholders for earlier outputs (${animeId from searchAnime}) are not JSON; the
    # pseudo-action getDetails (ask the user) and "[Optional]X" are not functions.
    assert sum("not a valid JSON object" in r for r in reasons) == 24
    assert sum("calls 'getDetails'" in r for r in reasons) == 8
    assert sum("calls '[Optional]updateUserProfile'" in r for r in reasons) == 1
    axolotl = next(c for c in result.cases if c.id == "toolalpaca/Axolotl/1")
    assert "gender" not in axolotl.steps[0].arguments  # "" = omitted optional


@needs_data
def test_bfcl_simple_python_loads_every_record() -> None:
    result = load_bfcl(DATA / "bfcl" / "BFCL_v4_simple_python.json")
    assert len(result.cases) == 400 and result.skipped == []
    for case in result.cases:
        assert case.tags == ["bfcl", "simple_python"]
        assert len(case.steps) == 1 and case.steps[0].accepted is not None
    factorial = next(c for c in result.cases if c.id == "bfcl/simple_python_1")
    assert factorial.tools[0].name == "math.factorial"
    assert factorial.steps[0].arguments == {"number": 5}
    triangle = next(c for c in result.cases if c.id == "bfcl/simple_python_0")
    assert triangle.steps[0].arguments == {"base": 10, "height": 5, "unit": "units"}
    assert triangle.tools[0].parameters["type"] == "object"


@needs_data
def test_bfcl_folder_loads_every_category() -> None:
    result = load_bfcl(DATA / "bfcl")
    assert result.skipped == []
    counts: dict[str, int] = {}
    for case in result.cases:
        counts[case.tags[1]] = counts.get(case.tags[1], 0) + 1
    assert counts == {
        "simple_python": 400,
        "multiple": 200,
        "parallel": 200,
        "parallel_multiple": 200,
        "irrelevance": 240,
    }
    for case in result.cases:
        assert ("parallel" in case.tags) == case.tags[1].startswith("parallel")
        assert (case.steps == []) == (case.tags[1] == "irrelevance")
    _check_schemas(result, every=20)


@needs_data
def test_jsonrag_cases_have_skeleton_observations() -> None:
    result = load_jsonrag(DATA / "ibm_coalitions" / "testcases_orig.json")
    assert len(result.cases) == 106 and result.skipped == []
    assert any("no API responses" in note for note in result.notes)
    for case in result.cases:
        (step,) = case.steps
        assert step.tool == case.tools[0].name
        assert step.evidence and set(step.evidence) <= json_paths(step.observation)
        assert case.tags == ["jsonrag", "skeleton"]


@needs_data
def test_load_cases_dispatches_on_the_spec() -> None:
    parallel = DATA / "bfcl" / "BFCL_v4_parallel.json"
    assert len(load_cases(f"bfcl:{parallel}").cases) == 200
    assert (
        len(load_cases(f"jsonrag:{DATA / 'ibm_coalitions' / 'testcases_orig.json'}").cases) == 106
    )
    real = f"toolalpaca:{DATA / 'toolalpaca' / 'eval_real.json'}"
    assert len(load_cases(real).cases) == 110
    assert len(load_cases(real, ibm_dir=DATA / "ibm_coalitions").cases) == 114


# ----------------------------------------------------------------------------- ToolAlpaca


def _openapi(paths: dict[str, Any], components: dict[str, Any] | None = None) -> str:
    return json.dumps({"openapi": "3.0.1", "paths": paths, "components": components or {}})


def _api(name: str, documentation: str, **extra: Any) -> dict[str, Any]:
    return {
        "Name": name,
        "Authentication": {"token": "***"},
        "Documentation": documentation,
        "Function_Description": {"lookUp": "Find a word.\nParameters: ...", "components": ""},
        "Function_Projection": {"lookUp": ["words/{word}", "post"]},
        "Instructions": ["Define 'tarn'.", "Define 'scree' in French."],
        "Golden_Answers": [
            [{"Action": "lookUp", "Action_Input": '{"word": "tarn", "lang": "", "token": "x"}'}],
            [{"Action": "lookUp", "Action_Input": '{"word": "scree", "lang": "fr"}'}],
        ],
        **extra,
    }


GOOD_DOC = _openapi(
    {
        "/words/{word}": {
            "post": {
                "parameters": [
                    {"name": "word", "in": "path", "schema": {"type": "string"}},
                    {"name": "token", "in": "query", "required": True},
                    {"$ref": "#/components/parameters/Lang"},
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}},
                },
            }
        }
    },
    {
        "parameters": {
            "Lang": {
                "name": "lang",
                "in": "query",
                "description": "Language.",
                "schema": {"type": "string", "enum": ["en", "fr"], "example": "en"},
            }
        },
        "schemas": {
            "B": {
                "type": "object",
                "properties": {"limit": {"type": "integer", "nullable": True}},
                "required": ["limit"],
            }
        },
    },
)


def test_toolalpaca_openapi_becomes_json_schema(tmp_path: Path) -> None:
    file = tmp_path / "eval_mini.json"
    file.write_text(json.dumps([_api("Lexicon", GOOD_DOC)]))
    result = load_toolalpaca(file)
    assert result.skipped == []
    first, second = result.cases
    assert first.id == "toolalpaca/Lexicon/0"
    (tool,) = first.tools
    assert tool.description == "Find a word."
    assert tool.parameters == {
        "type": "object",
        "properties": {
            "word": {"type": "string"},
            "lang": {"type": "string", "enum": ["en", "fr"], "description": "Language."},
            "limit": {"type": ["integer", "null"]},
        },
        "required": ["word", "limit"],
    }
    assert first.steps[0].arguments == {"word": "tarn"}  # "" and the credential dropped
    assert second.steps[0].arguments == {"word": "scree", "lang": "fr"}


def test_toolalpaca_invalid_openapi_skips_that_api_only(tmp_path: Path) -> None:
    file = tmp_path / "eval_bad.json"
    apis = [_api("Broken", GOOD_DOC[:-40]), _api("Lexicon", GOOD_DOC)]
    file.write_text(json.dumps(apis))
    result = load_toolalpaca(file)
    assert _ids(result) == ["toolalpaca/Lexicon/0", "toolalpaca/Lexicon/1"]
    (skipped,) = result.skipped
    assert str(skipped).startswith("eval_bad.json: API 'Broken': ")
    assert "not valid JSON" in skipped.reason and "2 instructions" in skipped.reason


def test_toolalpaca_bad_gold_skips_that_instruction(tmp_path: Path) -> None:
    api = _api("Lexicon", GOOD_DOC)
    api["Golden_Answers"][0][0]["Action_Input"] = '{"word": ${word from search}}'
    api["Golden_Answers"][1][0]["Action"] = "search"
    file = tmp_path / "eval_gold.json"
    file.write_text(json.dumps([api]))
    result = load_toolalpaca(file)
    assert result.cases == []
    first, second = (str(s) for s in result.skipped)
    assert first.startswith("eval_gold.json: API 'Lexicon' instruction 0: ")
    assert "Action_Input is not a valid JSON object" in first
    assert "calls 'search'" in second


def test_toolalpaca_records_of_unexpected_shape_are_skipped(tmp_path: Path) -> None:
    listed_auth = _api("ListedAuth", GOOD_DOC, Authentication=[{"token": "***"}])
    listed_text = _api("ListedText", GOOD_DOC, Function_Description=["Find a word."])
    listed_action = _api("Lexicon", GOOD_DOC)
    listed_action["Golden_Answers"][0][0]["Action"] = ["lookUp"]
    spec = json.loads(GOOD_DOC)
    spec["components"]["schemas"]["B"]["required"] = [{"limit": True}]  # unhashable name
    odd_required = _api("OddRequired", json.dumps(spec))
    file = tmp_path / "eval_odd.json"
    file.write_text(json.dumps([listed_auth, listed_text, listed_action, odd_required]))
    result = load_toolalpaca(file)
    assert _ids(result) == ["toolalpaca/Lexicon/1"]
    reasons = [str(s) for s in result.skipped]
    assert reasons[0].startswith("eval_odd.json: API 'ListedAuth': 'Authentication' is not")
    assert reasons[1].startswith("eval_odd.json: API 'ListedText': 'Function_Description' is")
    assert reasons[2].startswith("eval_odd.json: API 'Lexicon' instruction 0: gold step 0 calls")
    assert reasons[3].startswith("eval_odd.json: API 'OddRequired': unexpected record structure")
    assert len(reasons) == 4


def test_toolalpaca_truncated_file_keeps_the_apis_before_the_cut(tmp_path: Path) -> None:
    file = tmp_path / "eval_real.json"
    whole = json.dumps([_api("Lexicon", GOOD_DOC), _api("Thesaurus", GOOD_DOC)], indent=2)
    file.write_text(whole[: whole.index('"Thesaurus"') + 30])
    result = load_toolalpaca(file)
    assert _ids(result) == ["toolalpaca/Lexicon/0", "toolalpaca/Lexicon/1"]
    (skipped,) = result.skipped
    assert str(skipped).startswith("eval_real.json: API #1: malformed JSON at line ")
    assert "the 1 record(s) before it are loaded" in skipped.reason
    # Cut inside the first API: nothing to keep, so the file is the error.
    file.write_text(whole[:100])
    with pytest.raises(ConfigError, match=r"eval_real\.json: malformed JSON at line 7"):
        load_toolalpaca(file)
    with pytest.raises(ConfigError, match="file not found"):
        load_toolalpaca(tmp_path / "missing.json")


@needs_data
def test_real_eval_real_cut_in_half_loads_the_first_half(tmp_path: Path) -> None:
    text = (DATA / "toolalpaca" / "eval_real.json").read_text(encoding="utf-8")
    (tmp_path / "eval_real.json").write_text(text[: len(text) // 2], encoding="utf-8")
    whole = load_toolalpaca(DATA / "toolalpaca" / "eval_real.json")
    half = load_toolalpaca(tmp_path / "eval_real.json")
    assert 0 < len(half.cases) < len(whole.cases)
    assert half.cases == whole.cases[: len(half.cases)]
    broken = [s for s in half.skipped if "malformed JSON" in s.reason]
    assert len(broken) == 1
    assert broken[0].record.startswith("eval_real.json: API #")
    apis_kept = int(broken[0].record.rsplit("#", 1)[1])
    assert {case.id.split("/")[1] for case in half.cases} == {
        case.id.split("/")[1] for case in whole.cases[: len(half.cases)]
    }
    assert 0 < apis_kept < 11


@needs_data
def test_truncated_ibm_answers_still_join_the_apis_before_the_cut(tmp_path: Path) -> None:
    study = tmp_path / "ibm"
    study.mkdir()
    source = DATA / "ibm_coalitions"
    (study / "toolalpaca-13b").mkdir()
    recorded = source / "toolalpaca-13b" / "api_data_0_11.json"
    (study / "toolalpaca-13b" / "api_data_0_11.json").write_bytes(recorded.read_bytes())
    answers = (source / "expected_final_responses.json").read_text(encoding="utf-8")
    cut = answers.index('"Name"', answers.index('"Name"') + 1) + 3  # inside the 2nd API
    (study / "expected_final_responses.json").write_text(answers[:cut], encoding="utf-8")
    result = load_toolalpaca(DATA / "toolalpaca" / "eval_real.json", ibm_dir=study)
    assert len(result.cases) == 114  # golds and observations come from the other file
    with_answer = {case.id.split("/")[1] for case in result.cases if case.answer}
    assert with_answer == {"Nager.Date"}
    assert any(
        note.startswith("expected_final_responses.json: API #1: malformed JSON")
        for note in result.notes
    )


@needs_data
def test_ibm_records_that_cannot_be_used_are_reported(tmp_path: Path) -> None:
    study = tmp_path / "ibm"
    (study / "toolalpaca-13b").mkdir(parents=True)
    source = DATA / "ibm_coalitions"
    answers = json.loads((source / "expected_final_responses.json").read_text(encoding="utf-8"))
    answers.append({"Expected_Final_Responses": ["no name"]})  # no 'Name'
    answers.append(answers[0])  # a repeated API
    (study / "expected_final_responses.json").write_text(json.dumps(answers), encoding="utf-8")
    recorded = json.loads(
        (source / "toolalpaca-13b" / "api_data_0_11.json").read_text(encoding="utf-8")
    )
    recorded[0]["Instances"][0]["intermediate_steps"].append("not a step")
    (study / "toolalpaca-13b" / "api_data_0_11.json").write_text(
        json.dumps(recorded), encoding="utf-8"
    )
    result = load_toolalpaca(DATA / "toolalpaca" / "eval_real.json", ibm_dir=study)
    assert len(result.cases) == 114
    notes = "\n".join(result.notes)
    assert f"expected_final_responses.json: API #{len(answers) - 2}: no 'Name'" in notes
    assert f"API #{len(answers) - 1}: {answers[0]['Name']!r} again" in notes
    assert "1 recorded steps are not [[action, input, log], observation]" in notes


def test_toolalpaca_golden_answers_beyond_the_instructions_are_reported(tmp_path: Path) -> None:
    spec = {"openapi": "3.0.0", "paths": {"/a": {"get": {"parameters": []}}}}
    api = {
        "Name": "Extra", "Documentation": json.dumps(spec),
        "Function_Projection": {"a_get": ["/a", "get"]}, "Instructions": ["do a"],
        "Golden_Answers": [[{"Action": "a_get", "Action_Input": "{}"}]] * 3,
    }  # fmt: skip
    file = tmp_path / "eval_x.json"
    file.write_text(json.dumps([api]))
    result = load_toolalpaca(file)
    assert len(result.cases) == 1
    assert result.notes == [
        "eval_x.json: API 'Extra': 3 Golden_Answers for 1 instructions; "
        "the 2 without an instruction are not used"
    ]


# ----------------------------------------------------------------------------- BFCL


def _bfcl_files(tmp_path: Path, answers: list[dict[str, Any]]) -> Path:
    questions = [
        {
            "id": f"simple_python_{n}",
            "question": [[{"role": "user", "content": f"Square {n}."}]],
            "function": [
                {
                    "name": "math.square",
                    "description": "Square a number.",
                    "parameters": {
                        "type": "dict",
                        "properties": {
                            "x": {"type": "float"},
                            "opts": {"type": "dict", "properties": {"p": {"type": "any"}}},
                            "pair": {"type": "tuple", "items": {"type": "integer"}},
                            "exact": {"type": "boolean", "optional": True},
                        },
                        "required": ["x"],
                    },
                }
            ],
        }
        for n in range(3)
    ]
    file = tmp_path / "BFCL_v4_simple_python.json"
    file.write_text("\n".join(json.dumps(q) for q in questions))
    (tmp_path / "possible_answer").mkdir()
    (tmp_path / "possible_answer" / file.name).write_text("\n".join(json.dumps(a) for a in answers))
    return file


def _answer(n: int) -> dict[str, Any]:
    return {"id": f"simple_python_{n}", "ground_truth": [{"math.square": {"x": [n, float(n)]}}]}


def test_bfcl_schema_conversion(tmp_path: Path) -> None:
    file = _bfcl_files(tmp_path, [_answer(0), _answer(1), _answer(2)])
    result = load_bfcl(file)
    assert [c.id for c in result.cases] == [f"bfcl/simple_python_{n}" for n in range(3)]
    assert result.cases[1].instruction == "Square 1."
    assert result.cases[1].tools[0].parameters == {
        "type": "object",
        "properties": {
            "x": {"type": "number"},
            "opts": {"type": "object", "properties": {"p": {}}},
            "pair": {"type": "array", "items": {"type": "integer"}},
            "exact": {"type": "boolean"},
        },
        "required": ["x"],
    }
    with pytest.raises(Exception, match="unknown BFCL type"):
        bfcl_schema({"type": "String"})


def test_bfcl_canonical_call() -> None:
    accepted = {
        "a": ["", 1],
        "b": [2, ""],
        "c": [""],
        "d": [{"lo": [0], "hi": ["", 9]}],
        "e": ["", 5],
    }
    schema = {"properties": {key: {} for key in "abcde"}, "required": ["e"]}
    assert canonical_call(accepted, schema) == {
        "b": 2,
        "d": {"lo": 0},
        "e": 5,
    }
    # An argument the schema lacks is left out when it may be omitted.
    assert canonical_call({"x": [1], "y": ["a", ""]}, {"properties": {"x": {}}}) == {"x": 1}


def test_bfcl_answer_with_unknown_id_is_skipped(tmp_path: Path) -> None:
    file = _bfcl_files(tmp_path, [_answer(0), _answer(1), {**_answer(1), "id": "simple_python_9"}])
    result = load_bfcl(file)
    assert _ids(result) == ["bfcl/simple_python_0", "bfcl/simple_python_1"]
    reasons = sorted(str(s) for s in result.skipped)
    assert reasons == [
        "BFCL_v4_simple_python.json: id 'simple_python_2': "
        "no entry in possible_answer/BFCL_v4_simple_python.json",
        "possible_answer/BFCL_v4_simple_python.json: id 'simple_python_9': "
        "no question with this id in BFCL_v4_simple_python.json",
    ]


def test_bfcl_repeated_answer_id_is_skipped_not_overwritten(tmp_path: Path) -> None:
    wrong = {**_answer(1), "ground_truth": [{"other": {}}]}
    file = _bfcl_files(tmp_path, [_answer(0), _answer(1), _answer(2), wrong])
    result = load_bfcl(file)
    assert _ids(result) == [f"bfcl/simple_python_{i}" for i in range(3)]
    assert result.cases[1].steps[0].tool != "other"
    assert [str(s) for s in result.skipped] == [
        "possible_answer/BFCL_v4_simple_python.json:4: "
        "a second answer for id 'simple_python_1'; the first one is kept"
    ]


def test_bfcl_records_of_unexpected_shape_are_skipped(tmp_path: Path) -> None:
    file = _bfcl_files(tmp_path, [_answer(0), _answer(1), _answer(2)])
    records = [json.loads(line) for line in file.read_text().splitlines()]
    records[0]["function"][0]["parameters"]["properties"]["x"]["type"] = ["float", "null"]
    records[1]["function"][0]["parameters"]["properties"]["x"] = "float"
    records[2]["function"][0]["parameters"] = [{"x": "float"}]
    file.write_text("\n".join(json.dumps(r) for r in records))
    result = load_bfcl(file)
    assert _ids(result) == ["bfcl/simple_python_0"]  # a list of types is JSON Schema too
    assert result.cases[0].tools[0].parameters["properties"]["x"] == {"type": ["number", "null"]}
    assert [str(s) for s in result.skipped] == [
        "BFCL_v4_simple_python.json: id 'simple_python_1': parameter schema float is not an object",
        "BFCL_v4_simple_python.json: id 'simple_python_2': "
        "parameter schema [{'x': 'float'}] is not an object",
    ]


def test_bfcl_bad_lines_and_missing_answers_file(tmp_path: Path) -> None:
    file = _bfcl_files(tmp_path, [_answer(0), _answer(1), _answer(2)])
    file.write_text(file.read_text() + '\n{"id": "simple_python_3", "quest')
    result = load_bfcl(file)
    assert len(result.cases) == 3
    assert str(result.skipped[0]).startswith("BFCL_v4_simple_python.json:4: ")
    (tmp_path / "possible_answer" / file.name).unlink()
    with pytest.raises(ConfigError, match="answers file not found"):
        load_bfcl(file)


# ----------------------------------------------------------------------------- JSON-RAG


def test_jsonrag_skeleton_and_bad_records(tmp_path: Path) -> None:
    assert skeleton(["a.b", "a", "a.c.d", "e"]) == {"a": {"b": None, "c": {"d": None}}, "e": None}
    file = tmp_path / "testcases_orig.json"
    data = {
        "testcases": [
            {
                "api": "fish_api",
                "api_cases": [
                    {"input": "Names?", "expected_output": ["name"]},
                    {"input": "Species?", "expected_output": []},
                    {"input": "Where?", "expected_output": ["meta.range"]},
                ],
            }
        ]
    }
    file.write_text(json.dumps(data))
    result = load_jsonrag(file)
    assert _ids(result) == ["jsonrag/fish_api/0", "jsonrag/fish_api/2"]
    assert result.cases[0].steps[0].observation == {"name": None, "meta": {"range": None}}
    (skipped,) = result.skipped
    assert str(skipped) == "testcases_orig.json: API 'fish_api' case 1: no 'expected_output' paths"
    file.write_text(json.dumps(data)[:50])
    with pytest.raises(ConfigError, match=r"testcases_orig\.json: malformed JSON"):
        load_jsonrag(file)
    # A second API cut short costs that API only.
    data["testcases"].append({"api": "bird_api", "api_cases": [{"input": "Name?"}]})
    file.write_text(json.dumps(data)[:-20])
    result = load_jsonrag(file)
    assert _ids(result) == ["jsonrag/fish_api/0", "jsonrag/fish_api/2"]
    assert str(result.skipped[-1]).startswith("testcases_orig.json: testcase 1: malformed JSON")


# ----------------------------------------------------------------------------- native


def _case(case_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": case_id,
        "instruction": "Convert 3 km to miles.",
        "tools": [
            {
                "name": "convert",
                "parameters": {"type": "object", "properties": {"value": {"type": "number"}}},
            }
        ],
        "steps": [{"tool": "convert", "arguments": {"value": 3}}],
        **extra,
    }


def test_native_jsonl_with_bad_lines(tmp_path: Path) -> None:
    file = tmp_path / "cases.jsonl"
    lines = [
        json.dumps(_case("a")),
        "",
        '{"id": "b", "instruction": ',
        json.dumps(_case("c", instructions="typo")),
        json.dumps(_case("a")),
        json.dumps(_case("d", steps=[{"tool": "nope"}])),
        json.dumps(_case("e")),
    ]
    file.write_text("\n".join(lines))
    result = load_native(file)
    assert _ids(result) == ["a", "e"]
    reasons = [str(s) for s in result.skipped]
    assert reasons[0].startswith("cases.jsonl:3: malformed JSON")
    assert reasons[1].startswith("cases.jsonl:4: unknown key 'instructions'; allowed keys: ")
    assert reasons[2] == "cases.jsonl:5: duplicate case id 'a' (first at cases.jsonl:1)"
    assert reasons[3].startswith("cases.jsonl:6: ") and "'nope'" in reasons[3]


def test_native_yaml_and_json(tmp_path: Path) -> None:
    yaml_file = tmp_path / "cases.yaml"
    yaml_file.write_text(
        "cases:\n"
        "  - id: one\n"
        "    instruction: Do it.\n"
        "    tools: []\n"
        "  - id: two\n"
        "    instruction: ''\n"
        "    tools: []\n"
    )
    result = load_native(yaml_file)
    assert _ids(result) == ["one"]
    assert str(result.skipped[0]).startswith("cases.yaml:5: instruction: ")
    json_file = tmp_path / "cases.json"
    json_file.write_text(json.dumps([_case("x"), {"id": "y"}]))
    result = load_native(json_file)
    assert _ids(result) == ["x"]
    assert str(result.skipped[0]).startswith("cases.json record 2: ")
    assert len(load_cases(str(json_file)).cases) == 1


def test_native_whole_file_problems(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yml"
    bad_yaml.write_text("cases: [\n  - id: x\n")
    with pytest.raises(ConfigError, match=r"bad\.yml: malformed YAML"):
        load_native(bad_yaml)
    scalar = tmp_path / "scalar.json"
    scalar.write_text('"just a string"')
    with pytest.raises(ConfigError, match="expected a list of cases"):
        load_native(scalar)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    with pytest.raises(ConfigError, match="no cases"):
        load_native(empty)


def test_load_cases_rejects_unknown_specs(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"did you mean 'bfcl:x\.json'"):
        load_cases("bfc:x.json")
    with pytest.raises(ConfigError, match="is not a case source"):
        load_cases(str(tmp_path / "cases.txt"))
    with pytest.raises(ConfigError, match="takes no options"):
        load_cases("jsonrag:x.json", ibm_dir=tmp_path)
    with pytest.raises(ConfigError, match="unknown option"):
        load_cases("toolalpaca:x.json", ibm=tmp_path)


def test_load_cases_builtin() -> None:
    result = load_cases("builtin")
    assert result.cases and result.skipped == []


# ----------------------------------------------------------------------------- broken JSON


@pytest.mark.parametrize(
    ("text", "kept", "index"),
    [
        ('[{"a": 1}, {"b": 2}]', [{"a": 1}, {"b": 2}], None),
        ('[{"a": 1}, {"b": 2}', [{"a": 1}, {"b": 2}], 2),  # only the closing bracket lost
        ('[{"a": 1}, {"b": [1, 2', [{"a": 1}], 1),
        ('[{"a": 1},\n {"b": 2} {"c": 3}]', [{"a": 1}, {"b": 2}], 2),  # a missing comma
        ('[{"a": 1}, {"b": "x\ny"}, {"c": 3}]', [{"a": 1}], 1),  # a raw newline in a string
    ],
)
def test_load_json_records_keeps_complete_records(
    tmp_path: Path, text: str, kept: list[Any], index: int | None
) -> None:
    file = tmp_path / "records.json"
    file.write_text(text)
    records, broken = load_json_records(file)
    assert records == kept
    assert (broken.index if broken else None) == index


def test_load_json_records_under_a_key_and_whole_file_errors(tmp_path: Path) -> None:
    file = tmp_path / "records.json"
    file.write_text('{"testcases": [{"a": 1}, {"b": ')
    records, broken = load_json_records(file, key="testcases")
    assert records == {"testcases": [{"a": 1}]}
    assert broken is not None and (broken.index, broken.line) == (1, 1)
    for text in ('[{"a": ', '{"other": [{"a": 1}, ', '[{"a": 1}] trailing', "", "{"):
        file.write_text(text)
        with pytest.raises(ConfigError, match=r"records\.json: malformed JSON at line 1"):
            load_json_records(file, key="testcases" if text.startswith("{") else None)
    with pytest.raises(ConfigError, match=r"missing\.json: file not found"):
        load_json_records(tmp_path / "missing.json")
