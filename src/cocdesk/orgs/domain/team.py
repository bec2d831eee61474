"""An organization admin's work: its settings and its team. None of it reveals case content."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction

from cocdesk.common import audit
from cocdesk.orgs import access
from cocdesk.people.domain.members import keep_member_digests, seal_member_identifiers

from ..enums import Role
from ..models import Membership


def update_settings(form, *, by):
    changed = sorted(name for name in form.changed_data if name != "categories_text")
    if "categories_text" in form.changed_data:
        changed.append("categories")
    with transaction.atomic():
        organization = form.save()
        audit.record("org.settings_changed", actor=by, organization=organization, fields=changed)
        if "recusal_threshold" in changed:
            _recount_fallback(organization.cases.all())
        if "retention_days" in changed:
            from cocdesk.cases.domain.retention import reschedule_organization

            reschedule_organization(organization)
    return organization


def _recount_fallback(cases):
    """Cases whose recused leads may count differently now get their fallback state stored anew."""
    from cocdesk.cases.domain.recusal import refresh_fallback_of_cases

    refresh_fallback_of_cases(cases.filter(recusals__is_active=True, recusals__membership__is_lead=True).distinct())
    access.forget()


def _set_spaces(membership, space_ids):
    spaces = list(membership.organization.spaces.filter(pk__in=space_ids))
    if len(spaces) != len(set(space_ids)):
        raise ValidationError("Choose spaces of this organization.")
    membership.spaces.set(spaces)
    return sorted(space.name for space in spaces)


def add_member(organization, *, username, display_name, email, roles, identifiers="", space_ids=(), by):
    """Adds a person to the team; a new account gets an invitation to choose its password."""
    from .accounts import send_password_link

    with transaction.atomic():
        user, created = get_user_model().objects.get_or_create(username=username, defaults={"email": email})
        if created:
            user.set_unusable_password()
            user.save()
        membership = Membership.objects.create(
            user=user,
            organization=organization,
            display_name=display_name,
            **{Membership.ROLE_FIELDS[role]: True for role in roles},
        )
        if identifiers.strip():
            seal_member_identifiers(membership, identifiers, organization=organization)
            membership.save(update_fields=["sealed_identifiers"])
        spaces = _set_spaces(membership, space_ids)
        # The keyed hashes of the names and handles a report may name them by: intake recuses them by these.
        keep_member_digests(membership)
        audit.record(
            "org.member_added", actor=by, organization=organization, member=username, roles=sorted(roles), spaces=spaces
        )
        if created:
            send_password_link(user, organization, invitation=True)
    return membership


def set_roles(membership, roles, *, space_ids=None, by):
    """The member's roles, and the spaces they apply to (None: leave the spaces as they are; empty: the whole
    organization). Cases the member is recused from recount their recused leads."""
    roles = set(roles)
    if Role.ADMIN not in roles and membership.is_admin:
        _keep_one_admin(membership)
    with transaction.atomic():
        for role, field in Membership.ROLE_FIELDS.items():
            setattr(membership, field, role in roles)
        membership.save()
        detail = {"roles": sorted(roles)}
        if space_ids is not None:
            detail["spaces"] = _set_spaces(membership, space_ids)
        audit.record(
            "org.member_roles_changed",
            actor=by,
            organization=membership.organization,
            member=membership.user.get_username(),
            **detail,
        )
        _recount_fallback(membership.organization.cases.filter(recusals__membership=membership))
    return membership


def deactivate_member(membership, *, by):
    """The member loses every access to the organization at once; their history stays in the audit log."""
    if membership.is_admin:
        _keep_one_admin(membership)
    with transaction.atomic():
        membership.is_active = False
        membership.save(update_fields=["is_active", "updated_at"])
        audit.record(
            "org.member_deactivated",
            actor=by,
            organization=membership.organization,
            member=membership.user.get_username(),
        )
    return membership


def _keep_one_admin(membership):
    others = Membership.objects.active().filter(organization=membership.organization, is_admin=True)
    if not others.exclude(pk=membership.pk).exists():
        raise ValidationError("The organization needs at least one admin: make someone else admin first.")


def save_templates(organization, bodies, *, by):
    from ..models import MessageTemplate

    with transaction.atomic():
        for kind, body in bodies.items():
            MessageTemplate.objects.update_or_create(organization=organization, kind=kind, defaults={"body": body})
        audit.record("org.templates_changed", actor=by, organization=organization, kinds=sorted(bodies))


def add_conflict_contact(organization, *, name, intake_address, hidden_from_ids, by, description=""):
    from ..models import ConflictContact

    hidden = list(Membership.objects.filter(organization=organization, pk__in=hidden_from_ids))
    if len(hidden) != len(set(hidden_from_ids)):
        raise ValidationError("Choose members of this organization's team.")
    with transaction.atomic():
        contact = ConflictContact.objects.create(
            organization=organization, name=name, intake_address=intake_address, description=description
        )
        contact.hidden_from.set(hidden)
        audit.record(
            "org.conflict_contact_added",
            actor=by,
            organization=organization,
            contact=contact.pk,
            hidden_from=sorted(m.user.get_username() for m in hidden),
        )
    return contact


def retire_conflict_contact(contact, *, by):
    """Mail still arriving at a retired address is taken in as usual, without the contact's exclusions: the
    reporter is no worse off than writing to the team."""
    with transaction.atomic():
        contact.is_active = False
        contact.save(update_fields=["is_active"])
        audit.record("org.conflict_contact_retired", actor=by, organization=contact.organization, contact=contact.pk)
    return contact
