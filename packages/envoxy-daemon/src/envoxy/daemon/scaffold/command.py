"""The ``envoxy-cli create-project`` command and its legacy form ``envoxy-cli -c -n NAME``."""

from pathlib import Path

import click

from envoxy.daemon.scaffold.exceptions import ProjectNameError
from envoxy.daemon.scaffold.names import ProjectNames, project_names
from envoxy.daemon.scaffold.project import write_project

__all__ = ["PROJECT_NAME", "ProjectNameType", "create_project", "legacy_create_project"]


class ProjectNameType(click.ParamType):
    """A click parameter type turning NAME into :class:`ProjectNames` (usage error if unusable)."""

    name = "name"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> ProjectNames:
        """Return the names derived from ``value``; fail with the reason when unusable."""
        if isinstance(value, ProjectNames):
            return value
        try:
            return project_names(str(value))
        except ProjectNameError as exc:
            self.fail(exc.message, param, ctx)


PROJECT_NAME = ProjectNameType()


@click.command("create-project")
@click.argument("name", type=PROJECT_NAME)
@click.option(
    "--dir",
    "parent",
    type=click.Path(exists=True, file_okay=False, writable=True, path_type=Path),
    default=Path("."),
    show_default="the current folder",
    help="Existing folder to create the project in.",
)
def create_project(name: ProjectNames, parent: Path) -> None:
    """Create DIR/<slug>: a new Envoxy service, ready to install, migrate, run and test.

    The slug is NAME lowercased with each run of other characters than a-z and 0-9
    turned into "-"; the Python package is the slug with "-" replaced by "_"
    ("My Service" gives my-service/ and my_service). NAME has at most 100
    characters, none a control or invisible one; the package must be an identifier
    that is not a keyword, a standard-library module or a reserved name. NAME itself
    is only the README's title and the package docstring, written escaped, never as
    code. The project holds one model
    (Item), views to list, create and get items, an initial migration, tests and a
    README. An existing, non-empty DIR/<slug> is an error and nothing is written.

    Exit status: 0 created; 2 unusable NAME or DIR; 3 DIR/<slug> is not empty;
    4 the initial migration failed; 1 any other failure.
    """
    target = write_project(name, parent)
    click.echo(f"Created {target} (package {name.package}). Next steps:\n")
    click.echo(f"  cd {target}")
    click.echo("  python3.12 -m venv .venv && . .venv/bin/activate")
    click.echo("  pip install -e '.[test]'")
    click.echo("  ENVOXY_CONFIG=envoxy.json envoxy-alembic upgrade head")
    click.echo("  pytest")
    click.echo("  envoxyd --http :8080 --set conf=envoxy.json")


def legacy_create_project(ctx: click.Context, create: bool, name: str | None) -> None:
    """Handle the group options of the legacy form ``envoxy-cli -c -n NAME``.

    Call it from the ``envoxy-cli`` group callback with its ``-c`` flag and ``-n``
    value. Without either and without a command it prints the help.

    :raises click.UsageError: ``-c`` without ``-n NAME`` (or the reverse), or either
        combined with a command.
    """
    if not create and name is None:
        if ctx.invoked_subcommand is None:
            click.echo(ctx.get_help())
            ctx.exit(0)
        return
    if ctx.invoked_subcommand is not None:
        raise click.UsageError(
            "-c/-n is the legacy form of create-project and takes no command: "
            "use `envoxy-cli create-project NAME` or `envoxy-cli -c -n NAME`",
            ctx,
        )
    if not create or name is None:
        missing = "-n NAME" if create else "-c"
        raise click.UsageError(f"the legacy form needs {missing}: envoxy-cli -c -n NAME", ctx)
    ctx.invoke(create_project, name=PROJECT_NAME.convert(name, None, ctx), parent=Path("."))
