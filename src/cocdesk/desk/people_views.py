"""The people of the registry on the desk: the case page's section (each party, its suggestions, link and split),
a person's pattern and the organization's people seen in more than one case, and flagging a person."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.generic import View

from cocdesk.orgs.rules import can
from cocdesk.people.domain import links, party_edits
from cocdesk.people.domain.patterns import people_with_patterns, person_pattern, visible_people
from cocdesk.people.domain.suggestions import case_people
from cocdesk.people.forms import PartyForm, PartyIdentifiersForm
from cocdesk.people.models import CaseParty, Person

from .access import OrganizationPermissionMixin
from .views import CaseMixin

MAX_PAGE = 10_000


def people_panel(case, *, viewer):
    """The case page's people section, for the responders and leads who may see the case."""
    if case.is_erased or not can(viewer, "people.view_people", case.organization):
        return {"people_panel": None}
    return {"people_panel": {"parties": case_people(case, viewer)}}


class _PartyActionView(CaseMixin, View):
    permission_required = "cases.view_case"
    http_method_names = ["post"]

    def party(self, case, party_id):
        party = CaseParty.objects.filter(case=case, pk=party_id).select_related("person__organization").first()
        if party is None:
            raise Http404("Not found")
        party.case = case
        return party


class LinkPartyView(_PartyActionView):
    """A responder confirms a suggestion: the case's party and the person suggested are one."""

    def post(self, request, reference, party_id):
        case = self.get_object()
        party = self.party(case, party_id)
        other = Person.objects.filter(
            organization_id=case.organization_id, code_name=request.POST.get("person", ""), merged_into__isnull=True
        ).first()
        if other is None:
            raise Http404("Not found")
        try:
            kept = links.link_party(party, other, by=request.user)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(request, f"Linked: they are now one person, {kept.code_name}.")
        return redirect(_case_people_url(case))


class SplitPartyView(_PartyActionView):
    """A responder separates the case's party from the person it was linked to."""

    def post(self, request, reference, party_id):
        case = self.get_object()
        party = self.party(case, party_id)
        try:
            separate = links.split_party(party, by=request.user)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as refused:
            messages.error(request, " ".join(refused.messages))
        else:
            messages.success(request, f"Separated: the person named in this case is now {separate.code_name}.")
        return redirect(_case_people_url(case))


class _PartyFormView(_PartyActionView):
    """Naming someone in a case, or adding what a party is known by: the page that follows shows the suggestions
    for that person, as the case page does."""

    # Checked before any form is drawn: a member who may not name people in the case gets the case's 404.
    permission_required = ("cases.view_case", "people.name_in_case")
    http_method_names = ["get", "post"]

    def render_page(self, case, form, party=None, saved=False, status=200):
        view = None
        if saved:
            view = next((one for one in case_people(case, self.request.user) if one.party.pk == party.pk), None)
        context = {"case": case, "form": form, "party": party, "view": view, "saved": saved}
        return render(self.request, "desk/party_edit.html", context, status=status)

    def refused(self, form, refused):
        for field, errors in refused.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)


class AddPartyView(_PartyFormView):
    def get(self, request, reference):
        return self.render_page(self.get_object(), PartyForm())

    def post(self, request, reference):
        case = self.get_object()
        form = PartyForm(request.POST)
        if form.is_valid():
            try:
                party = party_edits.add_party(
                    case,
                    role=form.cleaned_data["role"],
                    name=form.cleaned_data["name"],
                    identifiers_text=form.cleaned_data["identifiers"],
                    by=request.user,
                )
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except ValidationError as refused:
                self.refused(form, refused)
            else:
                return self.render_page(case, PartyIdentifiersForm(), party=party, saved=True)
        return self.render_page(case, form, status=400)


class EditPartyView(_PartyFormView):
    def get(self, request, reference, party_id):
        case = self.get_object()
        return self.render_page(case, PartyIdentifiersForm(), party=self.party(case, party_id))

    def post(self, request, reference, party_id):
        case = self.get_object()
        party = self.party(case, party_id)
        form = PartyIdentifiersForm(request.POST)
        if form.is_valid():
            try:
                party_edits.add_party_identifiers(party, form.cleaned_data["identifiers"], by=request.user)
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except ValidationError as refused:
                self.refused(form, refused)
            else:
                return self.render_page(case, PartyIdentifiersForm(), party=party, saved=True)
        return self.render_page(case, form, party=party, status=400)


def _case_people_url(case):
    return reverse("desk:case", args=[case.reference]) + "#people"


class PageForm(forms.Form):
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def number(self):
        return (self.cleaned_data.get("page") if self.is_valid() else None) or 1


class PeopleView(OrganizationPermissionMixin, View):
    """The people seen in more than one case the member may see."""

    organization_permission = "people.view_people"

    def get(self, request, org_slug):
        page = people_with_patterns(request.user, self.organization, PageForm(request.GET or None).number())
        return render(request, "desk/people.html", {"organization": self.organization, "people": page})


class FlagForm(forms.Form):
    reason = forms.CharField(
        label="Why should future events' teams know?",
        max_length=links.MAX_FLAG_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why: the teams of future events will read it."},
    )


class PersonView(OrganizationPermissionMixin, View):
    """One person's pattern: 404 unless the member reaches them through a case or a sanction they may see."""

    organization_permission = "people.view_people"
    http_method_names = ["get", "post"]

    def person(self, code):
        person = visible_people(self.request.user, self.organization).filter(code_name=code).first()
        if person is None:
            raise Http404("Not found")
        return person

    def get(self, request, org_slug, code, form=None):
        merged = Person.objects.filter(organization=self.organization, code_name=code, merged_into__isnull=False)
        kept = merged.values_list("merged_into__code_name", flat=True).first()
        if kept and visible_people(request.user, self.organization).filter(code_name=kept).exists():
            return redirect("desk:person", org_slug, kept)  # linked since: the person they are now
        person = self.person(code)
        context = {
            "organization": self.organization,
            "pattern": person_pattern(request.user, person),
            "flag_form": form or FlagForm(auto_id="flag_%s"),
        }
        return render(request, "desk/person.html", context)

    def post(self, request, org_slug, code):
        person = self.person(code)
        form = FlagForm(request.POST, auto_id="flag_%s")
        try:
            if "unflag" in request.POST:
                links.unflag_person(person, by=request.user)
                messages.success(request, f"{person.code_name} is no longer flagged.")
                return redirect("desk:person", org_slug, person.code_name)
            if form.is_valid():
                links.flag_person(person, reason=form.cleaned_data["reason"], by=request.user)
                messages.success(request, f"{person.code_name} is flagged for the teams of future events.")
                return redirect("desk:person", org_slug, person.code_name)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as refused:
            form.add_error("reason", refused)
        return self.get(request, org_slug, code, form=form)
