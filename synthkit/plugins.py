"""The plugin manager: discovery of teachers, templates, verifiers, filters, mixers, commands.

Nothing loads at import time. :func:`get_plugins` builds the manager once per process:
hookspecs, the ``synthkit`` entry points (restricted by ``SYNTHKIT_LOAD_PLUGINS``), the
built-ins (which use the same hooks), ``check_pending()``, then one registry per kind.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import inspect
import importlib.metadata as md
import os
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import attrs
import pluggy

from synthkit import hookspecs
from synthkit._lazy import exports as lazy_exports  # for plugin faces (docs/plugins.md)
from synthkit._specs import remember
from synthkit.errors import DuplicateNameError, OptionError, PluginLoadError, SynthkitError, UnknownNameError

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
    "get_tool",
    "get_student",
    "lazy",
    "lazy_exports",
    "resolve",
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
    "tools": "tool",
    "students": "student",
}

#: Built-in plugins, registered through the same hooks as third-party ones.
DEFAULT_PLUGINS = (
    "synthkit.default_plugins.teachers",
    "synthkit.default_plugins.templates",
    "synthkit.default_plugins.verifiers",
    "synthkit.default_plugins.filters",
    "synthkit.default_plugins.mixers",
    "synthkit.default_plugins.exporters",
    "synthkit.default_plugins.engines",
    "synthkit.default_plugins.tools",
    "synthkit.default_plugins.students",
    "synthkit.default_plugins.commands",
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

    def call(self, hook: str, **kwargs: Any) -> None:
        """Call ``hook`` through pluggy (ordering and wrappers as pluggy documents), naming the plugin if one raises."""
        caller = getattr(self.pm.hook, hook)
        try:
            caller(**kwargs)
        except (DuplicateNameError, PluginLoadError):
            raise
        except Exception as exc:
            plugin = _raiser(caller, exc)
            package = self.dists.get(plugin, ("unknown", ""))[0]
            msg = f"plugin {plugin!r} (package {package}) raised in {hook}: {type(exc).__name__}: {exc}"
            raise PluginLoadError(msg) from exc


def _impl_codes(caller: Any) -> dict[int, str]:
    """Map the code object (by identity: equal source in two plugins gives equal code objects) of each implementation to its plugin."""
    codes = {}
    for impl in caller.get_hookimpls():
        fn = getattr(impl.function, "__func__", impl.function)
        code = getattr(fn, "__code__", None)
        if code is not None:
            codes[id(code)] = impl.plugin_name
    return codes


def _calling_plugin(caller: Any, frame: Any) -> str:
    """Return the plugin whose hook implementation is on the stack at or above ``frame``."""
    codes = _impl_codes(caller)
    while frame is not None:
        if id(frame.f_code) in codes:
            return codes[id(frame.f_code)]
        frame = frame.f_back
    return "unknown"


def _raiser(caller: Any, exc: BaseException) -> str:
    """Return the plugin whose hook implementation raised ``exc``."""
    codes = _impl_codes(caller)
    tb = exc.__traceback__
    found = "unknown"
    while tb is not None:
        found = codes.get(id(tb.tb_frame.f_code), found)
        tb = tb.tb_next
    return found


def _version(package: str) -> str:
    try:
        return md.version(package)
    except md.PackageNotFoundError:
        return "unknown"


def _selected(only: str | None) -> set[str] | None:
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
    wanted = _selected(only)
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
    caller = getattr(plugins.pm.hook, f"register_{kind}")

    def register(name: str, factory: Callable[..., Any], *, summary: str = "") -> None:
        plugin = _calling_plugin(caller, sys._getframe(1))  # noqa: SLF001 - which plugin's implementation is registering
        package = plugins.dists.get(plugin, ("unknown", ""))[0]
        reg.add(Entry(name=name, factory=factory, plugin=plugin, summary=summary), package)

    plugins.call(f"register_{kind}", register=register)


def lazy(module: str, attr: str) -> Callable[..., Any]:
    """Return a factory that imports ``module`` only when the part is built, then calls ``attr``.

    Built-ins register with it so that listing plugins imports no heavy library:
    ``register("math", lazy("synthkit.verify.math", "MathVerifier"))``.
    """

    def factory(*args: Any, **options: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(*args, **options)

    factory.__name__ = attr
    factory.__qualname__ = attr
    factory.__synthkit_target__ = _Target(module, attr)  # type: ignore[attr-defined] - for option checks
    factory.__doc__ = f"Build :class:`{module}.{attr}`."
    return factory


class _Target:
    """What a lazy factory builds, imported only when its signature is asked for."""

    def __init__(self, module: str, attr: str) -> None:
        self.module = module
        self.attr = attr

    def load(self) -> Any:
        return getattr(importlib.import_module(self.module), self.attr)


@functools.cache
def get_plugins() -> Plugins:
    """Return the process-wide plugins, loading them on first use."""
    return load_plugins()


def reset_plugins() -> None:
    """Forget the loaded plugins so the next :func:`get_plugins` loads them again."""
    get_plugins.cache_clear()


#: Parts that first-party distributions provide, for the hint when one is not installed.
FIRST_PARTY = {
    ("engine", "ray"): "synthkit-ray",
    ("teacher", "litellm"): "synthkit-litellm",
    ("teacher", "procedural"): "synthkit-procedural",
    ("verifier", "procedural"): "synthkit-procedural",
    ("student", "tiny-transformer"): "synthkit-students",
    ("student", "trl-sft"): "synthkit-students",
}

_NOUNS = {noun: kind for kind, noun in KINDS.items()}


def _interface(noun: str) -> type:
    from synthkit import interfaces
    from synthkit.tools.spec import Tool

    return {
        "tool": Tool,
        "engine": interfaces.Engine,
        "teacher": interfaces.Teacher,
        "template": interfaces.PromptTemplate,
        "verifier": interfaces.Verifier,
        "filter": interfaces.Filter,
        "mixer": interfaces.Mixer,
        "exporter": interfaces.Exporter,
        "student": interfaces.Student,
    }[noun]


def resolve(kind: str, part: Any, /, **options: Any) -> Any:
    """Return ``part`` if it already is a part of ``kind``, else build the registered part of that name with ``options``.

    The one way synthkit turns "a name or an object" into a part, in Python and on the CLI.

    Args:
        kind: the part's kind, singular: ``"teacher"``, ``"template"``, ``"verifier"``,
            ``"filter"``, ``"mixer"``, ``"exporter"``, ``"engine"``, ``"tool"`` or ``"student"``.
        part: an object of that kind (``options`` must then be empty), or a registered name;
            for a template, also the path of a template file.
        options: the options the named part is built with.

    Raises:
        UnknownNameError: no installed plugin registers the name; the message lists what is
            installed, the closest name, and the package of a first-party part.
        OptionError: an option the part does not take (with the closest one and the list).
    """
    if kind not in _NOUNS:
        msg = f"unknown kind of part {kind!r}; kinds are {', '.join(_NOUNS)}"
        raise ValueError(msg)
    if not isinstance(part, str):
        if not isinstance(part, _interface(kind)):
            msg = f"a {kind} must be a registered name or a {_interface(kind).__name__}, got {type(part).__name__}"
            raise TypeError(msg)
        if options:
            msg = f"options {sorted(options)} were given with a ready-made {kind} {getattr(part, 'name', part)!r}; build it with them instead"
            raise OptionError(msg)
        return part
    if kind == "template" and _is_template_file(part):
        from synthkit.templates.jinja import JinjaTemplate

        return remember(JinjaTemplate.from_file(part, **options), kind, part, options)
    registry = get_plugins().registries[_NOUNS[kind]]
    try:
        entry = registry.entry(part)
    except UnknownNameError as exc:
        package = FIRST_PARTY.get((kind, part))
        if package is None:
            raise
        msg = f"{exc} The {part!r} {kind} comes with the {package} distribution: pip install {package}"
        raise UnknownNameError(msg) from None
    options = check_options(entry.factory, options, what=f"{kind} {part!r}")
    try:
        return remember(entry.factory(**options), kind, part, options)
    except (ValueError, TypeError) as exc:
        if isinstance(exc, SynthkitError):
            raise
        msg = f"{kind} {part!r} cannot be built with {options or 'no options'}: {exc}"
        raise OptionError(msg) from None


def _is_template_file(name: str) -> bool:
    """Whether a template name is a path to a template file (it names an existing file)."""
    import pathlib

    return ("/" in name or "." in name) and pathlib.Path(name).is_file()


def option_names(factory: Callable[..., Any]) -> list[str] | None:
    """Return the keyword options ``factory`` takes, or ``None`` when it takes any (``**options``)."""
    target = getattr(factory, "__synthkit_target__", factory)
    if isinstance(target, _Target):
        target = target.load()
    # a class whose __init__ passes **options on to its base takes the base's options too
    inits = [c.__init__ for c in target.__mro__ if "__init__" in vars(c)] if isinstance(target, type) else [target]
    names: list[str] = []
    for init in inits:
        try:
            sig = inspect.signature(init)
        except (TypeError, ValueError):
            return None
        more = False
        for p in sig.parameters.values():
            if p.kind is p.VAR_KEYWORD:
                more = True
            elif p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and p.name != "self" and p.name not in names:
                names.append(p.name)
        if not more:
            return names
    return None


def check_options(factory: Callable[..., Any], options: Mapping[str, Any], *, what: str) -> dict[str, Any]:
    """Return ``options`` checked against what ``factory`` takes, values converted to the declared types.

    A value for an option declared ``int``, ``float``, ``bool`` or ``str`` (or that or
    ``None``) is converted when it can be (``"0.5"`` for a float, ``"yes"`` for a bool) and
    refused otherwise.

    Raises:
        OptionError: e.g. ``unknown option 'min_wrds' for filter 'length'; did you mean 'min_words'? options: ...``,
            or ``option 'wall' of verifier 'code' takes a number, got 'abc'``.
    """
    names = option_names(factory)
    if names is None:
        return dict(options)
    for key in options:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            msg = f"unknown option {key!r} for {what}{hint} options: {', '.join(names) or 'none'}"
            raise OptionError(msg)
    hints = _hints(factory)
    return {k: convert_option(v, hints.get(k), f"option {k!r} of {what}") for k, v in options.items()}


def _hints(factory: Callable[..., Any]) -> dict[str, Any]:
    import typing

    target = getattr(factory, "__synthkit_target__", factory)
    if isinstance(target, _Target):
        target = target.load()
    out: dict[str, Any] = {}
    inits = [c.__init__ for c in reversed(target.__mro__) if "__init__" in vars(c)] if isinstance(target, type) else [target]
    for init in inits:
        try:
            out.update(typing.get_type_hints(init))
        except Exception:  # noqa: BLE001, S112 - an annotation that cannot be resolved is not checked
            continue
    return out


_SCALARS = {int: "a whole number", float: "a number", bool: "true or false", str: "text"}


def convert_option(value: Any, hint: Any, what: str) -> Any:
    """Convert ``value`` to ``hint`` when the hint is ``int``, ``float``, ``bool`` or ``str`` (maybe ``| None``).

    Raises:
        OptionError: the value cannot be read as that type; the message names the option and the type.
    """
    import types
    import typing

    args = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    kinds = [a for a in args if a is not type(None)]
    if value is None and type(None) in args:
        return None
    if len(kinds) != 1 or kinds[0] not in _SCALARS:
        return value
    kind = kinds[0]
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "yes", "1", "on"):
                return True
            if text in ("false", "no", "0", "off"):
                return False
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            number = float(value) if isinstance(value, str) else value
            if isinstance(number, (int, float)) and float(number).is_integer():
                return int(number)
            raise ValueError(value)
        if kind is float:
            if isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise ValueError(value)
            return float(value)
        if isinstance(value, (int, float, str)) and not isinstance(value, bool):
            return str(value)
        raise ValueError(value)
    except (TypeError, ValueError):
        msg = f"{what} takes {_SCALARS[kind]}, got {value!r}"
        raise OptionError(msg) from None


def get_teacher(name: str, **options: Any) -> Any:
    """Build the teacher ``name`` (e.g. ``"openai"``, ``"procedural"``) with ``options``."""
    return resolve("teacher", name, **options)


def get_template(name: str, **options: Any) -> Any:
    """Build the prompt template ``name`` with ``options``."""
    return resolve("template", name, **options)


def get_verifier(name: str, **options: Any) -> Any:
    """Build the verifier ``name`` with ``options``."""
    return resolve("verifier", name, **options)


def get_filter(name: str, **options: Any) -> Any:
    """Build the filter ``name`` with ``options``."""
    return resolve("filter", name, **options)


def get_mixer(name: str, **options: Any) -> Any:
    """Build the mixer ``name`` with ``options``."""
    return resolve("mixer", name, **options)


def get_exporter(name: str, **options: Any) -> Any:
    """Build the trainer-format exporter ``name`` (e.g. ``"openai"``, ``"sharegpt"``) with ``options``."""
    return resolve("exporter", name, **options)


def get_engine(name: str, **options: Any) -> Any:
    """Build the execution engine ``name`` (``"local"``, or ``"ray"`` from synthkit-ray) with ``options``."""
    return resolve("engine", name, **options)


def get_tool(name: str, **options: Any) -> Any:
    """Build the tool ``name`` (e.g. ``"calculator"``), a :class:`~synthkit.tools.Tool`, with ``options``."""
    return resolve("tool", name, **options)


def get_student(name: str, **options: Any) -> Any:
    """Build the student ``name`` (``"lookup"``, or ``"tiny-transformer"`` from synthkit-students) with ``options``."""
    return resolve("student", name, **options)
