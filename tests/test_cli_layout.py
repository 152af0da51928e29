"""Each command defines its own arguments; ``cli/__init__`` only lists the commands."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import flowdef.cli
from flowdef.cli import COMMANDS, build_parser, main


def test_every_command_module_is_listed_and_complete():
    modules = {m.name for m in pkgutil.iter_modules(flowdef.cli.__path__) if not m.name.startswith("_")}
    commands = {name for name in modules if hasattr(importlib.import_module(f"flowdef.cli.{name}"), "run")}
    assert commands == set(COMMANDS), "add the command module's name to flowdef.cli.COMMANDS (or remove it)"
    for name in COMMANDS:
        module = importlib.import_module(f"flowdef.cli.{name}")
        assert isinstance(module.HELP, str) and module.HELP
        assert callable(module.add_arguments) and callable(module.run)


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_parses_its_own_help(name, capsys):
    name = getattr(importlib.import_module(f"flowdef.cli.{name}"), "NAME", name)  # import_jobs is `import`
    assert main([name, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: flowdef {name}")


def test_unknown_target_is_a_usage_error(example_project, capsys):
    assert main(["-C", str(example_project), "validate", "--target", "nope"]) == 2
    assert "unknown target 'nope'" in capsys.readouterr().err


def test_the_parser_dispatches_to_the_command_module():
    args = build_parser().parse_args(["list", "--format", "json"])
    assert args._run is importlib.import_module("flowdef.cli.list").run


def test_command_names_that_differ_from_their_module_are_listed():
    from flowdef.cli import _MODULE_OF, _command_in

    named = {getattr(importlib.import_module(f"flowdef.cli.{m}"), "NAME", m): m for m in COMMANDS}
    assert {c: m for c, m in named.items() if c != m} == _MODULE_OF
    assert _command_in(["-C", "x", "--config=y.toml", "import", "--help"]) == "import"
    assert _command_in(["--help"]) is None and _command_in(["valdate"]) is None and _command_in([]) is None


def test_the_lazy_parser_still_words_a_misspelt_command(capsys):
    assert main(["valdate"]) == 2
    assert "invalid choice: 'valdate'" in capsys.readouterr().err
