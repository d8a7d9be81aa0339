"""requestId idempotency: a retry after a lost reply files nothing twice; reuse with another body is CONFLICT."""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest

from backend_client.client import PlatformClient
from backend_client.sim import DEMO_APPLICANT, DEMO_KIOSK_ID, DEMO_PASSWORD, DEMO_USERNAME, PlatformSim
from backend_client.sim.server import IDEMPOTENCY_DAYS
from kiosk.clock import SystemClock
from kiosk.errors import PlatformRejected, PlatformUnavailable

FIELDS = {"purpose": "就业", "copies": "1"}


def _submit(client: PlatformClient, rid: str, fields: dict[str, str] = FIELDS):
    return client.submit_application(rid, DEMO_APPLICANT, "GA-HUKOU-CERT", fields, "LOCKER")


def test_timeout_then_retry_with_same_request_id_files_one_case(
    client: PlatformClient, sim: PlatformSim
) -> None:
    rid = str(uuid.uuid4())
    before = sim.backoffice.count_cases()
    sim.faults.slow(
        2.0, operation="SubmitApplication"
    )  # the platform does the work, the reply comes too late
    with pytest.raises(PlatformUnavailable):
        _submit(client, rid)
    assert sim.backoffice.count_cases() == before + 1  # the server did complete it

    res = _submit(client, rid)  # the outbox's retry: same requestId, same body, new sentAt and token
    assert sim.backoffice.count_cases() == before + 1
    assert sim.backoffice.case(res.case_number).applicant.id_number == DEMO_APPLICANT.id_number
    assert sim.count("SubmitApplication", "replayed") == 1


def test_retry_after_reset_after_work_files_one_case(client: PlatformClient, sim: PlatformSim) -> None:
    rid = str(uuid.uuid4())
    before = sim.backoffice.count_cases()
    sim.faults.reset(operation="SubmitApplication", after_processing=True)
    with pytest.raises(PlatformUnavailable):
        _submit(client, rid)
    first = _submit(client, rid)
    second = _submit(client, rid)
    assert first == second and sim.backoffice.count_cases() == before + 1


def test_same_request_id_same_body_gets_the_same_answer(client: PlatformClient) -> None:
    rid = str(uuid.uuid4())
    assert _submit(client, rid) == _submit(client, rid)


def test_same_request_id_other_body_is_conflict(client: PlatformClient, sim: PlatformSim) -> None:
    rid = str(uuid.uuid4())
    _submit(client, rid)
    n = sim.backoffice.count_cases()
    with pytest.raises(PlatformRejected) as exc:
        _submit(client, rid, {"purpose": "出国", "copies": "1"})
    assert exc.value.code == "CONFLICT" and not isinstance(exc.value, PlatformUnavailable)
    assert sim.backoffice.count_cases() == n


def test_transient_fault_is_not_remembered(client: PlatformClient, sim: PlatformSim) -> None:
    rid = str(uuid.uuid4())
    sim.faults.platform_fault("INTERNAL", operation="SubmitApplication")
    with pytest.raises(PlatformUnavailable):
        _submit(client, rid)
    assert _submit(client, rid).status == "RECEIVED"  # the retry is carried out, not answered INTERNAL again


def test_concurrent_duplicates_file_one_case(client: PlatformClient, sim: PlatformSim) -> None:
    rid = str(uuid.uuid4())
    before = sim.backoffice.count_cases()
    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(_submit(client, rid).case_number)) for _ in range(6)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 6 and len(set(results)) == 1
    assert sim.backoffice.count_cases() == before + 1


class _LaterClock(SystemClock):
    """The real clock, moved forward: the kiosk and the platform agree on a date a week ahead."""

    def __init__(self, ahead_s: float) -> None:
        super().__init__()
        self.ahead = dt.timedelta(seconds=ahead_s)

    def now(self) -> dt.datetime:
        return super().now() + self.ahead


def test_request_id_is_remembered_for_seven_days_only(client: PlatformClient, sim: PlatformSim) -> None:
    rid = str(uuid.uuid4())
    first = _submit(client, rid)
    ahead = IDEMPOTENCY_DAYS * 86400 - 120
    for offset, same in ((ahead, True), (ahead + 240, False)):
        sim.clock_offset_s = offset
        later = PlatformClient(
            sim.url, DEMO_USERNAME, DEMO_PASSWORD, DEMO_KIOSK_ID, clock=_LaterClock(offset)
        )
        try:
            again = _submit(later, rid)
        finally:
            later.close()
        # Within the week the platform answers from memory; after it, the requestId is a new request.
        assert (again.case_number == first.case_number) is same
