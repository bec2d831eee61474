"""Public statements: drafted on the case by the team, approved and published by an organization admin."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from cocdesk.common.forms_rendering import SharedWhenBlank
from cocdesk.orgs.rules import can
from cocdesk.sanctions.domain import statements
from cocdesk.sanctions.models import PublicStatement

from .access import OrganizationPermissionMixin
from .case_views import CaseActionView


class StatementForm(SharedWhenBlank, forms.Form):
    title = forms.CharField(
        label="Title",
        max_length=statements.TITLE_MAX,
        error_messages={
            "required": "Give the statement a title.",
            "max_length": "Keep the title under %(limit_value)d characters (it has %(show_value)d).",
        },
    )
    text = forms.CharField(
        label="Statement",
        help_text="What the public may read. Name nobody from the case: the text is checked against the names, "
        "emails and handles in its reports and decisions before it goes to an admin for approval.",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=statements.TEXT_MAX,
        error_messages={
            "required": "Write the statement.",
            "max_length": "Keep the statement under %(limit_value)d characters (it has %(show_value)d).",
        },
    )

    def __init__(self, *args, case=None, **kwargs):
        kwargs.setdefault("auto_id", "statement_%s")
        super().__init__(*args, **kwargs)
        self.case = case

    def clean(self):
        cleaned = super().clean()
        if self.case is not None and cleaned.get("title") and cleaned.get("text"):
            found = statements.check_statement(self.case, f"{cleaned['title']}\n{cleaned['text']}")
            if found:
                listed = "; ".join(str(item) for item in found)
                raise ValidationError(
                    f"Not sent for approval: the statement names people in this case: {listed}. Rephrase it "
                    "without them; the reporter and the witnesses stay unnamed unless the reporter agreed to be named."
                )
        return cleaned


def statement_panel(case, *, viewer, form=None):
    """What the case page's statement section shows."""
    if case.is_erased:
        return {"statement_panel": None}
    return {
        "statement_panel": {
            "statements": statements.statements_of_case(case),
            "can_draft": can(viewer, "sanctions.draft_statement", case),
            "form": form or StatementForm(),
        }
    }


class DraftStatementView(CaseActionView):
    permission_required = "sanctions.draft_statement"
    form_context_name = "statement_form"
    form_class = StatementForm
    success_message = "The statement names nobody from the case. It now waits for an admin's approval."

    def get_form(self):
        return StatementForm(self.request.POST, case=self.get_object())

    def act(self, case, form):
        statements.draft_statement(
            case, by=self.request.user, title=form.cleaned_data["title"], text=form.cleaned_data["text"]
        )


class WithdrawCaseStatementView(CaseActionView):
    permission_required = "cases.view_case"
    success_message = "The statement was withdrawn."

    def act(self, case, form):
        statement = get_object_or_404(case.public_statements.select_related("case"), pk=self.kwargs["statement_id"])
        statements.withdraw_statement(statement, by=self.request.user)


class StatementApprovalMixin(OrganizationPermissionMixin):
    organization_permission = "sanctions.approve_statements"


class StatementsView(StatementApprovalMixin, View):
    """The admin's list: drafts waiting for approval, shown as the public would read them, and the published ones."""

    def get(self, request, org_slug):
        context = {
            "organization": self.organization,
            "waiting": statements.statements_waiting(self.organization, reader=request.user),
            "published": statements.recently_published(self.organization, reader=request.user),
        }
        return render(request, "desk/org_statements.html", context)


class StatementActionView(StatementApprovalMixin, View):
    http_method_names = ["post"]
    permission = None
    done = ""

    def post(self, request, org_slug, statement_id):
        statement = get_object_or_404(
            PublicStatement.objects.select_related("case", "organization"),
            organization=self.organization,
            pk=statement_id,
        )
        if not can(request.user, self.permission, statement):
            raise Http404("Not found")
        try:
            self.act(statement)
        except PermissionDenied as denied:
            raise Http404("Not found") from denied
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, self.done)
        return redirect("desk:org_statements", org_slug=org_slug)


class PublishStatementView(StatementActionView):
    permission = "sanctions.publish_statement"
    done = "The statement is published on the organization's public page."

    def act(self, statement):
        statements.publish_statement(statement, by=self.request.user)


class WithdrawStatementView(StatementActionView):
    permission = "sanctions.publish_statement"
    done = "The statement was withdrawn."

    def act(self, statement):
        statements.withdraw_statement(statement, by=self.request.user)
