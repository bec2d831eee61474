"""An organization's spaces: where incidents can happen. Archiving a space keeps its cases and sanctions; it only
stops offering the space to people filing new reports."""

from django.core.exceptions import ValidationError
from django.db import transaction

from cocdesk.common import audit

from ..models import Space

SPACE_FIELDS = ("name", "kind", "platform", "starts_on", "ends_on", "venue")


def name_taken(organization, name, *, other_than=None):
    """Whether another space of the organization already has this name, whatever its letter case."""
    spaces = Space.objects.filter(organization=organization, name__iexact=name.strip())
    if other_than is not None:
        spaces = spaces.exclude(pk=other_than.pk)
    return spaces.exists()


def name_taken_message(name):
    return f"This organization already has a space called “{name}”: choose another name."


def _check_name(organization, name, *, other_than=None):
    if name_taken(organization, name, other_than=other_than):
        raise ValidationError({"name": name_taken_message(name)})


def add_space(organization, details, *, by):
    """``details``: a value for each of SPACE_FIELDS."""
    with transaction.atomic():
        _check_name(organization, details["name"])
        space = Space.objects.create(organization=organization, **{field: details[field] for field in SPACE_FIELDS})
        audit.record("org.space_added", actor=by, organization=organization, space=space.pk, name=space.name)
    return space


def edit_space(space, details, *, by):
    changed = sorted(field for field in SPACE_FIELDS if getattr(space, field) != details[field])
    if not changed:
        return space
    with transaction.atomic():
        _check_name(space.organization, details["name"], other_than=space)
        previous_name = space.name
        for field in changed:
            setattr(space, field, details[field])
        space.save(update_fields=[*changed, "updated_at"])
        audit.record(
            "org.space_changed",
            actor=by,
            organization=space.organization,
            space=space.pk,
            name=space.name,
            previous_name=previous_name,
            fields=changed,
        )
    return space


def set_archived(space, archived, *, by):
    """An archived space drops out of the report forms; its cases, sanctions and scoped roles stay as they are."""
    if space.is_active != archived:
        return space
    with transaction.atomic():
        space.is_active = not archived
        space.save(update_fields=["is_active", "updated_at"])
        audit.record(
            "org.space_archived" if archived else "org.space_restored",
            actor=by,
            organization=space.organization,
            space=space.pk,
            name=space.name,
        )
    return space
