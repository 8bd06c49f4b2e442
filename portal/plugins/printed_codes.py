"""Keep every printed card readable: a unit's short code cannot change, nor the unit vanish, once it has cards.

``short_code`` prefixes each card's serial and is inside each card's QR token; the checkpoint
compares it with the unit's row. If a plugin changed it, every card already in a worker's pocket
would scan as invalid, so the portal refuses to start (and ``portal units sync`` refuses to write)
and says what to do instead.

This module reads two tables by name (``pilot_units`` and ``passes``) with SQL Core, so the plugin
seam does not import the features that own them.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.exc import DBAPIError

from portal.plugins.registry import PluginError, UnitRegistry

log = logging.getLogger(__name__)

_units = table("pilot_units", column("id"), column("code"), column("short_code"))
_passes = table("passes", column("id"), column("unit_id"))


class PrintedCodeChanged(PluginError):
    """Raised when the installed plugins no longer match the short codes printed on issued cards."""


def printed_codes(connection) -> list[tuple[str, str, int]]:
    """Return (unit code, short code, cards issued) for every unit with at least one card, by code."""
    query = (
        select(_units.c.code, _units.c.short_code, func.count(_passes.c.id))
        .select_from(_units.join(_passes, _passes.c.unit_id == _units.c.id))
        .group_by(_units.c.code, _units.c.short_code)
        .order_by(_units.c.code)
    )
    return [(code, short_code, count) for code, short_code, count in connection.execute(query)]


def problems(registry: UnitRegistry, printed: Iterable[tuple[str, str, int]],
             disabled: Iterable[str] = ()) -> list[str]:
    """Return one message per unit whose printed cards the installed plugins would no longer honour."""
    disabled = set(disabled)
    by_short_code = {unit.short_code: code for code, unit in registry.units.items()}
    found = []
    for code, short_code, count in printed:
        cards = f"{count:,} card{'s' if count != 1 else ''}"
        unit = registry.units.get(code)
        if unit is not None and unit.short_code != short_code:
            plugin = registry.pm.get_name(registry.plugin(code))
            found.append(
                f"Unit {code!r} has issued {cards} whose serials and QR codes carry its short code "
                f"{short_code!r}, but its plugin ({plugin!r}) now declares short code {unit.short_code!r}. "
                f"Printed cards cannot change: put short_code={short_code!r} back in the plugin's portal_unit(). "
                "The short code is the unit's stable, printed identifier (docs/plugins.md)."
            )
            continue
        claimant = by_short_code.get(short_code)
        if claimant is not None and claimant != code:
            found.append(
                f"Short code {short_code!r} is printed on {cards} of unit {code!r}, and unit {claimant!r} now "
                f"declares it too. If {claimant!r} is {code!r} renamed, put code={code!r} back in its "
                "portal_unit() (the code names the unit's rows in the database); otherwise give "
                f"{claimant!r} a short code no card carries."
            )
            continue
        if unit is None and code not in disabled:
            found.append(
                f"Unit {code!r} has issued {cards} (short code {short_code!r}), but no installed plugin brings "
                "it now. Install its plugin again; if the unit has left the pilot on purpose, disable it by "
                f"name (PORTAL_DISABLED_PLUGINS={code}) so that its enterprises show it as not active."
            )
    return found


def check_printed_codes(connection, registry: UnitRegistry, disabled: Iterable[str] = ()) -> None:
    """Raise :class:`PrintedCodeChanged` unless every unit with issued cards keeps its short code.

    A database without the ``pilot_units`` and ``passes`` tables (new, or not migrated yet) has
    no cards and passes.
    """
    tables = inspect(connection)
    if not (tables.has_table("pilot_units") and tables.has_table("passes")):
        return
    found = problems(registry, printed_codes(connection), disabled)
    if found:
        raise PrintedCodeChanged("The installed unit plugins do not match the cards already issued:\n- "
                                 + "\n- ".join(found))


def check_database(engine, registry: UnitRegistry, disabled: Iterable[str] = ()) -> None:
    """Run :func:`check_printed_codes` at start-up; a database that cannot be reached is logged, not fatal.

    The portal cannot serve without its database anyway, and ``portal units sync`` checks again
    before it writes a short code.
    """
    try:
        with engine.connect() as connection:
            check_printed_codes(connection, registry, disabled)
    except DBAPIError as error:
        log.warning("Could not check the units' printed short codes at start-up: %s", error.orig)
