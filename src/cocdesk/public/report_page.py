"""The blank report form, rendered once per organization and worker.

Every reporter of an organization gets the same page but for two tokens (the CSRF token and the submission token),
so the page is rendered with placeholders, kept in the worker's memory (``common.worker_pages``), and each request
splices its own tokens in. It is kept with everything it shows that can change: the organization's row (its
settings and public page fields), its active spaces and its team list for exclusions, all read in one query. Any change
to them renders it again, in every worker at once, without anything to invalidate.
"""

import json
import secrets

from django.conf import settings
from django.db import router
from django.db.models import Aggregate, OuterRef, Subquery, TextField
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


class _JSONRows(Aggregate):
    """The rows' values, each row a JSON array, the rows a JSON array, as text: an organization's spaces or team for
    the page's key, read with its row in one query. The order of the rows is not given."""

    output_field = TextField()
    template = "json_group_array(json_array(%(expressions)s))"

    def as_postgresql(self, compiler, connection, **extra_context):
        template = "json_agg(json_build_array(%(expressions)s))::text"
        return self.as_sql(compiler, connection, template=template, **extra_context)


def _rows_of_organization(queryset, *fields):
    """``fields`` of each row of ``queryset`` (filtered on ``OuterRef("pk")`` of an organization) as ``_JSONRows``;
    NULL for none."""
    return Subquery(queryset.order_by().values("organization").annotate(rows=_JSONRows(*fields)).values("rows"))


_ORGANIZATION_FIELDS = field_names(Organization)
# Building these queries costs several times what running them does: each worker builds them once.
_organization_by_slug = PreparedQuery(
    lambda slug: Organization.objects.filter(slug=slug).order_by().values_list(*_ORGANIZATION_FIELDS), str
)
_organization_and_shown = PreparedQuery(
    lambda slug: (
        Organization.objects.filter(slug=slug)
        .annotate(
            shown_spaces=_rows_of_organization(reportable_spaces(OuterRef("pk")), "pk", "name"),
            shown_team=_rows_of_organization(team_list(OuterRef("pk")), "pk", "display_name"),
        )
        .order_by()
        .values_list(*_ORGANIZATION_FIELDS, "shown_spaces", "shown_team")
    ),
    str,
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


def organization_and_shown_or_404(slug):
    """``organization_or_404`` for the blank form, and in the same query what the form shows that can change besides
    the organization's row, for ``WorkerPages``: (the organization, (its active spaces' (pk, name) and the team list's
    (pk, display name), each sorted))."""
    using = router.db_for_read(Organization)
    rows = _organization_and_shown.rows(slug, using=using)
    if not rows:
        raise Http404("No organization has this address.")
    *organization_row, spaces, team = rows[0]
    organization = Organization.from_db(using, _ORGANIZATION_FIELDS, organization_row)
    return organization, tuple(tuple(sorted(map(tuple, json.loads(text)))) if text else () for text in (spaces, team))


def _render_blank(request, organization):
    form = ReportForm(organization=organization, initial={"submission_token": _SUBMISSION_SLOT})
    # Without the request: no context processor may put anything of this visitor into a page others get.
    page = render_to_string(TEMPLATE, {"organization": organization, "form": form, "csrf_token": _CSRF_SLOT})
    # Kept encoded, as it is sent: the page is long and not all Latin-1, and encoding it again for every reporter
    # cost more than splicing the tokens in.
    return page.encode(settings.DEFAULT_CHARSET)


def blank_form_response(request, slug):
    """The page of an empty report form for this request, from the worker's memory when it holds it."""
    if settings.DEBUG or has_messages(request):
        # A pending message is shown once, on this page only; in development templates change under a running worker.
        organization = organization_or_404(slug)
        form = ReportForm(organization=organization, initial={"submission_token": new_submission_token()})
        return render(request, TEMPLATE, {"organization": organization, "form": form})
    organization, shown = organization_and_shown_or_404(slug)
    page = BLANK_FORMS.page(
        organization.pk, (organization_row(organization), shown), lambda: _render_blank(request, organization)
    )
    charset = settings.DEFAULT_CHARSET
    page = page.replace(_CSRF_SLOT.encode(charset), form_token(request).encode(charset)).replace(
        _SUBMISSION_SLOT.encode(charset), new_submission_token().encode(charset)
    )
    return HttpResponse(page)
