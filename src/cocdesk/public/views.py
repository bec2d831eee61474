from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cocdesk.cases.domain import intake, reporter
from cocdesk.cases.enums import REPORTER_STATE_LABELS
from cocdesk.cases.forms import ReceiptForm, ReporterFeedbackForm, ReporterMessageForm, ReportForm
from cocdesk.cases.models import Receipt
from cocdesk.common.throttle import receipt_throttle
from cocdesk.orgs import policy
from cocdesk.orgs.models import Organization
from cocdesk.sanctions.domain import statements

from . import received_page, report_page

RECEIPT_SESSION_KEY = "reporter_receipt"
RECEIPT_NOT_FOUND = "We could not find a report with that receipt. Check it and try again."
RECEIPT_THROTTLED = "Too many attempts. Please wait a few minutes before trying again."


def home(request):
    return render(request, "public/home.html", {"organizations": Organization.objects.filter(is_listed=True)})


def help_page(request):
    """How reporting works, for anyone before or after they report. It belongs to no organization, so it quotes
    the procedures' default promises; the receipt page gives the reporter's organization's own."""
    context = {
        "acknowledge_within_hours": policy.ACKNOWLEDGE_WITHIN_HOURS,
        "urgent_acknowledge_within_hours": policy.URGENT_ACKNOWLEDGE_WITHIN_HOURS,
        "update_within_days": policy.UPDATE_WITHIN_DAYS,
    }
    return render(request, "public/help.html", context)


def organization_page(request, org_slug):
    """Every way to reach the team. An unlisted organization's page works too, for those who have its address."""
    organization = get_object_or_404(Organization, slug=org_slug)
    conflict_contacts = organization.conflict_contacts.filter(is_active=True)
    context = {
        "organization": organization,
        "conflict_contacts": conflict_contacts,
        "statements": statements.published_statements(organization),
    }
    return render(request, "public/organization.html", context)


def report_form(request, org_slug):
    if request.method == "POST":
        organization, space = report_page.organization_and_space_or_404(org_slug, request.POST.get("space"))
        form = ReportForm(request.POST, organization=organization, looked_up_space=space)
        if form.is_valid():
            try:
                case, receipt = intake.submit_report(
                    organization=organization,
                    answers=form.content(),
                    space=form.cleaned_data["space"],
                    excluded_members=list(form.cleaned_data.get("excluded_members") or []),
                    submission_token=form.cleaned_data["submission_token"],
                )
            except intake.AlreadySubmitted:
                return render(request, "public/already_received.html", {"organization": organization})
            return received_page.received_response(request, organization, case, receipt)
        if not form.data.get("submission_token"):
            form.data = form.data.copy()
            form.data["submission_token"] = report_page.new_submission_token()
    else:
        return report_page.blank_form_response(request, org_slug)
    return render(request, "public/report_form.html", {"organization": organization, "form": form})


def receipt_entry(request):
    form = ReceiptForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        throttle = receipt_throttle()
        if throttle.is_blocked(request):
            error = RECEIPT_THROTTLED
        else:
            receipt = reporter.find_receipt(form.cleaned_data["receipt"])
            if receipt is None:
                throttle.note_failure(request)
                error = RECEIPT_NOT_FOUND
                # The box itself is marked wrong, and a screen reader reads the message with it.
                form.fields["receipt"].widget.attrs.update(
                    {"aria-invalid": "true", "aria-describedby": "receipt-problem"}
                )
            else:
                request.session.cycle_key()
                request.session[RECEIPT_SESSION_KEY] = receipt.pk
                return redirect("public:reporter_case")
    return render(request, "public/receipt_entry.html", {"form": form, "error": error})


def _session_receipt(request):
    receipt_pk = request.session.get(RECEIPT_SESSION_KEY)
    if receipt_pk is None:
        return None
    receipt = Receipt.objects.select_related("report__case__organization").filter(pk=receipt_pk).first()
    if receipt is None or receipt.report.case.is_erased:
        return None
    return receipt


def reporter_case(request):
    receipt = _session_receipt(request)
    if receipt is None:
        return redirect("public:receipt")
    # Two forms on one page: the feedback form's button names it, so each keeps what was typed in it alone.
    giving_feedback = request.method == "POST" and "send_feedback" in request.POST
    form = ReporterMessageForm(request.POST if request.method == "POST" and not giving_feedback else None)
    feedback_form = ReporterFeedbackForm(request.POST if giving_feedback else None, prefix="feedback")
    if request.method == "POST" and not giving_feedback and form.is_valid():
        reporter.add_reporter_message(receipt, form.cleaned_data["body"])
        messages.success(request, "Your message was sent to the team.")
        return redirect("public:reporter_case")
    if giving_feedback and feedback_form.is_valid():
        try:
            reporter.add_reporter_feedback(
                receipt, text=feedback_form.cleaned_data["text"], rating=feedback_form.cleaned_data["rating"]
            )
        except ValidationError as error:
            feedback_form.add_error(None, error)
        else:
            messages.success(request, "Thank you: the team reads what you think of their response.")
            return redirect("public:reporter_case")
    case, thread = reporter.open_case_for_reporter(receipt)
    context = {
        "case": case,
        "organization": case.organization,
        "state_label": REPORTER_STATE_LABELS[case.state],
        "thread": thread,
        "form": form,
        "feedback_form": feedback_form if reporter.outcome_given(receipt.report) else None,
    }
    return render(request, "public/reporter_case.html", context)


@require_POST
def leave_case(request):
    request.session.flush()
    return redirect("public:receipt")


def claim_receipt(request, token):
    """The link in an email reporter's acknowledgement. Opening it shows a button (link checkers and previews
    that fetch the page must not use the claim up); pressing it shows a new receipt once."""
    if request.method != "POST":
        return render(request, "public/claim_receipt.html", {"token": token})
    throttle = receipt_throttle()
    claimed = None if throttle.is_blocked(request) else reporter.claim_receipt(token)
    if claimed is None:
        throttle.note_failure(request)
        return render(request, "public/claim_receipt.html", {"token": token, "error": CLAIM_UNUSABLE}, status=410)
    case, receipt = claimed
    return render(
        request,
        "public/received.html",
        {"organization": case.organization, "case": case, "receipt": receipt, "claimed_by_mail": True},
    )


CLAIM_UNUSABLE = (
    "This link cannot give a receipt: it was used already, it is more than two weeks old, or it is not complete. "
    "You can still follow your report by replying to the team's emails."
)
