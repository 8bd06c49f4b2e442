"""Two web nodes and a job worker, each with its own instance folder, on one PostgreSQL and one Redis.

The production shape of the README: gunicorn on node A and node B, ``portal jobs worker`` apart,
sharing only what the README says they share. One scenario, driven over HTTP as people would:

* a card issued on A verifies on B;
* a print sheet started on A downloads from B, and every card on it scans valid on A and on B
  (the QR codes read back from the PDF with pdftoppm and zbarimg);
* a key rotation on B is what A signs with, within the key ring's refresh interval;
* a revocation on A leaves no cached PDF anywhere (blob store, any node's disk), and B says revoked;
* the published keys are byte-identical on A and B.

Select it with ``-m nodes``. It needs a database server and Redis (PORTAL_TEST_DATABASE_URL,
PORTAL_TEST_REDIS_URL, as CI's second run sets them); the SQLite run skips it and says why.
"""
from __future__ import annotations

import base64
import os
import shutil
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.clock import local_today
from portal.extensions import db
from portal.testing.fixtures import TEST_PASSWORD, make_worker
from portal.testing.nodes import Browser, JobWorker, Node, environment_for_nodes, qr_tokens, stop_all
from portal.workers.identity import make_cccd

pytestmark = [
    pytest.mark.nodes,
    pytest.mark.skipif(not os.environ.get("PORTAL_TEST_DATABASE_URL") or not os.environ.get("PORTAL_TEST_REDIS_URL"),
                       reason="two nodes share a database server and Redis, as in production: set "
                              "PORTAL_TEST_DATABASE_URL and PORTAL_TEST_REDIS_URL (CI's PostgreSQL run does); "
                              "one SQLite file on one disk would not show that nothing lives on a node"),
    pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                       reason="poppler-utils and zbar-tools read the QR codes back"),
]
PUBLIC = "https://thexanh.example.gov.vn"
#: A genuine, active card: "valid" inside its commute windows, "outside_window" between them (the test runs at
#: any hour; both mean the signature verified with a key the node knows). An unknown key answers "invalid".
GOOD = ("valid", "outside_window")


def kid_of(token: str) -> str:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))[1:3].hex()


@pytest.fixture
def more_workers(app, world) -> list[int]:
    """Four more eligible workers of enterprise A, so that the print sheet carries several cards."""
    from portal.enterprises.models import Enterprise

    today = local_today()
    with app.app_context():
        enterprise = db.session.get(Enterprise, world.enterprise_a)
        ids = []
        for index, name in enumerate(["Trần Minh Khoa", "Phạm Thị Lan", "Võ Văn Tâm", "Đặng Thị Hồng"]):
            born = today.replace(year=1980 + index, day=1)
            worker = make_worker(db.session, enterprise, name=name, born=born,
                                 sex="F" if "Thị" in name else "M",
                                 citizen_id=make_cccd(79, born, "F" if "Thị" in name else "M", 5000 + index),
                                 doses=[("pfizer", today - timedelta(days=70)), ("pfizer", today - timedelta(days=40))])
            ids.append(worker.id)
        db.session.commit()
    return ids


@pytest.fixture
def cluster(app, world, more_workers, tmp_path):
    """Provision the first signing key (once, as the README says), then start node A, node B and a job worker."""
    from portal.jobs.queue import job_queue

    job_queue(app).huey.flush()  # nothing a previous run left on the shared queue
    environment = environment_for_nodes(
        app.config["SQLALCHEMY_DATABASE_URI"], os.environ["PORTAL_TEST_REDIS_URL"],
        secret_key=app.config["SECRET_KEY"], kek=app.config["PORTAL_KEY_ENCRYPTION_KEY"], public_base_url=PUBLIC)
    started = []
    try:
        node_a = Node("node-a", tmp_path, environment)
        node_a.cli("keys", "create")
        node_b = Node("node-b", tmp_path, environment)
        worker = JobWorker("job-worker", tmp_path, environment)
        for process in (node_a, node_b, worker):
            started.append(process)
            process.start()
        yield node_a, node_b, worker
    finally:
        stop_all(started)


def _verify(browser: Browser, node: Node, token: str) -> str:
    """Return the checkpoint's outcome, "valid" standing for both answers a genuine active card gets."""
    answer = browser.json(f"{node.url}/api/v1/verify/{token}")
    if answer["outcome"] in GOOD:
        assert answer["pass"]["serial"], answer
        return "valid"
    return answer["outcome"]


def _card_tokens(browser: Browser, node: Node, pass_id: int) -> list[str]:
    status, headers, pdf = browser.get(f"{node.url}/passes/{pass_id}.pdf")
    assert status == 200 and headers["Content-Type"] == "application/pdf", (status, pdf[:300])
    return qr_tokens(pdf)


def test_two_nodes_and_a_worker_are_one_portal(app, world, cluster, more_workers):
    from portal.passes.models import Pass
    from portal.storage.cache import PASS_PDFS
    from portal.tokens.models import SigningKey

    node_a, node_b, worker = cluster
    hr, checkpoint = Browser(), Browser()
    hr.login(node_a.url, world.hr_a, TEST_PASSWORD)

    # A card issued on A verifies on B.
    status, _headers, _body = hr.submit(f"{node_a.url}/passes/workers/{world.worker_a}/issue")
    assert status == 302
    with app.app_context():
        first = db.session.scalar(select(Pass).where(Pass.worker_id == world.worker_a))
        first_id, first_serial = first.id, first.serial
    [token] = _card_tokens(hr, node_a, first_id)
    assert _verify(checkpoint, node_b, token) == "valid" and _verify(checkpoint, node_a, token) == "valid"
    assert PASS_PDFS.cached(app, first_serial)  # kept in the blob store every node reads

    # A print sheet started on A downloads from B; every card on it scans valid on both.
    for worker_id in more_workers:
        assert hr.submit(f"{node_a.url}/passes/workers/{worker_id}/issue")[0] == 302
    status, headers, _body = hr.submit(f"{node_a.url}/passes/print-sheet")
    assert status == 302 and "/jobs/" in headers["Location"]
    job_id = int(headers["Location"].rstrip("/").rsplit("/", 1)[1])
    deadline = time.monotonic() + 90
    while (payload := hr.json(f"{node_b.url}/jobs/{job_id}"))["status"] not in ("done", "failed"):
        assert time.monotonic() < deadline, f"print sheet still {payload['status']}:\n{worker.log()}"
        time.sleep(0.3)
    assert payload["status"] == "done", payload
    status, headers, sheet = hr.get(f"{node_b.url}{payload['download_url']}")
    assert status == 200 and sheet.startswith(b"%PDF")
    tokens = qr_tokens(sheet)
    assert len(tokens) == 1 + len(more_workers)
    for node in (node_a, node_b):
        assert [_verify(checkpoint, node, each) for each in tokens] == ["valid"] * len(tokens)
    assert {kid_of(each) for each in tokens} == {kid_of(token)}  # the worker signs with the same key

    # A rotation on B is what A signs with (each process re-reads the ring within KEYRING_REFRESH_SECONDS=1).
    node_b.cli("keys", "rotate")
    with app.app_context():
        new_kid = db.session.scalar(select(SigningKey.kid).where(SigningKey.status == "active"))
    assert new_kid != kid_of(token)
    time.sleep(1.2)
    [after] = _card_tokens(hr, node_a, first_id)
    assert kid_of(after) == new_kid
    for node in (node_a, node_b):
        assert _verify(checkpoint, node, after) == "valid"
        assert _verify(checkpoint, node, token) == "valid"  # the previous key verifies until retired

    # A revocation on A leaves no cached PDF anywhere; B says revoked at once.
    assert PASS_PDFS.cached(app, first_serial)
    status, _headers, _body = hr.submit(f"{node_a.url}/passes/{first_id}/revoke", {"reason": "left", "note": ""})
    assert status == 302
    assert PASS_PDFS.cached(app, first_serial) == []
    for process in (node_a, node_b, worker):
        assert not [path for path in process.instance.rglob("*") if path.suffix == ".pdf"], process.name
    assert _verify(checkpoint, node_b, after) == "revoked"

    # The public keys are identical, byte for byte.
    documents = [checkpoint.get(f"{node.url}/.well-known/greencard-keys.json")[2] for node in (node_a, node_b)]
    assert documents[0] == documents[1] and new_kid in documents[0].decode()
