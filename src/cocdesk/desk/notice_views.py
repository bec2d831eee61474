"""Notices to the people a decision concerns: drafted on the case from the organization's template, approved by a
second member, then sent by mail or printed with the appeal link shown once."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.generic import View

from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain import notices
from cocdesk.sanctions.domain.decisions import current_decision
from cocdesk.sanctions.domain.notice_mail import appeal_link
from cocdesk.sanctions.enums import NoticeDelivery
from cocdesk.sanctions.models import Notice

from .views import CaseMixin

PART_HELP = {
    "behaviour": "What the person did, where and when. Describe the behaviour, not who reported or saw it.",
    "impact": "How it affected people and the community.",
    "expected_change": "What the team expects from them from now on.",
    "consequences": "The measures taken, where they apply, how long they last, and what follows if it continues.",
}


def _part(label, part):
    return forms.CharField(
        label=label,
        help_text=PART_HELP[part],
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=10_000,
        error_messages={
            "required": f"Write the {label.lower()} part.",
            "max_length": "Keep each part under %(limit_value)d characters (it has %(show_value)d).",
        },
    )


class NoticeForm(forms.Form):
    behaviour = _part("Behaviour", "behaviour")
    impact = _part("Impact", "impact")
    expected_change = _part("Expected change", "expected_change")
    consequences = _part("Consequences", "consequences")
    address = forms.EmailField(
        label="Email address to send it to",
        help_text="Leave it empty to hand the notice over printed.",
        required=False,
        max_length=254,
        error_messages={"invalid": "Enter an email address like name@example.org, or leave it empty."},
    )


class DeliverForm(forms.Form):
    method = forms.ChoiceField(choices=NoticeDelivery.choices, widget=forms.RadioSelect, label="How it reaches them")


def notices_panel(case, *, viewer, decision):
    """The case page's notice section: each person the current decision (read once for the page) concerns, with
    their notice."""
    if decision is None:
        return {"notice_panel": None}
    decision.case = case
    by_person = {}
    for notice in Notice.objects.filter(decision=decision).select_related("drafted_by", "approved_by", "appeal"):
        notice.decision = decision
        by_person[notice.person_id] = notice
    rows = []
    for person in notices.people_to_notify(decision):
        notice = by_person.get(person.pk)
        sanctions = [sanction for sanction in decision.sanctions.all() if sanction.person_id == person.pk]
        rows.append(
            {
                "person": person,
                "notice": notice,
                "sanctions": [notices.describe(sanction) for sanction in sanctions],
                "may_appeal": bool(notices.appealable(sanctions)),
                "can_approve": notice is not None and can(viewer, "sanctions.approve_notice", notice),
                "can_deliver": notice is not None and can(viewer, "sanctions.deliver_notice", notice),
                "appeal": getattr(notice, "appeal", None) if notice is not None else None,
            }
        )
    return {
        "notice_panel": {
            "rows": rows,
            "can_draft": can(viewer, "sanctions.draft_notice", decision),
            "deliver_form": DeliverForm(auto_id="deliver_%s"),
        }
    }


class NoticeCaseMixin(CaseMixin):
    permission_required = "cases.view_case"

    def notice(self):
        case = self.get_object()
        notice = (
            Notice.objects.select_related("person", "decision", "drafted_by", "approved_by")
            .filter(decision__case=case, pk=self.kwargs["notice_id"])
            .first()
        )
        if notice is None:
            raise Http404("Not found")
        notice.decision.case = case
        return notice


class DraftNoticeView(NoticeCaseMixin, View):
    """The draft form, started from the organization's template; a refused draft keeps what was typed."""

    def setup_draft(self):
        case = self.get_object()
        decision = current_decision(case)
        if decision is None or not can(self.request.user, "sanctions.draft_notice", decision):
            raise Http404("Not found")
        decision.case = case
        person = next((p for p in notices.people_to_notify(decision) if p.pk == self.kwargs["person_id"]), None)
        if person is None:
            raise Http404("Not found")
        return case, decision, person

    def get(self, request, reference, person_id):
        case, decision, person = self.setup_draft()
        form = NoticeForm(initial=notices.template_parts(case.organization))
        return self.render(case, person, form)

    def post(self, request, reference, person_id):
        case, decision, person = self.setup_draft()
        form = NoticeForm(request.POST)
        if form.is_valid():
            try:
                notices.draft_notice(decision, person, by=request.user, **form.cleaned_data)
            except PermissionDenied as denied:
                raise Http404("Not found") from denied
            except ValidationError as error:
                form.add_error(None, " ".join(error.messages))
            else:
                messages.success(request, "The notice is saved. A second member must approve it before it goes out.")
                return redirect("desk:case", reference=case.reference)
        return self.render(case, person, form)

    def render(self, case, person, form):
        context = {"case": case, "person": person, "form": form}
        return render(self.request, "desk/notice_draft.html", context)


class NoticeDetailView(NoticeCaseMixin, View):
    def get(self, request, reference, notice_id):
        notice = self.notice()
        try:
            content = notices.read_notice(notice, reader=request.user)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        context = {
            "case": notice.decision.case,
            "notice": notice,
            "parts": [(label, content[part]) for part, label in notices.NOTICE_PARTS],
            "address": content.get("address", ""),
            "sanctions": [notices.describe(sanction) for sanction in notices.sanctions_of(notice)],
            "can_approve": can(request.user, "sanctions.approve_notice", notice),
            "can_deliver": can(request.user, "sanctions.deliver_notice", notice),
            "deliver_form": DeliverForm(auto_id="deliver_%s"),
        }
        return render(request, "desk/notice.html", context)


class ApproveNoticeView(NoticeCaseMixin, View):
    http_method_names = ["post"]

    def post(self, request, reference, notice_id):
        notice = self.notice()
        if not can(request.user, "sanctions.approve_notice", notice):
            raise Http404("Not found")
        try:
            notices.approve_notice(notice, by=request.user)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, "The notice is approved: it can now be sent by email or handed over printed.")
        return redirect("desk:case", reference=reference)


class DeliverNoticeView(NoticeCaseMixin, View):
    """By mail: queued, and back to the case. Printed: the printable page, the only time its appeal link shows."""

    http_method_names = ["post"]

    def post(self, request, reference, notice_id):
        notice = self.notice()
        if not can(request.user, "sanctions.deliver_notice", notice):
            raise Http404("Not found")
        form = DeliverForm(request.POST)
        method = form.cleaned_data["method"] if form.is_valid() else ""
        try:
            token = notices.deliver_notice(notice, by=request.user, method=method)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("desk:case", reference=reference)
        if method == NoticeDelivery.MAIL:
            messages.success(request, "The notice is on its way by email.")
            return redirect("desk:case", reference=reference)
        content = notices.notice_content(notice)
        context = {
            "case": notice.decision.case,
            "notice": notice,
            "appeal_closes_at": Notice.objects.values_list("appeal_closes_at", flat=True).get(pk=notice.pk),
            "organization": notice.decision.case.organization,
            "parts": [(label, content[part]) for part, label in notices.NOTICE_PARTS],
            "sanctions": [notices.describe(sanction) for sanction in notices.sanctions_of(notice)],
            "appeal_link": appeal_link(token) if token else "",
        }
        response = render(request, "desk/notice_print.html", context)
        response["Cache-Control"] = "no-store"
        return response
