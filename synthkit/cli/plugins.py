"""The ``plugins`` command."""

from __future__ import annotations

import json
import click


def add_commands(cli: click.Group) -> None:
    """Add ``synthkit plugins``."""

    @cli.command(name="plugins")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
    def plugins_command(as_json: bool) -> None:
        """List installed plugins with their package, version and every part they provide.

        Built-in parts are listed under synthkit's own modules; third-party plugins under
        their entry-point name. SYNTHKIT_LOAD_PLUGINS=a,b loads only those third-party plugins.

        Example:

        \b
            synthkit plugins --json
        """
        from synthkit.plugins import KINDS, get_plugins

        infos = get_plugins().infos()
        if as_json:
            data = [{"name": i.name, "package": i.package, "version": i.version, **i.parts} for i in infos]
            click.echo(json.dumps(data, indent=2))
            return
        for info in infos:
            click.echo(f"{info.name}  ({info.package} {info.version})")
            for kind in KINDS:
                if info.parts.get(kind):
                    click.echo(f"    {kind + ':':<11} {', '.join(info.parts[kind])}")
