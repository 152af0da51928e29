"""One reference grammar: flowdef/jobsapi/refs.py parses and fills ``{{...}}``; placeholders.py ``${flowdef...}``."""

from __future__ import annotations

import ast
from pathlib import Path

from flowdef import JobParamRef, TaskValueRef
from flowdef.jobsapi.refs import find_refs, substitute
from tests.conftest import ROOT


def test_substitute_fills_what_it_can_and_leaves_the_rest():
    values = {("job", "parameters", "day"): "mon", ("tasks", "a-b", "values", "n"): "3"}

    def value_of(ref):
        return values.get(ref.parts)

    text = "day={{job.parameters.day}} n={{tasks.`a-b`.values.n}} {{job.nope}} {{ job.id"
    assert substitute(text, value_of) == "day=mon n=3 {{job.nope}} {{ job.id"


def test_substitute_is_one_pass_by_position():
    # a value that itself looks like a reference is not expanded again; equal references are all replaced
    out = substitute("{{job.id}}/{{job.id}}/{{job.name}}",
                     lambda r: "{{job.name}}" if r.parts == ("job", "id") else "N")
    assert out == "{{job.name}}/{{job.name}}/N"
    assert substitute("no refs", lambda r: "x") == "no refs"


def test_typed_references_are_plain_reference_text_to_the_grammar():
    day, rows = JobParamRef("day"), TaskValueRef("load", "rows")
    assert [r.kind for r in find_refs(day)] == ["job.parameters"]
    assert find_refs(f"{rows} rows")[0].parts == ("tasks", "load", "values", "rows")
    assert type(substitute(day, lambda r: None)) is str  # a filled text is a plain string, never a typed ref


def _regex_patterns(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in
                ("compile", "match", "fullmatch", "search", "findall", "finditer", "sub")
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.args
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value


def test_no_other_module_parses_references_with_its_own_regex():
    package = Path(ROOT) / "flowdef"
    homes = {package / "jobsapi" / "refs.py", package / "jobsapi" / "placeholders.py"}
    offenders = [f"{p.relative_to(ROOT)}:{line}: {pattern!r}"
                 for p in sorted(package.rglob("*.py")) if p not in homes and "__pycache__" not in p.parts
                 for line, pattern in _regex_patterns(p)
                 if ("{{" in pattern.replace("\\", "") and "}}" in pattern.replace("\\", ""))  # both ends: a parser
                 or "flowdef\\." in pattern]
    assert not offenders, "use flowdef.jobsapi.refs / placeholders:\n" + "\n".join(offenders)


def test_compile_time_parameter_filling_is_the_grammar_s():
    """Validation and compile fill trigger parameters the same way: spaces and backticks included."""
    from flowdef import Job
    from flowdef.compile.compiler import resolve_params
    from flowdef.jobsapi.refs import fill_job_parameters
    from flowdef.load.config import Target

    job = Job("j", params={"vol": "landing", "my-dir": "in"}).to_model("m")
    target = Target("dev", params=(("vol", "landing_dev"),))
    text = "/Volumes/main/{{ job.parameters.vol }}/{{job.parameters.`my-dir`}}/{{job.parameters.gone}}"
    assert resolve_params(text, job, target) == "/Volumes/main/landing_dev/in/{{job.parameters.gone}}"
    assert fill_job_parameters(text, {"vol": "v"}) == "/Volumes/main/v/{{job.parameters.`my-dir`}}/" \
        "{{job.parameters.gone}}"
