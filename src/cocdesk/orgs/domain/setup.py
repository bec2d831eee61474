"""A new organization: the procedures' defaults, and a first admin invited to choose a password in the browser.

The invitation link is Django's password-reset link: its token is derived from the account's password and last
login, so it stops working once the password is chosen, and expires after PASSWORD_RESET_TIMEOUT. It is never stored.
"""

import re
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from cocdesk.common import audit
from cocdesk.people.domain.members import keep_member_digests

from .. import policy
from ..models import ConflictContact, Membership, MessageTemplate, Organization

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MAX_LENGTH = Organization._meta.get_field("slug").max_length
NAME_MAX_LENGTH = Organization._meta.get_field("name").max_length
USERNAME_CHARACTERS = re.compile(r"[^a-z0-9._+-]")


@dataclass(frozen=True)
class NewOrganization:
    organization: Organization
    admin: Membership
    account_created: bool
    # Empty when the admin's account already has a password: nothing to choose.
    invitation_link: str


def setup_problems(*, name, slug, reporting_email, admin_email):
    """What stands in the way of creating the organization, as {field: message}; empty when nothing does."""
    problems = {}
    name, slug = name.strip(), slug.strip()
    if not name:
        problems["name"] = "Give the organization a name."
    elif len(name) > NAME_MAX_LENGTH:
        problems["name"] = f"The name is too long: keep it under {NAME_MAX_LENGTH} characters."
    elif Organization.objects.filter(name__iexact=name).exists():
        problems["name"] = f"An organization called “{name}” already exists."
    if not SLUG.match(slug) or len(slug) > SLUG_MAX_LENGTH:
        problems["slug"] = (
            f"“{slug}” cannot be a slug: use lowercase letters, digits and single hyphens, at most "
            f"{SLUG_MAX_LENGTH} characters, for example “pynorth-2026”."
        )
    elif Organization.objects.filter(slug=slug).exists():
        problems["slug"] = f"The slug “{slug}” is already taken by another organization."
    if not _is_email(reporting_email):
        problems["reporting_email"] = f"“{reporting_email}” is not an email address."
    elif ConflictContact.objects.filter(intake_address__iexact=reporting_email.strip()).exists():
        problems["reporting_email"] = (
            f"“{reporting_email}” is the intake address of a contact for conflicts of interest: choose another."
        )
    if not _is_email(admin_email):
        problems["admin_email"] = f"“{admin_email}” is not an email address."
    else:
        accounts = list(get_user_model().objects.filter(email__iexact=admin_email.strip())[:2])
        if len(accounts) > 1:
            problems["admin_email"] = (
                f"Several accounts use {admin_email}; give the email of one person whose account is theirs alone."
            )
        elif accounts and not accounts[0].is_active:
            problems["admin_email"] = f"The account {accounts[0].get_username()} with this email is disabled."
    return problems


def create_organization(name, slug, reporting_email, admin_email, admin_name="", *, by=None):
    """Creates the organization with the procedures' defaults (policy, categories, message templates) and its first
    admin, in one transaction. An account with this email is reused; otherwise one is made without a password and
    invited to choose one. Raises ValidationError with a {field: message} dict when setup_problems finds any."""
    problems = setup_problems(name=name, slug=slug, reporting_email=reporting_email, admin_email=admin_email)
    if problems:
        raise ValidationError(problems)
    admin_email = admin_email.strip()
    with transaction.atomic():
        organization = Organization.objects.create(
            name=name.strip(), slug=slug.strip(), reporting_email=reporting_email.strip()
        )
        _copy_default_templates(organization)
        user, account_created = _admin_account(admin_email)
        membership = Membership.objects.create(
            user=user,
            organization=organization,
            display_name=admin_name.strip() or user.get_username(),
            is_admin=True,
        )
        keep_member_digests(membership)
        audit.record(
            "org.created",
            actor=by,
            organization=organization,
            slug=organization.slug,
            first_admin=user.get_username(),
            account_created=account_created,
        )
        link = ""
        if not user.has_usable_password():
            from .accounts import send_password_link

            send_password_link(user, organization, invitation=True)
            link = password_link(user)
    return NewOrganization(organization, membership, account_created, link)


def password_link(user):
    """A link to choose a password that works once, until PASSWORD_RESET_TIMEOUT: the one the invitation mail
    carries."""
    return settings.BASE_URL + reverse(
        "desk:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def link_lifetime():
    """How long a password link works, in words."""
    seconds = settings.PASSWORD_RESET_TIMEOUT
    if seconds % 86400 == 0 and seconds >= 2 * 86400:
        return f"{seconds // 86400} days"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "1 hour" if hours == 1 else f"{hours} hours"
    minutes = max(1, seconds // 60)
    return "1 minute" if minutes == 1 else f"{minutes} minutes"


def _copy_default_templates(organization):
    """The organization's own copy of the procedures' wording, which its admins then edit."""
    MessageTemplate.objects.bulk_create(
        MessageTemplate(organization=organization, kind=kind, body=body)
        for kind, body in policy.DEFAULT_TEMPLATES.items()
    )


def _admin_account(email):
    user_model = get_user_model()
    existing = user_model.objects.filter(email__iexact=email).first()
    if existing is not None:
        return existing, False
    user = user_model(username=_free_username(email), email=email)
    user.set_unusable_password()
    user.save()
    return user, True


def _free_username(email):
    """The part of the email before the @, made a valid username, numbered if someone already has it."""
    base = USERNAME_CHARACTERS.sub("", email.rsplit("@", 1)[0].lower())[:140] or "admin"
    taken = set(get_user_model().objects.filter(username__istartswith=base).values_list("username", flat=True))
    taken = {username.lower() for username in taken}
    candidate, number = base, 1
    while candidate in taken:
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _is_email(value):
    try:
        validate_email(value.strip())
    except ValidationError:
        return False
    return True
