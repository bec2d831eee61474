from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.generic import View

from cocdesk.cases.domain.set_aside import mark_handled, read_set_aside
from cocdesk.cases.models import SetAsideMail

from .access import OrganizationPermissionMixin


class SetAsideMixin(OrganizationPermissionMixin):
    organization_permission = "orgs.review_set_aside_mail"

    def get_mail(self):
        return get_object_or_404(SetAsideMail, organization=self.organization, pk=self.kwargs["mail_id"])


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


class SetAsideHandledView(SetAsideMixin, View):
    http_method_names = ["post"]

    def post(self, request, org_slug, mail_id):
        mark_handled(self.get_mail(), by=request.user)
        messages.success(request, "Marked as handled.")
        return redirect("desk:set_aside", org_slug=org_slug)
