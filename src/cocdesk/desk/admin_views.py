"""Organization admin pages: settings and team. Admins manage; they read no case content here."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from cocdesk.orgs.domain import team as team_admin
from cocdesk.orgs.forms import (
    AddMemberForm,
    ConflictContactForm,
    MemberIdentifiersForm,
    MessageTemplatesForm,
    OrganizationSettingsForm,
    RolesForm,
)
from cocdesk.people.domain.members import member_identifiers_text, set_member_identifiers

from .access import OrganizationPermissionMixin


class OrganizationAdminMixin(OrganizationPermissionMixin):
    organization_permission = "orgs.manage"


class SettingsView(OrganizationAdminMixin, View):
    def get(self, request, org_slug):
        return self._render(OrganizationSettingsForm(instance=self.organization))

    def post(self, request, org_slug):
        form = OrganizationSettingsForm(request.POST, instance=self.organization)
        if form.is_valid():
            team_admin.update_settings(form, by=request.user)
            messages.success(request, "Settings saved.")
            return redirect("desk:org_settings", org_slug=org_slug)
        return self._render(form)

    def _render(self, form):
        return render(self.request, "desk/org_settings.html", {"organization": self.organization, "form": form})


class TeamView(OrganizationAdminMixin, View):
    def get(self, request, org_slug):
        return self._render(AddMemberForm(organization=self.organization))

    def post(self, request, org_slug):
        form = AddMemberForm(request.POST, organization=self.organization)
        if form.is_valid():
            data = form.cleaned_data
            team_admin.add_member(
                self.organization,
                username=data["username"],
                display_name=data["display_name"],
                email=data["email"],
                roles=data["roles"],
                space_ids=data["spaces"],
                identifiers=data["identifiers"],
                by=request.user,
            )
            messages.success(request, f"{data['display_name']} was added to the team.")
            return redirect("desk:org_team", org_slug=org_slug)
        return self._render(form)

    def _render(self, add_form):
        return team_page(self.request, self.organization, add_form)


def team_page(request, organization, add_form, edited=None):
    """The team with each member's roles and identifiers. ``edited``: a member's identifiers form that was not
    saved, shown again as typed."""
    members = (
        organization.memberships.select_related("user")
        .prefetch_related("spaces")
        .order_by("-is_active", "display_name")
    )
    spaces = list(organization.spaces.filter(is_active=True))
    rows = [
        (
            membership,
            RolesForm(
                initial={"roles": membership.roles(), "spaces": [space.pk for space in membership.spaces.all()]},
                prefix=f"m{membership.pk}",
                spaces=spaces + [space for space in membership.spaces.all() if not space.is_active],
            ),
            _identifiers_form(organization, membership, edited),
        )
        for membership in members
    ]
    context = {"organization": organization, "rows": rows, "add_form": add_form}
    return render(request, "desk/org_team.html", context, status=400 if edited else 200)


def _identifiers_form(organization, membership, edited):
    prefix = f"k{membership.pk}"
    if edited is not None and edited.prefix == prefix:
        return edited
    # Unsealed for the organization's admins, who manage the team and wrote them.
    text = member_identifiers_text(membership, organization=organization)
    return MemberIdentifiersForm(initial={"identifiers": text}, prefix=prefix)


class MemberActionView(OrganizationAdminMixin, View):
    http_method_names = ["post"]

    def post(self, request, org_slug, membership_id):
        membership = get_object_or_404(self.organization.memberships, pk=membership_id, is_active=True)
        try:
            if request.POST.get("action") == "deactivate":
                team_admin.deactivate_member(membership, by=request.user)
                messages.success(request, f"{membership.display_name} no longer has access.")
            elif request.POST.get("action") == "identifiers":
                form = MemberIdentifiersForm(request.POST, prefix=f"k{membership.pk}")
                if not form.is_valid():
                    return team_page(request, self.organization, AddMemberForm(organization=self.organization), form)
                set_member_identifiers(membership, form.cleaned_data["identifiers"], by=request.user)
                messages.success(request, f"What {membership.display_name} is known by was saved.")
            else:
                # A role limited to a space archived since stays limited to it unless unticked.
                spaces = self.organization.spaces.filter(
                    Q(is_active=True) | Q(scoped_memberships=membership)
                ).distinct()
                form = RolesForm(request.POST, prefix=f"m{membership.pk}", spaces=spaces)
                if form.is_valid():
                    team_admin.set_roles(
                        membership, form.cleaned_data["roles"], space_ids=form.cleaned_data["spaces"], by=request.user
                    )
                    messages.success(request, f"Roles of {membership.display_name} saved.")
                else:
                    messages.error(request, "Those roles could not be saved.")
        except ValidationError as error:
            messages.error(request, error.messages[0])
        return redirect("desk:org_team", org_slug=org_slug)


class TemplatesView(OrganizationAdminMixin, View):
    def get(self, request, org_slug):
        return self._render(MessageTemplatesForm(organization=self.organization))

    def post(self, request, org_slug):
        form = MessageTemplatesForm(request.POST, organization=self.organization)
        if form.is_valid():
            team_admin.save_templates(self.organization, form.cleaned_data, by=request.user)
            messages.success(request, "Message templates saved.")
            return redirect("desk:org_templates", org_slug=org_slug)
        return self._render(form)

    def _render(self, form):
        return render(self.request, "desk/org_templates.html", {"organization": self.organization, "form": form})


class ConflictContactsView(OrganizationAdminMixin, View):
    """The alternative contacts for a concern about a team member, each with its own intake address."""

    def get(self, request, org_slug):
        return self._render(ConflictContactForm(team=self._team()))

    def post(self, request, org_slug):
        if request.POST.get("action") == "retire":
            contact = get_object_or_404(
                self.organization.conflict_contacts, pk=request.POST.get("contact", "").strip() or 0, is_active=True
            )
            team_admin.retire_conflict_contact(contact, by=request.user)
            messages.success(request, f"{contact.name} no longer receives reports.")
            return redirect("desk:org_conflict_contacts", org_slug=org_slug)
        form = ConflictContactForm(request.POST, team=self._team())
        if form.is_valid():
            data = form.cleaned_data
            try:
                team_admin.add_conflict_contact(
                    self.organization,
                    name=data["name"],
                    description=data["description"],
                    intake_address=data["intake_address"],
                    hidden_from_ids=data["hidden_from"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error("hidden_from", error.messages[0])
            else:
                messages.success(request, f"{data['name']} was added.")
                return redirect("desk:org_conflict_contacts", org_slug=org_slug)
        return self._render(form)

    def _team(self):
        return list(self.organization.memberships.filter(is_active=True).order_by("display_name"))

    def _render(self, form):
        contacts = self.organization.conflict_contacts.filter(is_active=True).prefetch_related("hidden_from")
        context = {"organization": self.organization, "contacts": contacts, "form": form}
        return render(self.request, "desk/org_conflict_contacts.html", context)
