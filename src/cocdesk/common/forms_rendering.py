"""The form renderer: Django's Jinja2 renderer (faster than the template language for the many widgets of a page),
with the project's field group (label, help and errors tied to the field for screen readers)."""

from django.forms.renderers import Jinja2


class FormRenderer(Jinja2):
    field_template_name = "cocdesk/field.html"
