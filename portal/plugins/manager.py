"""Build the plugin manager: the built-in rules, the installed unit plugins, and the checks at start-up."""
from __future__ import annotations

import difflib
import importlib
from collections.abc import Iterable

import pluggy

from portal.plugins import ENTRY_POINT_GROUP, PROJECT_NAME, hookspecs
from portal.plugins.registry import PluginError, UnitRegistry

#: The name under which the built-in rules are registered; it cannot be disabled.
DEFAULT_PLUGIN_NAME = "portal.defaults"


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
        callers = {name: getattr(self.hook, name) for name in dir(self.hook)}
        callers = {name: caller for name, caller in callers.items() if isinstance(caller, pluggy.HookCaller)}
        known = [name for name, caller in callers.items() if caller.spec is not None]
        for name, caller in callers.items():
            if caller.spec is not None:
                continue
            for impl in caller.get_hookimpls():
                if impl.optionalhook:
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
    try:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        for plugin in extra:
            if isinstance(plugin, str):
                plugin = importlib.import_module(plugin)
            if not pm.is_registered(plugin):
                pm.register(plugin)
    except pluggy.PluginValidationError as error:
        # A hookimpl whose arguments the hookspec does not have, for instance.
        name = getattr(error.plugin, "__name__", repr(error.plugin))
        detail = "; ".join(line.strip() for line in str(error).splitlines() if line.strip())
        raise PluginError(f"Plugin {name!r} is not valid: {detail}") from error
    pm.check()
    pm.registry  # noqa: B018  (build now so duplicate codes stop start-up, not a checkpoint)
    return pm
