"""``portal jobs purge`` deletes what it says it deletes: the files, from the shared storage."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from portal.clock import utcnow
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.storage import blob_store
from portal.storage.models import Blob, BlobChunk


def _finished_job_with_file(app, days_ago: float) -> tuple[int, str]:
    with app.app_context():
        job = Job(kind="print_sheet", params={}, status=JobStatus.DONE.value,
                  finished_at=utcnow() - timedelta(days=days_ago))
        db.session.add(job)
        db.session.commit()
        key = f"jobs/{job.id}/lease/the-xanh.pdf"
        job.output_key, job.output_name = key, "the-xanh.pdf"
        db.session.commit()
        job_id = job.id
    blob_store(app).put(key, b"%PDF " * 1000, content_type="application/pdf")
    return job_id, key


def test_purge_deletes_old_files_from_storage_and_counts_them(app, runner):
    app.config["STORAGE_CHUNK_BYTES"] = 1024
    old, old_key = _finished_job_with_file(app, 8)
    new, new_key = _finished_job_with_file(app, 1)
    gone, gone_key = _finished_job_with_file(app, 9)
    assert blob_store(app).delete(gone_key)  # already gone from storage: not counted as deleted
    result = runner.invoke(args=["jobs", "purge", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Deleted 1 files of jobs finished more than 7 days ago."
    store = blob_store(app)
    assert not store.exists(old_key) and store.exists(new_key)
    with app.app_context():
        assert db.session.get(Job, old).output_key is None and db.session.get(Job, gone).output_key is None
        assert db.session.get(Job, new).output_key == new_key
        assert db.session.scalar(select(func.count()).select_from(Blob)) == 1
        # Only the kept file's chunks remain (5,000 bytes in 1 KiB chunks).
        assert db.session.scalar(select(func.count()).select_from(BlobChunk)) == 5
    again = runner.invoke(args=["jobs", "purge", "--days", "7"])
    assert again.output.strip() == "Deleted 0 files of jobs finished more than 7 days ago."
