"""Sandboxed jinja2 templates: rendering, strictness, safety, hashing, loading."""

from __future__ import annotations

import pytest

import synthkit as sk
from synthkit.errors import TemplateError
from synthkit.templates.jinja import JinjaTemplate, load_folder


def test_renders_record_fields_and_data():
    """The context holds the record's content fields and its data keys."""
    t = JinjaTemplate(name="t", system="You are {{ persona }}.", user="{{ prompt }} ({{ id }})")
    r = sk.Record.create(prompt="Hi", data={"persona": "a tutor"}, id="r1")
    assert t.render(r) == [{"role": "system", "content": "You are a tutor."}, {"role": "user", "content": "Hi (r1)"}]


def test_missing_field_error_names_template_field_record_and_fix():
    """StrictUndefined: a missing field is a TemplateError with what the record has and how to fix it."""
    t = JinjaTemplate.from_string("Q: {{ question }}", name="qa")
    with pytest.raises(TemplateError) as info:
        t.render(sk.Record.create(prompt="x", data={"answer": 1}, id="r9"))
    msg = str(info.value)
    assert "template 'qa'" in msg and "'question' is undefined" in msg and "record r9" in msg
    assert "answer, id, prompt" in msg and "default" in msg


def test_defaults_fill_missing_fields():
    """A default given to the template is used when the record lacks the field."""
    t = JinjaTemplate.from_string("{{ prompt }} in {{ language }}", name="d", language="French")
    assert t.render(sk.Record.create(prompt="Hi"))[0]["content"] == "Hi in French"
    assert t.render(sk.Record.create(prompt="Hi", data={"language": "Welsh"}))[0]["content"] == "Hi in Welsh"


@pytest.mark.parametrize(
    "source",
    [
        "{{ record.__class__.__mro__[1].__subclasses__() }}",
        "{{ ''.__class__.__base__.__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{{ record.data.clear() }}",
    ],
)
def test_sandbox_blocks_unsafe_operations(source):
    """User templates render in jinja2's immutable sandbox: no dunder access, no mutation."""
    t = JinjaTemplate.from_string(source, name="evil")
    r = sk.Record.create(prompt="x", data={"k": 1})
    with pytest.raises(TemplateError):
        t.render(r)
    assert r.data == {"k": 1}


def test_syntax_error_names_template_and_line():
    """A template that does not parse is a TemplateError naming it and the line."""
    with pytest.raises(TemplateError, match=r"template 'broken' \(user\) has a syntax error at line 2"):
        JinjaTemplate.from_string("ok\n{% if %}", name="broken")


def test_hash_follows_source_only():
    """The hash changes with the source (system included) and not with the name."""
    a = JinjaTemplate(name="a", user="{{ prompt }}")
    assert a.hash == JinjaTemplate(name="b", user="{{ prompt }}").hash
    assert a.hash != JinjaTemplate(name="a", user="{{ prompt }}!").hash
    assert a.hash != JinjaTemplate(name="a", user="{{ prompt }}", system="Be brief.").hash


def test_from_file_and_folder(tmp_path):
    """Templates load from a file (optional system part) and from a folder."""
    (tmp_path / "qa.j2").write_text("You answer questions.\n---user---\nQ: {{ prompt }}\n")
    (tmp_path / "plain.txt").write_text("{{ prompt }}")
    (tmp_path / "notes.csv").write_text("ignored")
    ts = {t.name: t for t in load_folder(tmp_path)}
    assert sorted(ts) == ["plain", "qa"]
    msgs = ts["qa"].render(sk.Record.create(prompt="why?"))
    assert msgs == [{"role": "system", "content": "You answer questions."}, {"role": "user", "content": "Q: why?"}]
    with pytest.raises(TemplateError, match="does not exist"):
        load_folder(tmp_path / "missing")


def test_builtin_templates_are_registered(fresh_plugins):
    """`plain` and `cot` are built in and registered through the hooks."""
    r = sk.Record.create(prompt="2+2?")
    assert sk.get_template("plain").render(r) == [{"role": "user", "content": "2+2?"}]
    cot = sk.get_template("cot").render(r)
    assert cot[0]["role"] == "system" and "Final answer:" in cot[-1]["content"]
