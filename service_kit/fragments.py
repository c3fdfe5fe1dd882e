"""Micro-frontends: the HTML fragments each service serves for the cockpit.

The paper's best practice IX: a service owns its user interface as it owns
its data. The customer service and the order service each serve their own
fragments (``customer_service.ui``, ``order_service.ui``), built, versioned
and deployed with the service; the cockpit page composes them in the
browser at run time (htmx), so a service that is down leaves one fragment
unavailable and the rest of the page working.

The contract every fragment keeps, whatever service serves it:

- **One root element**: ``<section class="fragment" data-service="customer"
  data-fragment="customer-list" data-fragment-version="1.0.0">``. The page
  finds, replaces and labels fragments by these attributes only; nothing
  else in a fragment is the page's business.
- **A version**: ``FRAGMENT_VERSION`` of the service's ``ui`` package, on
  the root element and in the ``X-Fragment-Version`` header of every answer,
  refusals included. It changes when the markup the page relies on does.
- **The gateway's paths**: links and forms name the gateway's routes
  (``/ui/customers/...``), never a service's own address: the page reaches
  every service through the one front door.
- **htmx forms**: ``hx-post`` to the gateway path, ``hx-target="closest
  .fragment"`` and ``hx-swap="outerHTML"``: the answer, a fragment too,
  replaces the form's fragment (the new record's detail, or the form again
  with each field's error beside it).
- **Refusals are fragments**: 401, 403, 404, 409, 503 ... answer a fragment
  with the same root attributes and the reason, with the status the JSON
  API answers (its exception handler decides; this module only renders).
- **Accessible**: a label for every input, tables with header cells,
  buttons with text, refusals with ``role="alert"``.

What a learner should notice: a fragment API is a DRF ``APIView`` like the
JSON ones, with ``TemplateHTMLRenderer``: the same authentication,
permissions, throttles and scoping, and the same selectors and services.
Only the rendering differs; no business rule is written twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import FormParser
from rest_framework.renderers import TemplateHTMLRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from service_kit.api.pagination import CappedLimitOffsetPagination
from service_kit.api.parsers import SafeJSONParser

FRAGMENT_VERSION_HEADER = "X-Fragment-Version"
REFUSAL_TEMPLATE = "service_kit/fragment_refused.html"
NON_FIELD = "non_field_errors"
#: Refusals of a form after which its fragment is the form again: the input
#: was wrong, or could be sent again as it is. Any other (401, 403 ...)
#: answers the refusal alone.
FORM_KEPT_STATUSES = frozenset(
    {
        status.HTTP_400_BAD_REQUEST,
        status.HTTP_409_CONFLICT,
        status.HTTP_429_TOO_MANY_REQUESTS,
        status.HTTP_503_SERVICE_UNAVAILABLE,
    }
)


def refusal_reason(data: Any) -> str:
    """One sentence out of what the exception handler answered."""
    if isinstance(data, Mapping):
        if "detail" in data:
            return str(data["detail"])
        return "; ".join(
            f"{field}: {reason}" for field, reason in flat_errors(data).items()
        )
    if isinstance(data, list):
        return "; ".join(str(item) for item in data)
    return str(data)


def flat_errors(errors: Any, prefix: str = "") -> dict[str, str]:
    """A serializer's errors as ``{"field": "reason"}``, nested ones named
    ``lines-0-sku`` (the name the form gives that input); an error about a
    nested field as a whole (``lines``: "at least 1") is that field's."""
    if isinstance(errors, Mapping):
        flat: dict[str, str] = {}
        for key, value in errors.items():
            if not prefix:
                name = str(key)
            elif key == NON_FIELD:
                name = prefix
            else:
                name = f"{prefix}-{key}"
            flat.update(flat_errors(value, name))
        return flat
    if isinstance(errors, list):
        if all(isinstance(item, str) for item in errors):
            return {prefix or NON_FIELD: " ".join(errors)} if errors else {}
        flat = {}
        for index, item in enumerate(errors):
            flat.update(flat_errors(item, f"{prefix}-{index}"))
        return flat
    return {prefix or NON_FIELD: str(errors)}


@extend_schema(exclude=True)  # HTML for the cockpit, not a part of the JSON API
class FragmentApi(APIView):
    # A service's ui package sets these on one base class of its own.
    service: ClassVar[str]
    version: ClassVar[str]
    #: The gateway's route to the service's fragments (``/ui/customers/``).
    gateway_path: ClassVar[str]
    # Each fragment API sets its name (``customer-list``) and template.
    fragment_name: ClassVar[str]
    template_name: ClassVar[str]

    renderer_classes = [TemplateHTMLRenderer]
    # htmx posts forms; a script may post the JSON API's body as well.
    parser_classes = [FormParser, SafeJSONParser]
    # OPTIONS describes a JSON API; a fragment has nothing to say (405).
    metadata_class = None

    def fragment(
        self,
        context: Mapping[str, Any] | None = None,
        *,
        status_code: int = status.HTTP_200_OK,
        template_name: str | None = None,
        fragment_name: str | None = None,
    ) -> Response:
        """An answer rendering this API's template with ``context``; another
        fragment (a form answering with the record it made) names its own."""
        root = {
            "service": self.service,
            "name": fragment_name or self.fragment_name,
            "version": self.version,
            "base": self.gateway_path,
        }
        return Response(
            {"fragment": root, **(context or {})},
            status=status_code,
            template_name=template_name or self.template_name,
        )

    def handle_exception(self, exc):
        """The JSON API's answer to ``exc`` (status, reason, headers), as a
        fragment: same status, same reason, rendered by ``refused``."""
        response = super().handle_exception(exc)
        answer = self.refused(response.status_code, response.data)
        # A fragment, not DRF's exception page: the renderer renders it as any.
        response.exception = False
        response.data = answer.data
        response.template_name = answer.template_name
        return response

    def refused(self, status_code: int, data: Any) -> Response:
        return self.fragment(
            {"status_code": status_code, "reason": refusal_reason(data)},
            status_code=status_code,
            template_name=REFUSAL_TEMPLATE,
        )

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response[FRAGMENT_VERSION_HEADER] = self.version
        return response


class FragmentFormApi(FragmentApi):
    """A form: GET answers it empty, a refused POST answers it again with
    what was sent and each field's error (``refused``)."""

    def form_initial(self) -> dict[str, Any]:
        """What the empty form shows (the caller's own customer, say)."""
        return {}

    def form_values(self) -> dict[str, Any]:
        """What the form shows after a refused POST: what was sent."""
        data = self.request.data
        if not isinstance(data, Mapping):  # a JSON body that is no object
            return {}
        return {key: data.get(key, "") for key in data}

    def get(self, request):
        return self.form(values=self.form_initial())

    def form(
        self,
        *,
        values: Mapping[str, Any],
        errors: Mapping[str, str] | None = None,
        reason: str = "",
        status_code: int = status.HTTP_200_OK,
    ) -> Response:
        context = self.form_context(values=values, errors=errors or {})
        return self.fragment({**context, "reason": reason}, status_code=status_code)

    def form_context(
        self, *, values: Mapping[str, Any], errors: Mapping[str, str]
    ) -> dict[str, Any]:
        """What the form's template reads; a form with rows adds them."""
        return {"values": values, "errors": errors}

    def refused(self, status_code: int, data: Any) -> Response:
        if self.request.method != "POST" or status_code not in FORM_KEPT_STATUSES:
            return super().refused(status_code, data)
        errors = (
            flat_errors(data)
            if isinstance(data, Mapping) and "detail" not in data
            else {NON_FIELD: refusal_reason(data)}
        )
        return self.form(
            values=self.form_values(),
            errors=errors,
            reason=errors.get(NON_FIELD, ""),
            status_code=status_code,
        )


class FragmentPage:
    """One page of a list fragment, its links on the gateway's path.

    The same paginator as the JSON lists (at most 100 a page); the links are
    the gateway's, as every link of a fragment is.
    """

    def __init__(self, view: FragmentApi, items) -> None:
        paginator = CappedLimitOffsetPagination()
        self.items = paginator.paginate_queryset(items, view.request, view=view)
        self.count = paginator.count
        limit, offset = paginator.limit, paginator.offset
        self.first = offset + 1 if self.items else 0
        self.last = offset + len(self.items)
        self.next = (
            self._link(view, limit=limit, offset=offset + limit)
            if offset + limit < self.count
            else ""
        )
        self.previous = (
            self._link(view, limit=limit, offset=max(offset - limit, 0))
            if offset > 0
            else ""
        )

    @staticmethod
    def _link(view: FragmentApi, *, limit: int, offset: int) -> str:
        # The list's filters are kept; only the page moves.
        query = view.request.query_params.copy()
        query["limit"], query["offset"] = str(limit), str(offset)
        return f"{view.gateway_path}?{query.urlencode()}"
