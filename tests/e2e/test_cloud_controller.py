"""A status refresh of a managed job whose jobs controller is stopped (issue 24, point 11): SkyPilot
starts that VM to read its table, which can block for minutes. The wait is bounded and the user told;
the run stays as recorded. The controller's answer is played by a slow function (the SDK call's place)."""

import time

import pytest

from mlws.errors import MlwsError

pytestmark = [pytest.mark.sky]


def test_a_stopped_controller_is_waited_for_a_bounded_time(monkeypatch):
    from sky import exceptions

    from mlws.compute.sky import client

    asked = []

    def table(job_id, refresh):
        asked.append(refresh)
        if not refresh:
            raise exceptions.ClusterNotUpError("controller is stopped", cluster_status=None)
        time.sleep(5)  # starting the controller's VM
        return [{"job_id": job_id, "status": "SUCCEEDED"}]

    monkeypatch.setattr(client, "_managed_jobs", table)
    monkeypatch.setattr(client, "CONTROLLER_WAIT_S", 0.5)
    started = time.monotonic()
    with pytest.raises(MlwsError, match="jobs controller is stopped; starting it to read job 7 takes longer than"):
        client.job_status({"managed": True, "job_id": 7})
    assert time.monotonic() - started < 2 and asked == [False, True]
    monkeypatch.setattr(client, "CONTROLLER_WAIT_S", 10)
    assert client.job_status({"managed": True, "job_id": 7}) == "succeeded"  # in time: as before
