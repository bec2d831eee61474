"""What the organization tells the public: its page, whether the home page lists it, and how its contacts for a
conflict of interest present themselves. None of it touches case content."""

from django.db import transaction

from cocdesk.common import audit


def update_public_page(form, *, by):
    """Saves a valid PublicPageForm, the words under each conflict contact included, and records which fields
    changed (their names, not their text)."""
    descriptions = form.changed_descriptions()
    page_fields = sorted(name for name in form.changed_data if name in form.Meta.fields)
    with transaction.atomic():
        organization = form.save()
        for contact, description in descriptions.items():
            contact.description = description
            contact.save(update_fields=["description"])
        audit.record(
            "org.public_page_changed",
            actor=by,
            organization=organization,
            fields=page_fields,
            contacts_described=sorted(contact.pk for contact in descriptions),
        )
    return organization
