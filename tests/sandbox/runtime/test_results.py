"""What a production run's developer sees comes from the run's result file: the trusted side keeps,
by phase, only what cannot carry data (for a build failure a class-like name, a line of the job's
file and a short message; for a refused plan the findings; a frame-contract breach naming manifest
entries, worded here) and nothing at all of a failure while executing."""

from __future__ import annotations

import json
from pathlib import Path

from sandbox.domain.contract import Breach, FrameContract
from sandbox.runtime.manifest import load_manifest
from sandbox.runtime.production import _read_result

JOB = Path(__file__).parents[3] / "jobs" / "rental_housing_supply"
OUTPUT = "rental_dwellings_by_district"


def _result(tmp_path, **fields) -> dict:
    path = tmp_path / "result.json"
    path.write_text(json.dumps({"ok": False, "timings": {}, "phase": "build", **fields}), encoding="utf-8")
    return _read_result(path, 3, load_manifest(JOB), JOB, 5.0)


def test_a_contract_breach_is_worded_by_the_trusted_side(tmp_path):
    contract = FrameContract(Breach.COLUMNS, OUTPUT, ("owner_id_number",)).as_dict()
    kept = _result(tmp_path, error_type="FrameContractError", error_line=None, contract=contract)
    assert kept["contract"]["en"] == (
        f"output {OUTPUT} lacks column(s): owner_id_number (owner_id_number is its entity column)"
    )
    assert "缺少列" in kept["contract"]["zh"]


def test_a_forged_result_passes_nothing_of_the_data(tmp_path):
    """The attack: a compromised job process writes values into its own result file."""
    secret = "110101199003070011"
    forged = _result(
        tmp_path,
        error_type=f"ValueError: {secret}",
        error_line=10_000,
        timings={"build_s": 1.0, "total_s": float(secret), f"x{secret}": 2.0},
        contract={"breach": "columns", "output": OUTPUT, "missing": [secret]},
    )
    assert forged["error_type"] == "Unknown" and forged["error_line"] is None
    assert forged["contract"] is None
    assert forged["timings"] == {"build_s": 1.0, "total_s": 5.0}  # clipped to the process time measured
    assert secret not in json.dumps(forged)
    shaped = _result(tmp_path, error_type=f"E{secret}", error_line=3)
    assert (shaped["error_type"], shaped["error_line"]) == (
        "Unknown",
        3,
    )  # a name, but not a class a job can raise


def test_the_exception_classes_a_job_can_raise_are_kept(tmp_path):
    for name in (
        "ZeroDivisionError",
        "pyspark.errors.exceptions.captured.AnalysisException",
        "PolicyViolation",
    ):
        assert _result(tmp_path, error_type=name)["error_type"] == name


def test_an_output_name_not_in_the_manifest_is_dropped(tmp_path):
    kept = _result(
        tmp_path, error_type="FrameContractError", contract={"breach": "not_a_frame", "output": "x"}
    )
    assert kept["contract"] is None


def test_a_process_that_died_without_a_result_says_only_that_it_failed(tmp_path):
    died = _read_result(tmp_path / "absent.json", -9, load_manifest(JOB), JOB, 1.0)
    assert (died["phase"], died["error_type"], died["error_line"], died["message"]) == (
        "execute",
        None,
        None,
        None,
    )


def test_a_failure_while_executing_passes_nothing_but_the_fact(tmp_path):
    """Data may have decided it: whatever the result file says about it is dropped."""
    secret = "110101199003070011"
    failed = _result(tmp_path, phase="execute", error_type="ValueError", error_line=3, message=secret,
                     findings=[{"output": OUTPUT, "rule": secret, "zh": secret, "en": secret}])  # fmt: skip
    assert (failed["phase"], failed["error_type"], failed["error_line"], failed["message"]) == (
        "execute", None, None, None)  # fmt: skip
    assert secret not in json.dumps(failed)
