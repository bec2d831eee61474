"""The blank report form, rendered once per organization and worker.

Every reporter of an organization gets the same page but for two tokens (the CSRF token and the submission token),
so the page is rendered with placeholders, kept in the worker's memory (``common.worker_pages``), and each request
splices its own tokens in. It is kept with everything it shows that can change: the organization's row (its
settings and public page fields), its active spaces and its team list for exclusions, read in one query. Any change
to them renders it again, in every worker at once, without anything to invalidate.
"""

import secrets

from django.conf import settings
from django.db import router
from django.db.models import IntegerField, Value
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string

from cocdesk.cases.forms import SPACE_FIELDS, ReportForm, reportable_space_relation, reportable_spaces, team_list
from cocdesk.common.csrf_tokens import form_token
from cocdesk.common.fields import plausible_id
from cocdesk.common.messages import has_messages
from cocdesk.common.prepared import PreparedQuery, field_names
from cocdesk.common.worker_pages import WorkerPages, organization_row
from cocdesk.orgs.models import Organization, Space

TEMPLATE = "public/report_form.html"
BLANK_FORMS = WorkerPages()
# Unguessable per process, so no text an organization writes on its page can be taken for a placeholder.
_CSRF_SLOT = f"csrf{secrets.token_hex(16)}"
_SUBMISSION_SLOT = f"submission{secrets.token_hex(16)}"


def new_submission_token():
    return secrets.token_urlsafe(24)


def _shown_rows_query(organization_id):
    """(0, pk, name) of each active space and (1, pk, display name) of each member the form offers to exclude."""
    organization = Organization(pk=organization_id)
    spaces = reportable_spaces(organization).order_by().annotate(part=Value(0, IntegerField()))
    team = team_list(organization).order_by().annotate(part=Value(1, IntegerField()))
    return spaces.values_list("part", "pk", "name").union(team.values_list("part", "pk", "display_name"), all=True)


# Building these queries costs several times what running them does: each worker builds them once.
_shown_rows_prepared = PreparedQuery(_shown_rows_query, int)
_ORGANIZATION_FIELDS = field_names(Organization)
_organization_by_slug = PreparedQuery(
    lambda slug: Organization.objects.filter(slug=slug).order_by().values_list(*_ORGANIZATION_FIELDS), str
)


def organization_or_404(slug):
    """The organization whose form this is: ``get_object_or_404(Organization, slug=slug)``, prepared."""
    using = router.db_for_read(Organization)
    rows = _organization_by_slug.rows(slug, using=using)
    if not rows:
        raise Http404("No organization has this address.")
    return Organization.from_db(using, _ORGANIZATION_FIELDS, rows[0])


_organization_and_space = PreparedQuery(
    lambda slug, space_pk: (
        Organization.objects.filter(slug=slug)
        .annotate(chosen=reportable_space_relation(space_pk))
        .order_by()
        .values_list(*_ORGANIZATION_FIELDS, *(f"chosen__{name}" for name in SPACE_FIELDS))
    ),
    str,
    int,
)


def organization_and_space_or_404(slug, sent_space):
    """``organization_or_404`` for a sent form, and in the same query the reportable space it names, for the form's
    ``looked_up_space``: (the organization, (the id sent, the space or None)); the second is None when the form sent
    no plausible id, which the form's field refuses or takes as no space without a query."""
    if sent_space in (None, "") or not plausible_id(sent_space):
        return organization_or_404(slug), None
    using = router.db_for_read(Organization)
    pk = int(str(sent_space).strip())
    rows = _organization_and_space.rows(slug, pk, using=using)
    if not rows:
        raise Http404("No organization has this address.")
    split = len(_ORGANIZATION_FIELDS)
    organization = Organization.from_db(using, _ORGANIZATION_FIELDS, rows[0][:split])
    space_row = rows[0][split:]
    space = None if space_row[0] is None else Space.from_db(using, SPACE_FIELDS, space_row)
    return organization, (pk, space)


def _shown_rows(organization):
    return sorted(_shown_rows_prepared.rows(organization.pk, using=router.db_for_read(Organization)))


def _render_blank(request, organization):
    form = ReportForm(organization=organization, initial={"submission_token": _SUBMISSION_SLOT})
    # Without the request: no context processor may put anything of this visitor into a page others get.
    page = render_to_string(TEMPLATE, {"organization": organization, "form": form, "csrf_token": _CSRF_SLOT})
    # Kept encoded, as it is sent: the page is long and not all Latin-1, and encoding it again for every reporter
    # cost more than splicing the tokens in.
    return page.encode(settings.DEFAULT_CHARSET)


def blank_form_response(request, organization):
    """The page of an empty report form for this request, from the worker's memory when it holds it."""
    if settings.DEBUG or has_messages(request):
        # A pending message is shown once, on this page only; in development templates change under a running worker.
        form = ReportForm(organization=organization, initial={"submission_token": new_submission_token()})
        return render(request, TEMPLATE, {"organization": organization, "form": form})
    shown = (organization_row(organization), _shown_rows(organization))
    page = BLANK_FORMS.page(organization.pk, shown, lambda: _render_blank(request, organization))
    charset = settings.DEFAULT_CHARSET
    page = page.replace(_CSRF_SLOT.encode(charset), form_token(request).encode(charset)).replace(
        _SUBMISSION_SLOT.encode(charset), new_submission_token().encode(charset)
    )
    return HttpResponse(page)
