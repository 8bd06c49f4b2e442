"""The worker a request names, when the current user may manage them."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from portal.auth.access import can_manage_workers
from portal.workers.models import Worker


def get_manageable_worker_or_404(session, worker_id: int) -> Worker:
    """Return the worker when the current user is HR of its enterprise; 404 otherwise (reveals nothing)."""
    worker = session.get(Worker, worker_id)
    if worker is None or not can_manage_workers(current_user, worker.enterprise):
        abort(404)
    return worker
