"""Form fields that check what a browser can send before anything reaches the database: a tampered id is an
invalid choice in words, never a database error."""

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

# The largest primary key any of our databases stores (a signed 64-bit integer).
LARGEST_ID = 2**63 - 1


def plausible_id(value):
    text = str(value).strip()
    return text.isascii() and text.isdigit() and 0 < int(text) <= LARGEST_ID


class SafeModelChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not plausible_id(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class SafeModelMultipleChoiceField(forms.ModelMultipleChoiceField):
    def _check_values(self, value):
        for item in value:
            if not plausible_id(item):
                raise forms.ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": str(item)[:40]}
                )
        return super()._check_values(value)


def bound_number(field, *, low, high, unit):
    """Adds the range a policy number may take to a form's integer field, with the reason in words."""
    message = f"Use a number of {unit} from {low} to {high:,}."
    field.validators += [MinValueValidator(low, message=message), MaxValueValidator(high, message=message)]
    field.widget.attrs.update({"min": low, "max": high})
    return field
