"""Every "when X happens, do Y" of the portal, connected in one place when the app is made.

Features never connect themselves on import. A reader who wants to know what follows a change
reads this module:

* event receivers (:mod:`portal.events`): they run inside the sender's transaction, with its
  session, and never commit;
* background-job handlers (:mod:`portal.jobs`): what each kind of job runs, its label, the page
  its progress page links back to, and what puts the feature right when a job fails.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal import events


def wire(app: Flask) -> None:
    """Connect the event receivers and register the job handlers of ``app``."""
    _connect_receivers()
    _register_job_handlers(app)


def _connect_receivers() -> None:
    from portal.dashboard import services as dashboard
    from portal.mail import notices
    from portal.passes import services as passes

    # A worker created or changed: their card gets a new version (or is revoked), their
    # eligibility snapshot is recomputed.
    events.workers_changed.connect(passes.on_workers_changed)
    events.workers_changed.connect(dashboard.on_workers_changed)
    # A worker left: their card is revoked, they leave the snapshot.
    events.workers_deactivated.connect(passes.on_workers_deactivated)
    events.workers_deactivated.connect(dashboard.on_workers_deactivated)
    # An enterprise suspended or rejected: every card of it is revoked.
    events.enterprise_status_changed.connect(passes.on_enterprise_status_changed)
    # An enterprise approved (or reinstated), rejected or suspended: its HR accounts get a mail.
    events.enterprise_status_changed.connect(notices.on_enterprise_status_changed)
    # A print sheet ready: whoever asked for it gets a mail with the link.
    events.print_sheet_ready.connect(notices.on_print_sheet_ready)


def _register_job_handlers(app: Flask) -> None:
    from portal.imports import services as imports
    from portal.jobs.services import register_handler
    from portal.mail import services as mail
    from portal.passes import services as passes
    from portal.printing import sheet

    register_handler(app, "print_sheet", sheet.print_sheet_job, label=_l("Print sheet of green cards"),
                     back_endpoint="passes.index")
    register_handler(app, "issue_all", passes.issue_all_job,
                     label=_l("Issue green cards for all eligible workers"), back_endpoint="passes.index")
    register_handler(app, "imports.check", imports.check_job, label=_l("Checking the worker list"),
                     back_endpoint="imports.upload", on_failure=imports.reset_after_failed_job)
    register_handler(app, "imports.commit", imports.commit_job, label=_l("Importing the worker list"),
                     back_endpoint="imports.upload", on_failure=imports.reset_after_failed_job)
    # Mails leave over SMTP from a job, so a slow mail server never holds a request.
    register_handler(app, mail.SEND_JOB, mail.send_mail_job, label=_l("Sending a mail"),
                     back_endpoint="mail.outbox")
