"""In-process signals between features (blinker), sent inside the transaction that makes the change.

Receivers run synchronously with the sender's session and must not commit: the change and its
consequences (a pass revoked, a new pass version, an eligibility snapshot) land together or not at all.
Plugins hear about events through their own hooks (portal_enterprise_approved, ...), after the commit.

Every signal carries ``session`` (the sender's); those about enterprises and workers also carry
``registry`` (the unit registry the sender was given), so receivers ask the same rules the sender
did and never reach for the app's globals.
"""
from blinker import Namespace

_signals = Namespace()

#: sender: the Enterprise; kwargs: session, registry, actor (User or None), before (status), after
#: (status), reason (the official's words, or None)
enterprise_status_changed = _signals.signal("enterprise-status-changed")

#: sender: the Enterprise; kwargs: session. A question, not a change: each receiver returns how many of
#: the enterprise's active green cards a suspension or a rejection would revoke (the officials confirm
#: with that count in front of them); the sender adds the answers up.
cards_at_stake = _signals.signal("cards-at-stake")

#: sender: the Enterprise, whose unit, business type or sector changed; kwargs: session, registry, actor
enterprise_reclassified = _signals.signal("enterprise-reclassified")

#: sender: the Enterprise; kwargs: session, registry, actor, worker_ids (list[int]) created or changed
#: in one operation, cause (optional: "registry" when the health registry's data replaced what was declared)
workers_changed = _signals.signal("workers-changed")

#: sender: the Enterprise; kwargs as workers_changed. Heard *before* workers_changed, by what derives data
#: the rules read from what HR declared (the health registry's provenance of each dose): blinker does not
#: order the receivers of one signal, so what must come first listens here. Send both with
#: :func:`send_workers_changed`.
workers_declared = _signals.signal("workers-declared")


def send_workers_changed(enterprise, **kwargs) -> None:
    """Say that HR created or changed workers: ``workers_declared``, then ``workers_changed``."""
    workers_declared.send(enterprise, **kwargs)
    workers_changed.send(enterprise, **kwargs)


#: sender: the Enterprise; kwargs: session, registry, actor, worker_ids (list[int]) deactivated, reason
#: (the words HR gave)
workers_deactivated = _signals.signal("workers-deactivated")

#: sender: the enterprise id; kwargs: session (the job's), job_id, user_id (who asked), count (cards),
#: base_url. Sent by the print-sheet job once its file is written; the job commits after it.
print_sheet_ready = _signals.signal("print-sheet-ready")

#: sender: the User; kwargs: session, template (of portal.mail), kind, context (for the template; the
#: user is added), secret (a link that must not be shown on the outbox page). An account needs a mail
#: (its confirmation or reset link): the accounts feature says so, the mail feature writes it.
account_mail_due = _signals.signal("account-mail-due")
