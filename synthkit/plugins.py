"""The plugin manager: discovery of teachers, templates, verifiers, filters, mixers, commands.

Nothing loads at import time. :func:`get_plugins` builds the manager once per process:
hookspecs, the ``synthkit`` entry points (restricted by ``SYNTHKIT_LOAD_PLUGINS``), the
built-ins (which use the same hooks), ``check_pending()``, then one registry per kind.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import importlib.metadata as md
import os
from collections.abc import Callable, Iterable
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import DuplicateNameError, PluginLoadError, UnknownNameError

__all__ = [
    "KINDS",
    "DEFAULT_PLUGINS",
    "Entry",
    "Registry",
    "PluginInfo",
    "Plugins",
    "get_plugins",
    "load_plugins",
    "reset_plugins",
    "get_teacher",
    "get_template",
    "get_verifier",
    "get_filter",
    "get_mixer",
    "get_exporter",
    "get_engine",
    "lazy",
]

#: The kinds of part a plugin registers, as (kind, singular noun).
KINDS = {
    "teachers": "teacher",
    "templates": "template",
    "verifiers": "verifier",
    "filters": "filter",
    "mixers": "mixer",
    "exporters": "exporter",
    "engines": "engine",
}

#: Built-in plugins, registered through the same hooks as third-party ones.
DEFAULT_PLUGINS = (
    "synthkit.default_plugins.templates",
    "synthkit.default_plugins.strategies",
    "synthkit.default_plugins.teachers",
    "synthkit.default_plugins.verifiers",
    "synthkit.default_plugins.filters",
    "synthkit.default_plugins.mixers",
    "synthkit.default_plugins.commands",
    "synthkit.default_plugins.interchange",
    "synthkit.default_plugins.engines",
    "synthkit.default_plugins.cards",
)

ENV_LOAD = "SYNTHKIT_LOAD_PLUGINS"


@attrs.frozen
class Entry:
    """One registered part: its name, the factory that builds it, and who registered it."""

    name: str
    factory: Callable[..., Any]
    plugin: str
    summary: str = ""


@attrs.define
class Registry:
    """The parts of one kind, by name."""

    kind: str
    _entries: dict[str, Entry] = attrs.Factory(dict)
    _packages: dict[str, str] = attrs.Factory(dict)

    def add(self, entry: Entry, package: str) -> None:
        """Add ``entry``; a name registered twice is an error naming both plugins."""
        old = self._entries.get(entry.name)
        if old is not None:
            noun = KINDS[self.kind]
            msg = (
                f"{noun} {entry.name!r} is registered by two plugins: {old.plugin!r} (package "
                f"{self._packages[old.name]}) and {entry.plugin!r} (package {package}). Uninstall one, "
                f"or choose which plugins load with {ENV_LOAD}=name,name"
            )
            raise DuplicateNameError(msg)
        self._entries[entry.name] = entry
        self._packages[entry.name] = package

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entry(self, name: str) -> Entry:
        """Return the entry for ``name``; an unknown name lists what exists and the closest match."""
        try:
            return self._entries[name]
        except KeyError:
            noun = KINDS[self.kind]
            close = difflib.get_close_matches(name, self._entries, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            available = ", ".join(self.names()) or "none"
            msg = (
                f"unknown {noun} {name!r}.{hint} Available {self.kind}: {available}. "
                f"Run `synthkit plugins` to see which package provides each, or install the plugin that provides it."
            )
            raise UnknownNameError(msg) from None

    def get(self, name: str, **options: Any) -> Any:
        """Build the part ``name`` with ``options``."""
        return self.entry(name).factory(**options)

    def __iter__(self) -> Any:
        return iter(self._entries.values())


@attrs.frozen
class PluginInfo:
    """What ``synthkit plugins`` shows for one plugin."""

    name: str
    package: str
    version: str
    parts: dict[str, list[str]]


@attrs.define
class Plugins:
    """A loaded plugin manager with one registry per kind."""

    pm: pluggy.PluginManager
    dists: dict[str, tuple[str, str]]
    registries: dict[str, Registry]

    def infos(self) -> list[PluginInfo]:
        out = []
        for name, (package, version) in self.dists.items():
            parts = {k: sorted(e.name for e in reg if e.plugin == name) for k, reg in self.registries.items()}
            parts = {k: names for k, names in parts.items() if names}
            out.append(PluginInfo(name=name, package=package, version=version, parts=parts))
        return out

    def call_each(self, hook: str, **kwargs: Any) -> None:
        """Call ``hook`` plugin by plugin, naming the plugin if it raises."""
        for impl in getattr(self.pm.hook, hook).get_hookimpls():
            try:
                impl.function(**{k: kwargs[k] for k in impl.argnames})
            except (DuplicateNameError, PluginLoadError):
                raise
            except Exception as exc:
                msg = f"plugin {impl.plugin_name!r} raised in {hook}: {type(exc).__name__}: {exc}"
                raise PluginLoadError(msg) from exc


def _version(package: str) -> str:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return "unknown"


def _selected(names: Iterable[str], only: str | None) -> set[str] | None:
    if only is None:
        return None
    return {n.strip() for n in only.split(",") if n.strip()}


def load_plugins(*, entry_points: bool = True, extra: Iterable[object] = (), only: str | None = None) -> Plugins:
    """Build a fresh plugin manager.

    Args:
        entry_points: load installed plugins from the ``synthkit`` entry-point group.
        extra: more plugin objects (modules or instances) to register, e.g. in tests.
        only: comma-separated entry-point or package names to load; defaults to
            ``$SYNTHKIT_LOAD_PLUGINS``; ``""`` loads none (built-ins always load).
    """
    pm = pluggy.PluginManager("synthkit")
    pm.add_hookspecs(hookspecs)
    dists: dict[str, tuple[str, str]] = {}
    if only is None:
        only = os.environ.get(ENV_LOAD)
    wanted = _selected((), only)
    if entry_points:
        for ep in md.entry_points(group="synthkit"):
            package = ep.dist.name if ep.dist else "unknown"
            if wanted is not None and ep.name not in wanted and package not in wanted:
                continue
            if pm.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
            except Exception as exc:
                msg = (
                    f"plugin {ep.name!r} (package {package}, entry point {ep.value}) failed to load: "
                    f"{type(exc).__name__}: {exc}. Fix or uninstall {package}, or leave it out with "
                    f"{ENV_LOAD}=<the plugins you want>"
                )
                raise PluginLoadError(msg) from exc
            pm.register(plugin, name=ep.name)
            dists[ep.name] = (package, ep.dist.version if ep.dist else "unknown")
    for mod in DEFAULT_PLUGINS:
        name = "synthkit." + mod.rsplit(".", 1)[1]
        pm.register(importlib.import_module(mod), name=name)
        dists[name] = ("synthkit", _version("synthkit"))
    for i, plugin in enumerate(extra):
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{i}"
        pm.register(plugin, name=name)
        dists[name] = (getattr(plugin, "__package__", None) or "(registered in code)", "-")
    try:
        pm.check_pending()
    except pluggy.PluginValidationError as exc:
        msg = f"plugin {exc.plugin!r} implements a hook synthkit does not define: {exc}"
        raise PluginLoadError(msg) from exc
    plugins = Plugins(pm=pm, dists=dists, registries={k: Registry(k) for k in KINDS})
    for kind, reg in plugins.registries.items():
        _register_kind(plugins, kind, reg)
    return plugins


def _register_kind(plugins: Plugins, kind: str, reg: Registry) -> None:
    hook = getattr(plugins.pm.hook, f"register_{kind}")
    for impl in reversed(hook.get_hookimpls()):
        package = plugins.dists.get(impl.plugin_name, ("unknown", ""))[0]

        def register(name: str, factory: Callable[..., Any], *, summary: str = "", _p: str = impl.plugin_name) -> None:
            reg.add(Entry(name=name, factory=factory, plugin=_p, summary=summary), package)

        try:
            impl.function(register=register)
        except (DuplicateNameError, PluginLoadError):
            raise
        except Exception as exc:
            msg = f"plugin {impl.plugin_name!r} (package {package}) raised in register_{kind}: {type(exc).__name__}: {exc}"
            raise PluginLoadError(msg) from exc


def lazy(module: str, attr: str) -> Callable[..., Any]:
    """Return a factory that imports ``module`` only when the part is built, then calls ``attr``.

    Built-ins register with it so that listing plugins imports no heavy library:
    ``register("math", lazy("synthkit.verifiers", "MathVerifier"))``.
    """

    def factory(*args: Any, **options: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(*args, **options)

    factory.__name__ = attr
    factory.__qualname__ = attr
    factory.__doc__ = f"Build :class:`{module}.{attr}`."
    return factory


@functools.cache
def get_plugins() -> Plugins:
    """Return the process-wide plugins, loading them on first use."""
    return load_plugins()


def reset_plugins() -> None:
    """Forget the loaded plugins so the next :func:`get_plugins` loads them again."""
    get_plugins.cache_clear()


def get_teacher(name: str, **options: Any) -> Any:
    """Build the teacher ``name`` (e.g. ``"openai"``, ``"procedural"``) with ``options``."""
    return get_plugins().registries["teachers"].get(name, **options)


def get_template(name: str, **options: Any) -> Any:
    """Build the prompt template ``name`` with ``options``."""
    return get_plugins().registries["templates"].get(name, **options)


def get_verifier(name: str, **options: Any) -> Any:
    """Build the verifier ``name`` with ``options``."""
    return get_plugins().registries["verifiers"].get(name, **options)


def get_filter(name: str, **options: Any) -> Any:
    """Build the filter ``name`` with ``options``."""
    return get_plugins().registries["filters"].get(name, **options)


def get_mixer(name: str, **options: Any) -> Any:
    """Build the mixer ``name`` with ``options``."""
    return get_plugins().registries["mixers"].get(name, **options)


def get_exporter(name: str, **options: Any) -> Any:
    """Build the trainer-format exporter ``name`` (e.g. ``"openai"``, ``"sharegpt"``) with ``options``."""
    return get_plugins().registries["exporters"].get(name, **options)


def get_engine(name: str, **options: Any) -> Any:
    """Build the execution engine ``name`` (``"local"``, or ``"ray"`` from synthkit-ray) with ``options``."""
    return get_plugins().registries["engines"].get(name, **options)
