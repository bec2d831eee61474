"""Forms whose fields read the same for everyone render once per worker while blank; any form with errors or
initial values is rendered for itself, keeping what the member typed."""

from cocdesk.cases.work_forms import NoteForm, TeamMessageForm
from cocdesk.common.forms_rendering import field_groups


def test_a_blank_shared_form_renders_once_and_the_same():
    first, second = field_groups(NoteForm(auto_id="note_%s")), field_groups(NoteForm(auto_id="note_%s"))
    assert first is second
    assert str(first) == "".join(str(field.as_field_group()) for field in NoteForm(auto_id="note_%s"))


def test_a_form_with_errors_or_initial_values_is_rendered_for_itself():
    blank = str(field_groups(TeamMessageForm()))
    refused = TeamMessageForm(data={"kind": "update", "body": ""})
    assert not refused.is_valid()
    shown = str(field_groups(refused))
    assert "Write the message before sending it." in shown and shown != blank
    prefilled = str(field_groups(TeamMessageForm(initial={"body": "Thank you for telling us."})))
    assert "Thank you for telling us." in prefilled
    assert "Thank you for telling us." not in str(field_groups(TeamMessageForm()))
