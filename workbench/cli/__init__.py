"""``workbench`` on the command line. It only parses options and calls the library.

Exit codes: 0 success; 1 a run had errors, missed ``--fail-under`` or a comparison was worse with
``--fail-if-worse``; 2 bad input (a broken template, a missing column, an unknown model...), reported before
any model call.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup

from workbench.cli.badcases import bad_app
from workbench.cli.judge import judge_app
from workbench.cli.ops import nightly_command, serve_command
from workbench.cli.prompts import prompts_app
from workbench.cli.run import run_command
from workbench.cli.runs import runs_app
from workbench.cli.store import store_app
from workbench.errors import WorkbenchError


class _Commands(TyperGroup):
    """Every command's bad input (a :class:`WorkbenchError`) becomes one line on stderr and exit 2 — never a
    traceback — however the app is invoked (the console script, ``python -m workbench``, a test's CliRunner)."""

    def invoke(self, ctx: typer.Context) -> object:
        from workbench.cli.output import core_notes

        try:
            with core_notes("workbench.store"):
                return super().invoke(ctx)
        except WorkbenchError as exc:
            from workbench.secrets import redact

            typer.echo(f"Error: {redact(str(exc))}", err=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            typer.echo("Interrupted. Finished cells are stored; run the same command again to resume.", err=True)
            raise typer.Exit(130) from None


app = typer.Typer(
    cls=_Commands,
    help="Prompt Workbench: run prompt templates over datasets, score, compare, track bad cases.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(prompts_app, name="prompts")
app.add_typer(runs_app, name="runs")
app.add_typer(bad_app, name="badcases")
app.add_typer(store_app, name="store")
app.add_typer(judge_app, name="judge")
app.command("run")(run_command)
app.command("serve")(serve_command)
app.command("nightly")(nightly_command)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
