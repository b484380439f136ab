"""The issue form for "I found an error in the course" (.github/ISSUE_TEMPLATE/).

GitHub reads an issue form from YAML and shows nothing for a file it cannot read, so the
form is checked the way GitHub's syntax for issue forms describes it: the top-level keys,
each field's type, unique ids, and the four things a report needs (page, section, what is
wrong, what was expected), each required.
"""

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / ".github" / "ISSUE_TEMPLATE"
FORM = TEMPLATES / "error-in-the-course.yml"
# GitHub's issue forms: the keys a form may have, the required ones, the types of a field.
FORM_KEYS = {"name", "description", "title", "labels", "assignees", "projects", "type", "body"}
FIELD_TYPES = {"markdown", "input", "textarea", "dropdown", "checkboxes"}
NEEDED = {
    "page": "Page",
    "section": "Section",
    "wrong": "What is wrong",
    "expected": "What you expected",
}


@pytest.fixture(scope="module")
def form():
    return yaml.safe_load(FORM.read_text(encoding="utf-8"))


def test_the_form_parses_with_the_keys_github_reads(form):
    assert isinstance(form, dict), f"{FORM.name} is not a mapping"
    assert set(form) <= FORM_KEYS, f"keys GitHub does not read: {set(form) - FORM_KEYS}"
    for key in ("name", "description", "body"):
        assert form.get(key), f"{FORM.name} has no {key}"
    assert isinstance(form["labels"], list) and all(isinstance(x, str) for x in form["labels"])


def test_each_field_has_a_known_type_a_label_and_an_id_of_its_own(form):
    ids = []
    for number, field in enumerate(form["body"], start=1):
        assert field.get("type") in FIELD_TYPES, f"field {number}: type {field.get('type')!r}"
        attributes = field.get("attributes") or {}
        if field["type"] == "markdown":
            assert attributes.get("value"), f"field {number}: a markdown field with no text"
            continue
        assert attributes.get("label"), f"field {number} has no label"
        assert field.get("id"), f"field {number} ({attributes['label']}) has no id"
        ids.append(field["id"])
        if field["type"] == "dropdown":
            assert attributes.get("options"), f"the dropdown {field['id']} has no options"
    assert len(ids) == len(set(ids)), f"ids used twice: {ids}"


def test_the_form_asks_for_the_page_the_section_what_is_wrong_and_what_was_expected(form):
    fields = {field.get("id"): field for field in form["body"]}
    for field_id, label in NEEDED.items():
        assert field_id in fields, f"the form does not ask for {label.lower()}"
        field = fields[field_id]
        assert field["attributes"]["label"] == label
        assert field["attributes"].get("description"), f"{label}: no words on what to write"
        assert (field.get("validations") or {}).get("required") is True, f"{label} is optional"
    assert fields["wrong"]["type"] == fields["expected"]["type"] == "textarea"


def test_the_template_chooser_config_parses():
    config = yaml.safe_load((TEMPLATES / "config.yml").read_text(encoding="utf-8"))
    assert isinstance(config, dict)
    assert set(config) <= {"blank_issues_enabled", "contact_links"}, config
    assert isinstance(config["blank_issues_enabled"], bool)
    forms = sorted(p.name for p in TEMPLATES.glob("*.y*ml") if p.name != "config.yml")
    assert forms == [FORM.name], f"issue forms: {forms}"
