"""The plugin seam through which each pilot unit brings its own rules.

Plugin authors need one import::

    from portal.plugins import api, hookimpl

``hookimpl`` marks their hook functions; :mod:`portal.plugins.api` holds every type and helper a
plugin may use. A unit plugin has one entry point in its ``setup.cfg`` under :data:`ENTRY_POINT_GROUP`.
See docs/plugins.md.
"""
import pluggy

#: The pluggy project name; hookimpls must be marked with this project's marker.
PROJECT_NAME = "portal"

#: The entry-point group every unit plugin registers under (``setup.cfg``: ``[options.entry_points]``).
ENTRY_POINT_GROUP = "portal.units"

#: The import every plugin module, hookspec example and the guide use (checked by tests/plugins).
PLUGIN_IMPORT = "from portal.plugins import api, hookimpl"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

__all__ = ["ENTRY_POINT_GROUP", "PLUGIN_IMPORT", "PROJECT_NAME", "api", "hookimpl", "hookspec"]


def current_registry():
    """Return the unit registry of the running app (``current_app.extensions['portal.plugins']``)."""
    from flask import current_app

    return current_app.extensions["portal.plugins"].registry
