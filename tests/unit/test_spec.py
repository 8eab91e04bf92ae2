"""RunSpec's JSON round trip, and a spec from a newer mlws refused by name."""

import json

import pytest

from mlws.errors import MlwsError
from mlws.spec import SCHEMA_VERSION, RunSpec


def spec() -> RunSpec:
    return RunSpec(
        experiment="model_12",
        overrides=("+experiment=model_12",),
        config={"seed": 1},
        workspace="/ws",
        command="mlws train",
        created_at="2026-12-07T00:00:00+00:00",
        labels=("a",),
    )


def test_round_trip_carries_the_schema_version():
    s = spec()
    back = RunSpec.from_json(s.to_json())
    assert back == s and json.loads(s.to_json())["schema"] == SCHEMA_VERSION


def test_a_spec_written_before_the_version_existed_reads_as_version_1():
    data = json.loads(spec().to_json())
    del data["schema"]
    assert RunSpec.from_json(json.dumps(data)).schema == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"schema": SCHEMA_VERSION + 1}, f"schema version {SCHEMA_VERSION + 1}, newer than this mlws reads"),
        ({"schema": "2"}, "schema version '2'"),
        ({"new_field": 1}, "fields this mlws does not know: new_field"),
    ],
)
def test_a_newer_spec_is_refused_with_one_message(change, message):
    data = {**json.loads(spec().to_json()), **change}
    with pytest.raises(MlwsError, match=message):
        RunSpec.from_json(json.dumps(data))
