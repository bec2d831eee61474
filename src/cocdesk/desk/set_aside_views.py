from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from cocdesk.cases.domain.set_aside import AlreadyHandled, mark_handled, open_case_from, preview, read_set_aside
from cocdesk.cases.models import SetAsideMail
from cocdesk.orgs.rules import can

from .access import OrganizationPermissionMixin


class SetAsideMixin(OrganizationPermissionMixin):
    organization_permission = "orgs.review_set_aside_mail"

    def get_mail(self):
        mail = get_object_or_404(
            SetAsideMail.objects.select_related("case"), organization=self.organization, pk=self.kwargs["mail_id"]
        )
        # Once a mail became a case it is that case's content: a lead recused from the case no longer reads it.
        if mail.case is not None and not can(self.request.user, "cases.view_case", mail.case):
            raise Http404("Not found")
        return mail


class SetAsideListView(SetAsideMixin, View):
    def get(self, request, org_slug):
        mails = SetAsideMail.objects.filter(organization=self.organization)
        return render(request, "desk/set_aside.html", {"organization": self.organization, "mails": mails})


class SetAsideDownloadView(SetAsideMixin, View):
    def get(self, request, org_slug, mail_id):
        mail = self.get_mail()
        response = HttpResponse(read_set_aside(mail, by=request.user), content_type="application/octet-stream")
        response["Content-Disposition"] = f'attachment; filename="set-aside-{mail.pk}.eml"'
        response["X-Content-Type-Options"] = "nosniff"
        return response


class SetAsidePreviewView(SetAsideMixin, View):
    """The mail as safe text: decoded headers, the text escaped (HTML parts as plain text), attachments by name
    and size. The read is audited."""

    def get(self, request, org_slug, mail_id):
        mail = self.get_mail()
        context = {"organization": self.organization, "mail": mail, "preview": preview(mail, by=request.user)}
        return render(request, "desk/set_aside_preview.html", context)


class SetAsideOpenCaseView(SetAsideMixin, View):
    http_method_names = ["post"]

    def post(self, request, org_slug, mail_id):
        try:
            case = open_case_from(self.get_mail(), by=request.user)
        except AlreadyHandled as refused:
            messages.error(request, str(refused))
            return redirect("desk:set_aside", org_slug=org_slug)
        messages.success(request, f"Case {case.reference} was opened from the set-aside mail.")
        return redirect("desk:case", reference=case.reference)


class SetAsideHandledView(SetAsideMixin, View):
    http_method_names = ["post"]

    def post(self, request, org_slug, mail_id):
        mark_handled(self.get_mail(), by=request.user)
        messages.success(request, "Marked as handled.")
        return redirect("desk:set_aside", org_slug=org_slug)
