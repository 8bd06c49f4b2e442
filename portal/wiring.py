"""Every "when X happens, do Y" of the portal, connected in one place when the app is made.

Features never connect themselves on import. A reader who wants to know what follows a change
reads this module:

* event receivers (:mod:`portal.events`): they run inside the sender's transaction, with its
  session and registry, and never commit;
* background-job handlers (:mod:`portal.jobs`): what each kind of job runs, its label, the page
  its progress page links back to, and what puts the feature right when a job fails;
* panels (:mod:`portal.panels`): what a feature shows on a page another feature owns.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from portal import events


def wire(app: Flask) -> None:
    """Connect the event receivers, register the job handlers and add the panels of ``app``."""
    _connect_receivers()
    _register_job_handlers(app)
    _add_panels(app)


def _connect_receivers() -> None:
    from portal.eligibility import upkeep as eligibility
    from portal.health import resolving as health
    from portal.mail import notices
    from portal.mail import services as mail
    from portal.passes import upkeep as passes

    # HR declared workers' data: it is compared with the registry's records held (before anything
    # else hears of the change: the rules read each fact's provenance).
    events.workers_declared.connect(health.on_workers_declared)
    # A worker created or changed: their eligibility snapshot is recomputed, then their card gets a
    # new version (or is revoked; "registry_conflict" when the registry's data replaced HR's).
    events.workers_changed.connect(eligibility.on_workers_changed)
    events.workers_changed.connect(passes.on_workers_changed)
    # A worker left: they leave the snapshot, their card is revoked.
    events.workers_deactivated.connect(eligibility.on_workers_deactivated)
    events.workers_deactivated.connect(passes.on_workers_deactivated)
    # An enterprise's unit, business type or sector changed: its workers are evaluated again.
    events.enterprise_reclassified.connect(eligibility.on_enterprise_reclassified)
    # An enterprise suspended or rejected: every card of it is revoked (and, before, the official is
    # told how many).
    events.enterprise_status_changed.connect(passes.on_enterprise_status_changed)
    events.cards_at_stake.connect(passes.count_cards_at_stake)
    # An enterprise approved (or reinstated), rejected or suspended: its HR accounts get a mail.
    events.enterprise_status_changed.connect(notices.on_enterprise_status_changed)
    # A print sheet ready: whoever asked for it gets a mail with the link.
    events.print_sheet_ready.connect(notices.on_print_sheet_ready)
    # An account needs a mail (its confirmation or password-reset link): the mail feature writes it.
    events.account_mail_due.connect(mail.on_account_mail_due)


def _register_job_handlers(app: Flask) -> None:
    from portal.eligibility import upkeep as eligibility
    from portal.health import extract_jobs, extracts
    from portal.imports import checking, committing
    from portal.jobs.services import register_handler
    from portal.mail import services as mail
    from portal.passes import issuing, sheet
    from portal.printing import render

    register_handler(app, "print_sheet", sheet.print_sheet_job, label=_l("Print sheet of green cards"),
                     back_endpoint="passes.index", warm_up=render.warm_up)
    register_handler(app, "issue_all", issuing.issue_all_job,
                     label=_l("Issue green cards for all eligible workers"), back_endpoint="passes.index")
    register_handler(app, "imports.check", checking.check_job, label=_l("Checking the worker list"),
                     back_endpoint="imports.upload", on_failure=checking.reset_after_failed_job)
    register_handler(app, "imports.commit", committing.commit_job, label=_l("Importing the worker list"),
                     back_endpoint="imports.upload", on_failure=checking.reset_after_failed_job)
    # A registry extract uploaded by a health-data officer is checked, then matched, by jobs; a job given
    # up fails the extract (its file goes with the daily "portal health expire"). Only health-data officers
    # see these jobs, on the extract's page (not the admin, on /jobs/<id>).
    register_handler(app, extracts.CHECK_JOB, extract_jobs.check_job, label=_l("Checking a registry extract"),
                     back_endpoint="health.index", on_failure=extract_jobs.reset_after_failed_job, admin_sees=False)
    register_handler(app, extracts.MATCH_JOB, extract_jobs.match_job, label=_l("Matching a registry extract"),
                     back_endpoint="health.index", on_failure=extract_jobs.reset_after_failed_job, admin_sees=False)
    register_handler(app, "eligibility.refresh", eligibility.refresh_job,
                     label=_l("Evaluating the workers' eligibility again"), back_endpoint="home.dashboard")
    # Mails leave over SMTP from a job, so a slow mail server never holds a request.
    register_handler(app, mail.SEND_JOB, mail.send_mail_job, label=_l("Sending a mail"),
                     back_endpoint="mail.outbox")


def _add_panels(app: Flask) -> None:
    from portal.eligibility import views as eligibility
    from portal.panels import add_panel
    from portal.passes import views as passes

    # The enterprise page shows its workers' eligibility, then (to its officials) its cards.
    add_panel(app, "enterprise", eligibility.enterprise_panel, order=10)
    add_panel(app, "enterprise", passes.enterprise_cards_panel, order=20)
