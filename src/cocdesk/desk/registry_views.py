"""The team's registry of sanctions: a page of 50 the member may see, and a lead ending one early."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import urlencode
from django.views.generic import View

from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain.queries import REGISTRY_SHOWS, registry_for, registry_sanctions
from cocdesk.sanctions.domain.registry import end_sanction
from cocdesk.sanctions.enums import LASTING_KINDS
from cocdesk.sanctions.rules import sanction_is_ongoing

from .access import OrganizationPermissionMixin

MAX_PAGE = 10_000
SHOW_LABELS = {"active": "Active", "ended": "Ended", "all": "All"}


class RegistryFilterForm(forms.Form):
    show = forms.ChoiceField(required=False, choices=[(value, SHOW_LABELS[value]) for value in REGISTRY_SHOWS])
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def choice(self):
        data = self.cleaned_data if self.is_valid() else {}
        return data.get("show") or "active", data.get("page") or 1


def scope_label(sanction):
    if sanction.kind not in LASTING_KINDS and not sanction.spaces.all():
        return "—"
    if sanction.all_spaces:
        return "All spaces"
    return ", ".join(sorted(space.name for space in sanction.spaces.all())) or "All spaces"


def describe(user, sanction):
    """What a row shows beyond the columns: every test answered from the access snapshot, no query."""
    case = sanction.decision.case if sanction.decision_id is not None else None
    sanction.scope_label = scope_label(sanction)
    sanction.is_lasting = sanction.kind in LASTING_KINDS
    sanction.visible_case = case if case is not None and can(user, "cases.view_case", case) else None
    sanction.may_end = sanction_is_ongoing(sanction) and can(user, "sanctions.end_sanction", sanction)
    return sanction


class RegistryView(OrganizationPermissionMixin, View):
    organization_permission = "sanctions.view_registry"

    def get(self, request, org_slug):
        show, page = RegistryFilterForm(request.GET or None).choice()
        registry = registry_for(request.user, self.organization, show=show, page=page)
        context = {
            "organization": self.organization,
            "registry": registry,
            "rows": [describe(request.user, sanction) for sanction in registry.rows],
            "shows": [(value, SHOW_LABELS[value]) for value in REGISTRY_SHOWS],
            "show_query": urlencode({"show": registry.show}),
        }
        return render(request, "desk/sanctions_registry.html", context)


class EndSanctionForm(forms.Form):
    reason = forms.CharField(
        label="Why does it end early?",
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Say why the sanction ends early."},
    )


class EndSanctionView(OrganizationPermissionMixin, View):
    """Only a lead of the sanction (of its case, for one from a decision) reaches this page; anyone else: 404."""

    organization_permission = "sanctions.view_registry"

    def _sanction(self, sanction_id):
        sanctions = (
            registry_sanctions(self.request.user, self.organization, show="all")
            .select_related("person", "decision__case")
            .prefetch_related("spaces")
        )
        sanction = get_object_or_404(sanctions, pk=sanction_id)
        if not can(self.request.user, "sanctions.end_sanction", sanction):
            raise Http404("Not found")
        return describe(self.request.user, sanction)

    def get(self, request, org_slug, sanction_id):
        return self._render(self._sanction(sanction_id), EndSanctionForm())

    def post(self, request, org_slug, sanction_id):
        sanction = self._sanction(sanction_id)
        form = EndSanctionForm(request.POST)
        if form.is_valid():
            try:
                end_sanction(sanction, by=request.user, reason=form.cleaned_data["reason"])
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"The {sanction.get_kind_display().lower()} of {sanction.person} has ended.")
                return redirect("desk:sanctions", org_slug=org_slug)
        return self._render(sanction, form)

    def _render(self, sanction, form):
        context = {"organization": self.organization, "sanction": sanction, "form": form}
        return render(self.request, "desk/sanction_end.html", context)
