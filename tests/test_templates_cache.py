"""SQL templates are parsed and analysed once per file and process, and rendered once per distinct input."""

from __future__ import annotations

import os

from flowdef import Job
from flowdef.compile import templates
from flowdef.load.config import ProjectConfig, Target

TARGET = Target("dev", warehouse_id="w", vars=(("env", "dev"),))


def _project(tmp_path, files: dict[str, str]) -> ProjectConfig:
    for name, text in files.items():
        path = tmp_path / "sql_templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return ProjectConfig(root=tmp_path, project="p", targets=(TARGET,))


def _job(*tasks: tuple[str, str, dict]):
    job = Job("j", params={"catalog": "main"})
    for key, template, vars_ in tasks:
        job.sql(key, template, vars=vars_)
    return job.to_model("m")


def _touch_later(path, text: str) -> None:
    """Rewrite a file with a visibly newer mtime (some file systems have coarse timestamps)."""
    st = path.stat()
    path.write_text(text)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_a_shared_template_is_parsed_once_for_all_its_tasks(tmp_path):
    config = _project(tmp_path, {"t.sql": "SELECT * FROM {{ table }} WHERE d = :catalog -- {{ task.key }}\n"})
    job = _job(*[(f"t{i}", "t.sql", {"table": f"x{i % 3}"}) for i in range(40)])
    before = templates._analyse.cache_info()
    rendered = [templates.render(config, job, task, TARGET) for task in job.tasks]
    after = templates._analyse.cache_info()
    assert after.misses - before.misses == 1
    assert rendered[7] == "SELECT * FROM x1 WHERE d = :catalog -- t7\n"


def test_tasks_giving_a_template_the_same_values_share_one_render(tmp_path, monkeypatch):
    config = _project(tmp_path, {"v.sql": "SELECT {{ col | default('a') }} FROM {{ table }}\n"})
    job = _job(("a", "v.sql", {"table": "t"}), ("b", "v.sql", {"table": "t"}), ("c", "v.sql", {"table": "u"}),
               ("d", "v.sql", {"table": "t", "col": "z"}))
    import jinja2

    calls = []
    real = jinja2.Template.render

    def counting(self, *args, **kwargs):
        calls.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(jinja2.Template, "render", counting)
    texts = {t.key: templates.render(config, job, t, TARGET) for t in job.tasks}
    # the task key is not read by this template, so a and b share a render; the optional `col` is part of the key
    assert texts == {"a": "SELECT a FROM t\n", "b": "SELECT a FROM t\n", "c": "SELECT a FROM u\n",
                     "d": "SELECT z FROM t\n"}
    assert len(calls) == 3


def test_an_edited_template_is_analysed_again(tmp_path):
    config = _project(tmp_path, {"e.sql": "SELECT 1\n"})
    job = _job(("a", "e.sql", {}))
    task = job.tasks[0]
    assert templates.check(config, job, task, TARGET) == []
    _touch_later(tmp_path / "sql_templates" / "e.sql", "SELECT {{ missing }}\n")
    problems = templates.check(config, job, task, TARGET)
    assert [p.code for p in problems] == ["FD402"] and "'missing'" in problems[0].message


def test_an_included_template_edit_reaches_the_render(tmp_path):
    config = _project(tmp_path, {"outer.sql": "{% include 'inner.sql' %};\n", "inner.sql": "SELECT 1"})
    job = _job(("a", "outer.sql", {}))
    task = job.tasks[0]
    assert templates.render(config, job, task, TARGET) == "SELECT 1;\n"
    _touch_later(tmp_path / "sql_templates" / "inner.sql", "SELECT 2")
    assert templates.render(config, job, task, TARGET) == "SELECT 2;\n"
