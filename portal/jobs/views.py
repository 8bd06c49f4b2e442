from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    jsonify,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.access import role_required
from portal.auth.models import Role
from portal.extensions import db
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import get_job_for, handler_for, message_of, next_link, setting

bp = Blueprint("jobs", __name__, template_folder="templates")

NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


def status_text(job: Job) -> str:
    """Return the one line that tells a reader, in their language, where the job stands."""
    progress = message_of(job.progress_message)
    summary = message_of(job.summary)
    if job.status == JobStatus.QUEUED.value:
        line = _("Waiting to start…")
        return f"{line} {progress}" if progress else line
    if job.status == JobStatus.RUNNING.value:
        if job.total:
            line = _("In progress: %(done)s of %(total)s (%(percent)s%%)", done=job.done, total=job.total,
                     percent=job.percent)
        else:
            line = _("In progress…")
        return f"{line} — {progress}" if progress else line
    if job.status == JobStatus.DONE.value:
        said = summary or progress
        return f"{_('Done.')} {said}" if said else _("Done.")
    if summary:
        return str(summary)
    return _("This job failed. Please start it again; if it fails again, tell the city's administrator.")


def _next_step(job: Job) -> tuple[str, object | None] | None:
    """Return the (url, label) a finished job leads to: its handler's next step, else the page it was started from."""
    link = next_link(job)
    if link is not None or job.status != JobStatus.DONE.value:
        return link
    try:
        back = handler_for(current_app, job.kind).back_endpoint
    except KeyError:
        return None
    if not back or back not in current_app.view_functions:
        return None
    return url_for(back), _("Back to the page you started from")


def status_payload(job: Job) -> dict:
    """Return what the progress page and its script show: status, progress, words, links."""
    done = job.status == JobStatus.DONE.value
    link = _next_step(job)
    progress, summary = message_of(job.progress_message), message_of(job.summary)
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": str(progress) if progress else None,
        "summary": str(summary) if summary else None,
        "text": status_text(job),
        "finished": job.is_finished,
        "result": job.result if done else None,
        "download_url": url_for("jobs.download", job_id=job.id) if done and job.output_key else None,
        "next_url": link[0] if link else None,
        "next_label": (str(link[1]) if link[1] else _("Continue")) if link else None,
    }


@bp.get("/jobs/<int:job_id>")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def status(job_id: int):
    """Show a job's progress: JSON for scripts, a page for people."""
    job = get_job_for(db.session, current_user, job_id) or abort(404)
    payload = status_payload(job)
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "application/json":
        response = jsonify(payload)
    else:
        try:
            handler = handler_for(current_app, job.kind)
        except KeyError:
            handler = None
        response = current_app.make_response(render_template(
            "jobs/status.html", job=job, payload=payload, handler=handler,
            poll_ms=int(float(setting(current_app, "JOB_STATUS_POLL_SECONDS")) * 1000),
        ))
    response.headers.update(NO_STORE)
    response.vary.add("Accept")
    return response


@bp.get("/jobs/<int:job_id>/download")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def download(job_id: int):
    """Stream a finished job's file from the blob store to the user who started it."""
    from portal.storage import BlobNotFound, blob_store

    job = get_job_for(db.session, current_user, job_id) or abort(404)
    if job.status != JobStatus.DONE.value or not job.output_key:
        abort(404)
    try:
        stream = blob_store(current_app).open(job.output_key)
    except BlobNotFound:
        abort(404)
    db.session.rollback()  # hold nothing while the file streams

    def pieces():
        with stream:
            yield from stream.iter_chunks()

    response = Response(stream_with_context(pieces()), mimetype=stream.content_type, direct_passthrough=True)
    response.content_length = stream.size
    response.headers.set("Content-Disposition", "attachment", filename=job.output_name or "output")
    response.headers.update(NO_STORE)
    return response
