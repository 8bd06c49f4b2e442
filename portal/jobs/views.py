from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.auth.access import role_required
from portal.auth.models import Role
from portal.jobs import runner
from portal.jobs.models import Job, JobStatus
from portal.jobs.services import get_job_for, handler_for, jobs_mode, setting

bp = Blueprint("jobs", __name__, template_folder="templates")

NO_STORE = {"Cache-Control": "no-store, max-age=0", "Pragma": "no-cache"}


@bp.record_once
def _remember_process(state) -> None:
    runner._state(state.app)


@bp.before_app_request
def _resume_waiting_jobs() -> None:
    # Jobs left queued or running by a stopped process resume with the first request after a restart.
    runner.start_if_work_waits(current_app._get_current_object())


def status_text(job: Job) -> str:
    """Return the one line that tells a user where their job stands."""
    if job.status == JobStatus.QUEUED.value:
        return _("Waiting to start…")
    if job.status == JobStatus.RUNNING.value:
        if job.total:
            line = _("In progress: %(done)s of %(total)s (%(percent)s%%)", done=job.done, total=job.total,
                     percent=job.percent)
        else:
            line = _("In progress…")
        return f"{line} — {job.message}" if job.message else line
    if job.status == JobStatus.DONE.value:
        return f"{_('Done.')} {job.message}" if job.message else _("Done.")
    return _("This job failed. Please start it again; if it fails again, tell the city's administrator.")


def status_payload(job: Job) -> dict:
    """Return what the progress page and its script show: status, progress, download address."""
    payload = {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "message": job.message,
        "text": status_text(job),
        "finished": job.is_finished,
        "result": job.result if job.status == JobStatus.DONE.value else None,
        "download_url": None,
    }
    if job.status == JobStatus.DONE.value and job.output_path:
        payload["download_url"] = url_for("jobs.download", job_id=job.id)
    return payload


def _keep_moving(job: Job) -> None:
    """Make sure an unfinished job has a runner (a restart or a Redis outage may have lost it)."""
    app = current_app._get_current_object()
    mode = jobs_mode(app)
    if job.is_finished or mode == "inline":
        return
    if mode == "thread":
        runner.wake_embedded_runner(app)
    elif runner.is_stale(app, job):
        runner.sweep_to_rq(app)


@bp.get("/jobs/<int:job_id>")
@role_required(Role.HR, Role.OFFICIAL, Role.ADMIN)
def status(job_id: int):
    """Show a job's progress: JSON for scripts, a page for people."""
    job = get_job_for(current_user, job_id)
    _keep_moving(job)
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
    """Send a finished job's file to the user who started it."""
    job = get_job_for(current_user, job_id)
    path = runner.output_file(current_app, job) if job.status == JobStatus.DONE.value else None
    if path is None:
        abort(404)
    response = send_file(path, as_attachment=True, download_name=path.name, max_age=0)
    response.headers.update(NO_STORE)
    return response
