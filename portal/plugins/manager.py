"""Build the plugin manager: the built-in rules, the installed unit plugins, and the checks at start-up."""
from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable

import pluggy

from portal.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from portal.plugins.registry import UnitRegistry

#: The name under which the built-in rules are registered; it cannot be disabled.
DEFAULT_PLUGIN_NAME = "portal.defaults"


class PluginError(RuntimeError):
    """Raised at start-up when the installed plugins are inconsistent."""


class PortalPluginManager(pluggy.PluginManager):
    """A pluggy manager that keeps the unit registry in step with what is registered."""

    def __init__(self) -> None:
        super().__init__(PROJECT_NAME)
        self.add_hookspecs(hookspecs)
        self._registry: UnitRegistry | None = None

    def register(self, plugin, name=None):
        result = super().register(plugin, name)
        self._registry = None
        return result

    def unregister(self, plugin=None, name=None):
        result = super().unregister(plugin, name)
        self._registry = None
        return result

    @property
    def registry(self) -> UnitRegistry:
        """Return the units and their declarations, built on first use after any (un)registration."""
        if self._registry is None:
            self._registry = UnitRegistry.build(self)
        return self._registry

    def check(self) -> None:
        """Stop start-up on a hookimpl that matches no hookspec (usually a misspelling)."""
        known = [name for name in dir(self.hook) if name.startswith("portal_")]
        for name in dir(self.hook):
            caller = getattr(self.hook, name)
            if not isinstance(caller, pluggy.HookCaller) or caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.hookimpl_opts.get("optionalhook"):
                    continue
                suggestion = difflib.get_close_matches(name, known, n=1)
                hint = f" Did you mean {suggestion[0]!r}?" if suggestion else ""
                raise PluginError(
                    f"Plugin {self.get_name(impl.plugin)!r} implements {name!r}, which is not a portal hook."
                    f"{hint} See docs/plugins.md for the hooks."
                )
        self.check_pending()


def build_plugin_manager(disabled: Iterable[str] = (), extra: Iterable = ()) -> PortalPluginManager:
    """Return a checked manager with the built-in rules, the entry-point plugins and ``extra`` plugins.

    ``disabled`` names entry points (as in ``setup.cfg``) to leave out. ``extra`` holds plugin
    objects or dotted module names, registered after the entry points (used by tests and by
    deployments that load a plugin from a path).
    """
    disabled = set(disabled)
    if DEFAULT_PLUGIN_NAME in disabled:
        raise PluginError(f"The built-in rules ({DEFAULT_PLUGIN_NAME}) cannot be disabled.")
    pm = PortalPluginManager()
    from portal.plugins import default

    pm.register(default, name=DEFAULT_PLUGIN_NAME)
    for name in disabled:
        pm.set_blocked(name)
    pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    for plugin in extra:
        if isinstance(plugin, str):
            plugin = importlib.import_module(plugin)
        if pm.is_registered(plugin):
            continue
        pm.register(plugin)
    pm.check()
    pm.registry  # noqa: B018  (build now so duplicate codes stop start-up, not a checkpoint)
    return pm
