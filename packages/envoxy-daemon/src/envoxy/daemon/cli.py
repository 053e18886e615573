"""``envoxy-cli``: project tools. ``envoxy-cli create-project NAME`` makes a new service."""

import click

from envoxy.daemon.scaffold import create_project, legacy_create_project

__all__ = ["main"]


@click.group(invoke_without_command=True, help="Envoxy project tools.")
@click.option(
    "-c",
    "--create-project",
    "legacy_create",
    is_flag=True,
    help="Legacy form of `create-project`: envoxy-cli -c -n NAME.",
)
@click.option("-n", "--name", "legacy_name", metavar="NAME", help="The project name for -c.")
@click.version_option(package_name="envoxy-daemon", prog_name="envoxy-cli")
@click.pass_context
def main(ctx: click.Context, legacy_create: bool, legacy_name: str | None) -> None:
    """The ``envoxy-cli`` command group."""
    legacy_create_project(ctx, legacy_create, legacy_name)


main.add_command(create_project)
