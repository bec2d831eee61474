from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.template import engines
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.views.generic import DetailView

from cocdesk.cases.domain import case_reads, team
from cocdesk.cases.domain.deadlines import time_left
from cocdesk.cases.domain.visible import visible_case
from cocdesk.cases.enums import OPEN_STATES, MessageKind
from cocdesk.cases.work_forms import (
    AssignForm,
    ImmediateActionForm,
    MergeForm,
    NoteForm,
    TeamMessageForm,
    TriageForm,
)
from cocdesk.common.views import NotFoundWhenDeniedMixin
from cocdesk.orgs.models import template_text
from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain.decisions import current_decision

from .access import VerifiedMemberRequiredMixin


class RefuseWritesOnErasedCaseMixin:
    """Runs after the permission check: an erased case can be looked at, never written to."""

    def dispatch(self, request, *args, **kwargs):
        if request.method == "POST" and self.get_object().is_erased:
            messages.error(request, "This case was erased: nothing can be added to it.")
            return redirect("desk:case", reference=self.get_object().reference)
        return super().dispatch(request, *args, **kwargs)


class CaseMixin(VerifiedMemberRequiredMixin, NotFoundWhenDeniedMixin, RefuseWritesOnErasedCaseMixin):
    def get_object(self, queryset=None):
        if not hasattr(self, "_case"):
            # A case outside the member's sight is a 404 before any predicate runs. Not merged_into: a whole second
            # case row on every page, read by the few merged cases alone.
            found = visible_case(self.request.user, self.kwargs["reference"])
            if found is None:
                # The same words as a denied predicate: in every mode, missing and denied read alike.
                raise Http404("Not found")
            self._case = found
        return self._case


class CaseDetailView(CaseMixin, DetailView):
    permission_required = "cases.view_case"
    template_name = "desk/case.html"
    context_object_name = "case"

    def get_context_data(self, **kwargs):
        case = self.object
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context.update(team.read_case(case, reader=user) if not case.is_erased else {"reports": []})
        now = timezone.now()
        context["acknowledge_left"] = time_left(case.acknowledge_due, now)
        context["update_left"] = time_left(case.update_due, now)
        context["can_lead"] = can(user, "cases.lead_case", case)
        context["is_open"] = case.state in OPEN_STATES
        context["assignees"] = case_reads.assignees_of(case)
        context["message_form"] = kwargs.get("message_form") or self._message_form()
        # Each form of the page has ids of its own: a label must never point at another form's box.
        context["note_form"] = kwargs.get("note_form") or NoteForm(auto_id="note_%s")
        context["action_form"] = kwargs.get("action_form") or ImmediateActionForm(auto_id="action_%s")
        context["assign_form"] = AssignForm(case=case, initial={"assignees": context["assignees"]})
        context["merge_form"] = MergeForm()
        triage_initial = {
            "category": case.category,
            "space": case.space,
            **(context.get("triage") or {}),
        }
        context["triage_form"] = kwargs.get("triage_form") or TriageForm(case=case, initial=triage_initial)
        context.update(team.case_team_panel(case, viewer=user))
        # The section modules build on this module's views, hence the imports here.
        from .decision_views import decision_panel
        from .notice_views import notices_panel
        from .people_views import people_panel
        from .retention_views import retention_panel
        from .statement_views import statement_panel

        context.update(retention_panel(case, viewer=user, form=kwargs.get("retention_form")))
        decision = None if case.is_erased else current_decision(case)
        context.update(notices_panel(case, viewer=user, decision=decision))
        context.update(decision_panel(case, viewer=user, decision=decision))
        context.update(statement_panel(case, viewer=user, form=kwargs.get("statement_form")))
        context.update(people_panel(case, viewer=user))
        context["case_page"] = self._render_case_page(context)
        return context

    def _render_case_page(self, context):
        """The page's content, rendered with Jinja2 (desk/jinja2/desk/case_page.html); the emergency guidance and
        the people section are the template language's, shared with other pages."""
        case, request = self.object, self.request
        sections = dict(context)
        sections["emergency_guidance"] = (
            render_to_string("emergency_guidance.html", {"organization": case.organization}) if case.is_urgent else ""
        )
        sections["people_section"] = (
            render_to_string("desk/case_sections/people.html", {"case": case, **context}, request)
            if context.get("people_panel")
            else ""
        )
        page = engines["jinja2"].get_template("desk/case_page.html").render(sections, request)
        return mark_safe(page)  # noqa: S308 - Jinja2 escaped every value it wrote

    def _message_form(self):
        kind = self.request.GET.get("template")
        if kind in {MessageKind.ACKNOWLEDGEMENT, MessageKind.QUESTION, MessageKind.UPDATE}:
            return TeamMessageForm(initial={"kind": kind, "body": template_text(self.object.organization, kind)})
        return TeamMessageForm()
