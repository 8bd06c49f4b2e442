"""The plugin seam through which each pilot unit brings its own rules.

Plugin authors need one import::

    from portal.plugins import hookimpl, types

and one entry point in their ``setup.cfg`` under :data:`ENTRY_POINT_GROUP`.
"""
import pluggy

from portal.plugins import types  # noqa: F401  (re-exported for plugin authors)

#: The pluggy project name; hookimpls must be marked with this project's marker.
PROJECT_NAME = "portal"

#: The entry-point group every unit plugin registers under (``setup.cfg``: ``[options.entry_points]``).
ENTRY_POINT_GROUP = "portal.units"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["ENTRY_POINT_GROUP", "PROJECT_NAME", "hookimpl", "hookspec", "types"]


def current_registry():
    """Return the unit registry of the running app (``current_app.extensions['portal.plugins']``)."""
    from flask import current_app

    return current_app.extensions["portal.plugins"].registry
