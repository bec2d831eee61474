from django.middleware.csrf import CsrfViewMiddleware as _DjangoCsrfViewMiddleware


class NoStoreMiddleware:
    """Case pages and receipts must never sit in a shared or browser cache."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith("/static/"):
            response["Cache-Control"] = "no-store"
        return response


class CsrfViewMiddleware(_DjangoCsrfViewMiddleware):
    """Django's CSRF protection, adjusted for ``Referrer-Policy: no-referrer``.

    Under that policy browsers send ``Origin: null`` on every form post, even to the same site, which Django
    rejects. A null origin is accepted only when the browser itself marks the request as same-origin with the
    ``Sec-Fetch-Site`` header, which pages cannot forge; the CSRF token is still checked as always.
    """

    def _origin_verified(self, request):
        if request.META.get("HTTP_ORIGIN") == "null" and request.META.get("HTTP_SEC_FETCH_SITE") == "same-origin":
            return True
        return super()._origin_verified(request)
