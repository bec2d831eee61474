"""The form renderer: Django's Jinja2 renderer (faster than the template language for the many widgets of a page),
with the project's field group (label, help and errors tied to the field for screen readers)."""

from django.forms.renderers import Jinja2
from django.utils.safestring import mark_safe
from django.utils.translation import get_language


class FormRenderer(Jinja2):
    field_template_name = "cocdesk/field.html"


class SharedWhenBlank:
    """A form whose fields read the same for every member and case: while it is unbound and given no initial
    values, its field groups are rendered once per worker and shared. A form with choices or labels of its own
    (an organization's spaces, a case's members) must not use it."""


# (form class, auto_id, prefix, language) -> the field groups' HTML
_BLANK_FORMS = {}


def field_groups(form):
    """Every field of ``form`` with its label, help and errors (``as_field_group``), as safe HTML."""
    if form.is_bound or form.initial or not isinstance(form, SharedWhenBlank):
        return mark_safe("".join(str(field.as_field_group()) for field in form))  # noqa: S308 - rendered escaped
    key = (type(form), form.auto_id, form.prefix, get_language())
    html = _BLANK_FORMS.get(key)
    if html is None:
        html = _BLANK_FORMS[key] = mark_safe("".join(str(field.as_field_group()) for field in form))  # noqa: S308
    return html
