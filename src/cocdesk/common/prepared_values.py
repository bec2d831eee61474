"""How a field prepares a value for saving, where that is known without asking it: ``PreparedInsert`` skips the
preparation of values it would return unchanged, and prepares a value repeated down a column once."""

import datetime
import uuid

from django.db import models
from django.db.backends.base.operations import BaseDatabaseOperations

_TEXT_FIELDS = frozenset({models.CharField, models.TextField})
_INTEGER_FIELDS = frozenset(
    {
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
    }
)


def saved_unchanged(field, connection):
    """The classes of value that ``field.get_db_prep_save`` returns unchanged on ``connection`` (text to a text
    column, a bool to a boolean one, an int to an integer one where the backend does not wrap it, None to any):
    their preparation is skipped. Only Django's own field classes, whose preparation is known."""
    kind = type(field)
    if kind in (models.ForeignKey, models.OneToOneField):
        return saved_unchanged(field.target_field, connection)
    if kind in _TEXT_FIELDS:
        return frozenset({str, type(None)})
    if kind is models.BooleanField:
        return frozenset({bool, type(None)})
    operations = type(connection.ops)
    if (
        kind in _INTEGER_FIELDS
        and operations.adapt_integerfield_value is BaseDatabaseOperations.adapt_integerfield_value
        and operations.validate_autopk_value is BaseDatabaseOperations.validate_autopk_value
    ):
        return frozenset({int, type(None)})
    if kind in _NONE_SAVED_AS_NULL and field.null:
        return frozenset({type(None)})
    return frozenset()


# Fields that prepare None as None (SQL NULL) on every backend of Django's; not JSONField, which may save JSON null.
_NONE_SAVED_AS_NULL = frozenset(
    {
        models.DateTimeField,
        models.DateField,
        models.TimeField,
        models.DurationField,
        models.UUIDField,
        models.DecimalField,
        models.FloatField,
        models.BinaryField,
        models.GenericIPAddressField,
    }
)


# Types whose equal values a field always prepares alike (not floats: 0.0 == -0.0; not containers: mutable), and
# enumerations' members (a ``TextChoices`` default), each the only one of its value.
SAME_WHEN_EQUAL = frozenset({str, int, bool, type(None), bytes, datetime.datetime, datetime.date, uuid.UUID})
