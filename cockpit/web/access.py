"""Who may see the cockpit: whoever holds the run's secret token.

``manage.py cockpit`` prints one URL with ``?token=...`` once. Opening it
marks the browser's session (a signed cookie) and redirects to the same
page without the token, so it does not stay in the address bar or the
history. Every later request needs that session; only ``/health/``
answers without it. A wrong or missing token is a 403 that says what to
open instead.
"""

from __future__ import annotations

import secrets

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect

from cockpit.web.wiring import attached

OPEN_PATHS = frozenset({"/health/"})
SESSION_KEY = "cockpit_token_ok"
REFUSED = (
    "This cockpit needs the token of its run: open the URL that "
    "'manage.py cockpit' printed (http://127.0.0.1:PORT/?token=...)."
)


class RunTokenMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path in OPEN_PATHS:
            return self.get_response(request)
        wired = attached()
        if wired is None:
            return HttpResponse("the cockpit is not attached", status=503)
        offered = request.GET.get("token")
        if offered is not None:
            if not secrets.compare_digest(offered, wired.token):
                return HttpResponse(REFUSED, status=403, content_type="text/plain")
            request.session.cycle_key()
            request.session[SESSION_KEY] = True
            query = request.GET.copy()
            del query["token"]
            rest = f"?{query.urlencode()}" if query else ""
            return HttpResponseRedirect(f"{request.path}{rest}")
        if not request.session.get(SESSION_KEY):
            return HttpResponse(REFUSED, status=403, content_type="text/plain")
        return self.get_response(request)
