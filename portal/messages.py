"""What the portal says to people: messages kept as ids and parameters, and the one refusal error.

The database never holds a translated sentence. It holds a :class:`Message` (the English msgid as
extracted for translation, plus its parameters) as JSON, and the page renders it in the reader's
language::

    refusal = Refusal(_l("Not eligible: %(reason)s", reason=eligibility.reason), field="doses")
    batch.report = [Message.of(_l("Row %(row)s: %(problem)s", row=3, problem=...)).as_json()]
    ...
    {{ stored | message }}        (in a template)   /   Message.from_json(stored).render()

A parameter may be a JSON scalar, a date (shown dd/mm/yyyy), or another message (a lazy string
from ``lazy_gettext``, a :class:`Message`); text typed by a person (a note, a name) is a
:func:`literal`, never looked up in a catalog.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from flask_babel.speaklater import LazyString

__all__ = ["Conflict", "Message", "Refusal", "literal"]


@dataclass(frozen=True)
class Message:
    """A sentence to show someone: a msgid and its parameters, rendered late in the reader's language."""

    id: str
    params: Mapping[str, Any] = field(default_factory=dict)
    #: True for text a person typed (a note, a name): shown as it is, never translated.
    is_literal: bool = False

    # -- making -----------------------------------------------------------------

    @classmethod
    def of(cls, value, **params) -> Message:
        """Return ``value`` (a Message, a ``lazy_gettext`` string or a msgid) as a Message.

        ``params`` add to (or, for a msgid, are) the message's parameters.
        """
        if isinstance(value, Message):
            return cls(value.id, {**value.params, **params}, value.is_literal) if params else value
        if isinstance(value, LazyString):
            func = getattr(value, "_func", None)
            args = getattr(value, "_args", ())
            if getattr(func, "__name__", "") == "gettext" and len(args) == 1 and isinstance(args[0], str):
                return cls(args[0], _params({**getattr(value, "_kwargs", {}), **params}))
            return literal(str(value))  # ngettext or another lazy form: keep its current wording
        if isinstance(value, str):
            return cls(value, _params(params))
        raise TypeError(f"cannot make a message of {type(value).__name__}")

    @classmethod
    def from_json(cls, data) -> Message:
        """Read a message written by :meth:`as_json` (a bare string is an untranslated legacy text)."""
        if isinstance(data, Message):
            return data
        if data is None:
            return literal("")
        if isinstance(data, str):
            return literal(data)
        if "id" not in data:  # kept in each language by an older release: {"vi": ..., "en": ...}
            from portal.i18n import current_language

            return literal(data.get(current_language()) or data.get("vi") or "")
        params = {key: _param_from_json(value) for key, value in (data.get("params") or {}).items()}
        return cls(str(data["id"]), params, bool(data.get("literal")))

    # -- showing ----------------------------------------------------------------

    def render(self) -> str:
        """Return the message in the current language (the request's, or the job's)."""
        if self.is_literal:
            return self.id
        values = {key: _render_param(value) for key, value in self.params.items()}
        return gettext(self.id, **values) if values else gettext(self.id)

    def __str__(self) -> str:
        return self.render()

    def __html__(self) -> str:  # Jinja escapes it like any text
        from markupsafe import escape

        return str(escape(self.render()))

    def as_json(self) -> dict:
        """Return what the database keeps: ``{"id": msgid, "params": {...}}``."""
        data: dict = {"id": self.id, "params": {key: _param_to_json(value) for key, value in self.params.items()}}
        if self.is_literal:
            data["literal"] = True
        return data


def literal(text: str) -> Message:
    """Return text a person typed (or an outside system sent) as a message that is never translated."""
    return Message(str(text), {}, True)


class Refusal(Exception):
    """Something the portal refuses to do, with the message to show and the form field it concerns.

    ``message`` is a ``lazy_gettext`` string (with its parameters) or a :class:`Message`. Services
    raise it; views show ``str(refusal)`` (rendered in the reader's language) next to ``field``,
    the API returns :meth:`as_json`, jobs store ``refusal.message.as_json()``. A service that finds
    several problems at once raises the first with the others in ``also``; iterating a refusal
    gives every problem.
    """

    def __init__(self, message, *, field: str | None = None, also=(), **params):
        self.message = Message.of(message, **params)
        self.field = field
        self.also = tuple(also)
        super().__init__(self.message.id)

    def __str__(self) -> str:
        return self.message.render()

    def __iter__(self):
        yield self
        yield from self.also

    def as_json(self) -> dict:
        return {"message": self.message.render(), "field": self.field}

    @classmethod
    def of(cls, refusals) -> Refusal | None:
        """Return the first of ``refusals`` carrying the others, or None when there are none."""
        refusals = list(refusals)
        if not refusals:
            return None
        first = refusals[0]
        return type(first)(first.message, field=first.field, also=refusals[1:])


class Conflict(Refusal):
    """A refusal because someone else changed the same thing first: the page shows its current state."""


# ---------------------------------------------------------------------------
# Parameters
# ---------------------------------------------------------------------------

def _params(values: Mapping[str, Any]) -> dict[str, Any]:
    return {key: _param(value) for key, value in values.items()}


def _param(value):
    if isinstance(value, (Message, date, bool, int, float)) or value is None:
        return value
    if isinstance(value, LazyString):
        return Message.of(value)
    if isinstance(value, str):
        return value
    return str(value)


def _render_param(value):
    if isinstance(value, Message):
        return value.render()
    if isinstance(value, datetime):
        from portal.clock import format_datetime

        return format_datetime(value)
    if isinstance(value, date):
        from portal.clock import format_date

        return format_date(value)
    return value


def _param_to_json(value):
    if isinstance(value, Message):
        return {"message": value.as_json()}
    if isinstance(value, datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    return value


def _param_from_json(value):
    if isinstance(value, dict):
        if "message" in value:
            return Message.from_json(value["message"])
        if "datetime" in value:
            return datetime.fromisoformat(value["datetime"])
        if "date" in value:
            return date.fromisoformat(value["date"])
    return value


# ---------------------------------------------------------------------------
# Notices for whoever made a change
# ---------------------------------------------------------------------------

NOTICES_KEY = "portal.notices"


@dataclass(frozen=True)
class Notice:
    """What a consequence of a change tells the person who made it (a card replaced: print it again).

    A higher feature adds it inside the transaction (:func:`add_notice`); the view that made the change
    shows it once committed (:func:`take_notices`), without knowing which feature spoke.
    """

    message: Message
    endpoint: str | None = None  # the next step, as a link
    link_label: Any = None


def add_notice(session, notice: Notice) -> None:
    """Keep ``notice`` for the view that owns ``session``'s transaction (outside a request nobody would read it)."""
    from flask import has_request_context

    if has_request_context():
        session.info.setdefault(NOTICES_KEY, []).append(notice)


def take_notices(session) -> list[Notice]:
    """Return and forget the notices added in ``session`` (a view calls it after its commit)."""
    return session.info.pop(NOTICES_KEY, [])


def notice_markup(notice: Notice):
    """Return ``notice`` as flash text in the reader's language, with its next step as a link."""
    from markupsafe import Markup

    text, link = notice.message.render(), notice_link(notice)
    if link is None:
        return text
    return Markup('{} <a href="{}">{}</a>').format(text, link, str(notice.link_label or ""))


def notice_link(notice: Notice) -> str | None:
    """Return the path of ``notice``'s next step, or None when it has none this portal serves."""
    from flask import url_for

    from portal.navigation import has_endpoint

    if not notice.endpoint or not has_endpoint(notice.endpoint):
        return None
    return url_for(notice.endpoint)
