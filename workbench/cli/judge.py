"""``workbench judge calibrate``: how far an LLM judge agrees with people, before it is trusted as a scorer."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from workbench.cli.common import FormatOpt, StoreOpt, WideOpt, check_format
from workbench.cli.output import console, print_json, print_table

judge_app = typer.Typer(help="LLM judges: calibrate them against human labels.", no_args_is_help=True)


@judge_app.command("calibrate")
def judge_calibrate(
    judge: Annotated[str, typer.Argument(help="The judge prompt (name, name@vN or .prompty).")],
    labels: Annotated[Path, typer.Option("--labels", help="Rows a person labelled: the judge's variables + a label.")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="The judge's model (default: the prompt's).")
    ] = None,
    label_column: Annotated[str, typer.Option(help="The column with the person's label.")] = "expected",
    against: Annotated[
        str | None, typer.Option("--against", help="Another judge version to compare with on the same rows.")
    ] = None,
    min_kappa: Annotated[
        float, typer.Option(help="The κ the lower end of its 95% interval must reach for the judge to be trusted.")
    ] = 0.6,
    limit: Annotated[
        int | None, typer.Option(min=1, help="Only the first N labelled rows (N ≥ 1), for every judge.")
    ] = None,
    output_format: FormatOpt = "table",
    wide: WideOpt = False,
    store: StoreOpt = None,
) -> None:
    """Run the judge over the labelled rows: agreement, Cohen's κ with its 95% CI, the confusion matrix and the
    disagreements to review. Exit 1 unless the lower end of κ's 95% interval reaches --min-kappa."""
    from workbench.judge import NO_VERDICT_RULE, ROW_SET, calibrate_judge, compare_calibrations

    check_format(output_format)
    where = {"label_column": label_column, "store": store, "origin": "cli"}
    if limit is not None:
        where["limit"] = limit
    row_set = ROW_SET if limit is None else f"the first {limit} labelled rows (--limit); {NO_VERDICT_RULE}"
    calibration = calibrate_judge(judge, labels, model, **where)
    other = calibrate_judge(against, labels, model, **where) if against else None
    comparison = compare_calibrations(other, calibration) if other else None
    if output_format == "json":
        trust = {"min_kappa": min_kappa, "trusted": calibration.trusted(min_kappa)}
        trust["rows_needed"] = calibration.rows_needed(min_kappa)
        report = {**calibration.to_dict(), "row_set": row_set, **trust, "verdict": calibration.verdict(min_kappa)}
        print_json({**report, "comparison": comparison})
    else:
        out = console()
        out.print(str(calibration), highlight=False)
        out.print(f"Row set: {row_set}.", highlight=False)
        confusion = [
            {"human": h, **{f"judge: {j}": n for j, n in row.items()}} for h, row in calibration.confusion.items()
        ]
        print_table(confusion, title="Confusion (rows: people, columns: the judge)", wide=wide)
        print_table(calibration.disagreements, title="Disagreements to review", wide=wide)
        if comparison:
            out.print(
                f"{comparison['b']} vs {comparison['a']} on {comparison['rows']} rows: agrees with people where "
                f"the other does not on {comparison['b_only']}, the other way round on {comparison['a_only']}; "
                f"exact McNemar p = {comparison['p_value']:.3g} → {comparison['verdict']}",
                highlight=False,
            )
        out.print(calibration.verdict(min_kappa), highlight=False)
    if not calibration.trusted(min_kappa):
        raise typer.Exit(1)
