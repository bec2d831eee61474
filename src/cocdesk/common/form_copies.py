"""Cheaper per-form copies of a form's fields, for the forms built on every request of a burst (the public report
form): each form gets its own fields, widgets, attributes, error messages, validators and choices, without
``copy.deepcopy`` walking every choice, or shares the fields that nothing ever changes."""

import copy

from django import forms
from django.forms.widgets import ChoiceWidget


def _own_copy(field):
    """The copy of ``field`` that ``copy.deepcopy`` gives each form (the field, its widget, their attrs, error
    messages, validators, choices list and queryset each the form's own), made without walking every (value, label)
    pair of its choices: they are tuples of text, which nothing can change. A field or widget of a kind whose copying
    this does not know is deep-copied as Django does."""
    widget = field.widget
    if type(field).__deepcopy__ not in _KNOWN_FIELD_COPIES or type(widget).__deepcopy__ not in _KNOWN_WIDGET_COPIES:
        return copy.deepcopy(field)
    result = _shallow_copy(field)
    result.widget = _shallow_copy(widget)
    result.widget.attrs = widget.attrs.copy()
    if isinstance(widget, ChoiceWidget):
        # Already normalised: the setter would only normalise them again.
        result.widget._choices = copy.copy(widget._choices)
    result.error_messages = field.error_messages.copy()
    result.validators = field.validators[:]
    if isinstance(field, forms.ModelChoiceField):
        if field.queryset is not None:
            result.queryset = field.queryset.all()
    elif isinstance(field, forms.ChoiceField):
        result._choices = copy.copy(field._choices)
    return result


_KNOWN_FIELD_COPIES = {forms.Field.__deepcopy__, forms.ChoiceField.__deepcopy__, forms.ModelChoiceField.__deepcopy__}
_KNOWN_WIDGET_COPIES = {forms.Widget.__deepcopy__, ChoiceWidget.__deepcopy__}
_PLAIN_COPIES = {}


def _shallow_copy(instance):
    """``copy.copy(instance)``: for a class that keeps its state in ``__dict__`` and does not change how it is copied
    (as Django's fields and widgets), a new instance with the same ``__dict__``, without ``copy``'s generic path."""
    cls = type(instance)
    plain = _PLAIN_COPIES.get(cls)
    if plain is None:
        plain = _PLAIN_COPIES[cls] = (
            cls.__reduce_ex__ is object.__reduce_ex__
            and cls.__reduce__ is object.__reduce__
            and cls.__getstate__ is object.__getstate__
            and not any(hasattr(cls, name) for name in ("__copy__", "__setstate__", "__slots__"))
        )
    if not plain:
        return copy.copy(instance)
    result = cls.__new__(cls)
    result.__dict__.update(instance.__dict__)
    return result


class CopiedCheaply(dict):
    """A form's ``base_fields``: Django gives each form a deep copy of them; this hands it ``_own_copy`` of each,
    except the ``shared`` ones, which every form uses as they are.

    Share only fields that nothing changes after the class is made: Django itself never changes a field or its
    widget while binding, cleaning or rendering a form (the attributes it adds to a widget, such as
    ``aria-invalid``, go into a copy of ``attrs`` made for that rendering), and what a reporter sent, the errors
    and the initial values live on the form, never on its fields. A field the form or a view changes (choices, a
    queryset, ``widget.attrs``) must stay the form's own."""

    def __init__(self, fields, *, shared=()):
        super().__init__(fields)
        unknown = set(shared) - self.keys()
        if unknown:
            raise KeyError(f"no fields named {sorted(unknown)}")
        self.shared = frozenset(shared)

    def __deepcopy__(self, memo):
        return {name: field if name in self.shared else _own_copy(field) for name, field in self.items()}


class CleanedWithoutBoundFields:
    """A form mixin: cleaning reads each field's value from its widget, as Django's ``_clean_fields`` does through a
    ``BoundField`` made for every field. Making those thirty objects cost a public report a fifth of its cleaning;
    they are still made, as before, when the form is shown again with its errors. Django's own loop runs for a form
    with a disabled or file field, whose value it reads otherwise (tests/common/test_form_copies.py checks the two
    agree)."""

    def _clean_fields(self):
        fields = self.fields
        if any(field.disabled or isinstance(field, forms.FileField) for field in fields.values()):
            return super()._clean_fields()
        for name, field in fields.items():
            value = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            try:
                self.cleaned_data[name] = field.clean(value)
                own_cleaning = getattr(self, f"clean_{name}", None)
                if own_cleaning is not None:
                    self.cleaned_data[name] = own_cleaning()
            except forms.ValidationError as error:
                self.add_error(name, error)
        return None
