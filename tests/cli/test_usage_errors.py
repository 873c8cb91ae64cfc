"""A value click cannot parse, an unknown option or command, a missing option: one line, exit 2, no box."""

import pytest
from typer.testing import CliRunner

from effprof.cli import app

runner = CliRunner()


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["pareto", "mobilenet_v2", "--target-ms", "x"], ["--target-ms", "valid number", "effprof pareto --help"]),
        (["compare", "resnet18", "--budget-s", "abc"], ["--budget-s", "valid number", "effprof compare --help"]),
        (["compare", "resnet18", "--bogus"], ["No such option: --bogus", "effprof compare --help"]),
        (["finetune", "resnet18"], ["--num-classes", "effprof finetune --help"]),
        (["nosuchcmd"], ["No such command 'nosuchcmd'", "effprof --help"]),
    ],
)
def test_click_usage_errors_are_one_line_with_exit_2(args, names):
    result = runner.invoke(app, args)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), result.output
    assert all(n in lines[0] for n in names), lines[0]
    assert "╭" not in result.output and "Usage:" not in result.output


def test_help_and_a_bare_effprof_still_show_the_usage():
    assert runner.invoke(app, ["list", "--help"]).exit_code == 0
    bare = runner.invoke(app, [])
    assert "Usage:" in bare.output and bare.exit_code == 2
