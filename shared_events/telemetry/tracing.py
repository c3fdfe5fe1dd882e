"""Tracing with OpenTelemetry: one command, one trace, across every process.

A request's trace starts at the gateway (its ``traceparent``), continues in
the web process (Django's span, and psycopg2's for each statement) and then
rides in the event: the envelope's ``trace_context`` is the context of the
event's *create* span, recorded when the write model logs the event. Every
later step takes its parent from there, however many processes and brokers
lie between:

- the relay's *publish* span, one per event, with the broker call
  (botocore's span) below the batch's first;
- a consumer's or projector's *process* span (``apply_event``), with the
  handlers' statements below it, and any event its handlers record, whose
  *create* span is a child of it: the OrderCancelled a CustomerDeleted
  caused shares the deletion's trace.

Tracing is on when an OTLP endpoint is configured with the standard
variables (``OTEL_EXPORTER_OTLP_ENDPOINT`` or
``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT``) and ``OTEL_SDK_DISABLED`` is not
``true``; the exporter reads the rest of ``OTEL_*`` itself (headers,
timeouts, ``OTEL_BSP_SCHEDULE_DELAY``...). Off, nothing is imported beyond
the API and every helper here returns at once.

Which traces are kept: a trace starts only at an entry point, a request
(a server span) or an event recorded outside any request; the rest follows
its parent's decision. Without that rule every poll of a queue, every tick
of the relay's timer, every statement of a background loop would start a
trace of its own, and the real ones would drown. Of the entry points, the
standard ``OTEL_TRACES_SAMPLER_ARG`` (a ratio, 1 by default) keeps that
share, decided by the trace id: every process of a trace decides alike.
"""

from __future__ import annotations

import atexit
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING

from opentelemetry import trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import (
    TraceContextTextMapPropagator,
)

if TYPE_CHECKING:
    from opentelemetry.sdk.trace.sampling import Sampler

    from shared_events.events import EventEnvelope

TRUE = ("true", "1", "yes")
# Requests that are not a learner's: health checks and metric scrapes.
EXCLUDED_URLS = "api/health,metrics"
NAMESPACE = "microservices-lab"
CREATE = "create"

_propagator = TraceContextTextMapPropagator()
_tracer = trace.get_tracer("shared_events")
_configured = False


def tracing_requested(env: Mapping[str, str] = os.environ) -> bool:
    """Whether the standard ``OTEL_*`` settings ask for traces to be exported."""
    if env.get("OTEL_SDK_DISABLED", "").lower() in TRUE:
        return False
    if env.get("OTEL_TRACES_EXPORTER", "otlp").lower() == "none":
        return False
    return bool(
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
        or env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    )


def tracing_on() -> bool:
    """Whether this process records spans (``configure_tracing`` ran)."""
    return _configured


def configure_tracing(*, default_service_name: str) -> bool:
    """Set up the SDK and the instrumentations once per process, if requested.

    Called when Django is ready (``SharedEventsConfig.ready``): in gunicorn's
    master before its workers fork (``serve --preload``; the SDK's batch
    processor starts its export thread again in each worker), in the Celery
    relay worker, in every consumer. The service name is
    ``OTEL_SERVICE_NAME`` (the platform runner names each process:
    ``customer-web``, ``order-consumer``...) or ``default_service_name``.
    """
    global _configured
    if _configured or not tracing_requested():
        return _configured
    # Imported here: a process without tracing never loads the SDK.
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter,
    )
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased

    resource = Resource.create(
        {
            "service.name": os.environ.get("OTEL_SERVICE_NAME") or default_service_name,
            "service.namespace": NAMESPACE,
        }
    )
    ratio = float(os.environ.get("OTEL_TRACES_SAMPLER_ARG") or 1.0)
    provider = TracerProvider(
        resource=resource, sampler=ParentBased(_entry_points(ratio))
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    # What is left in the queue is sent when the process exits.
    atexit.register(provider.shutdown)
    # The standard switch of opentelemetry-instrument, honoured here too:
    # e.g. OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=psycopg2 drops a span per
    # SQL statement.
    disabled = {
        name.strip()
        for name in os.environ.get("OTEL_PYTHON_DISABLED_INSTRUMENTATIONS", "").split(
            ","
        )
    }
    instrumentations = {
        "django": lambda: DjangoInstrumentor().instrument(excluded_urls=EXCLUDED_URLS),
        # The wheel is psycopg2-binary, which the dependency check does not know.
        "psycopg2": lambda: Psycopg2Instrumentor().instrument(skip_dep_check=True),
        "requests": lambda: RequestsInstrumentor().instrument(),
        "botocore": lambda: BotocoreInstrumentor().instrument(),
        "celery": lambda: CeleryInstrumentor().instrument(),
    }
    for name, instrument in instrumentations.items():
        if name not in disabled:
            instrument()
    _configured = True
    return True


def _entry_points(ratio: float) -> Sampler:
    """The root sampler: keep ``ratio`` of the traces that start at a request
    or an event, and none that start anywhere else."""
    from opentelemetry.sdk.trace.sampling import (
        ALWAYS_OFF,
        Sampler,
        TraceIdRatioBased,
    )

    kept = TraceIdRatioBased(ratio)

    class EntryPoints(Sampler):
        def should_sample(
            self,
            parent_context,
            trace_id,
            name,
            kind=None,
            attributes=None,
            links=None,
            trace_state=None,
        ):
            starts = kind is SpanKind.SERVER or (
                attributes is not None
                and attributes.get("messaging.operation.type") == CREATE
            )
            chosen = kept if starts else ALWAYS_OFF
            return chosen.should_sample(
                parent_context, trace_id, name, kind, attributes, links, trace_state
            )

        def get_description(self) -> str:
            return f"EntryPoints{{server spans and recorded events, {ratio}}}"

    return EntryPoints()


def current_trace_id() -> str | None:
    """The 32-hex id of the trace being recorded here, if any."""
    context = trace.get_current_span().get_span_context()
    return f"{context.trace_id:032x}" if context.is_valid else None


# --- the envelope's trace context ---------------------------------------------


def context_of(trace_context: Mapping[str, str]):
    """The OpenTelemetry context an envelope's ``trace_context`` names."""
    return _propagator.extract(carrier=dict(trace_context))


def _carrier_of(span) -> dict[str, str]:
    carrier: dict[str, str] = {}
    _propagator.inject(carrier, context=trace.set_span_in_context(span))
    return carrier


class EventCreation:
    """The *create* span of one event being recorded, and its trace context."""

    def __init__(self, span) -> None:
        self._span = span
        self.trace_context: dict[str, str] | None = (
            _carrier_of(span) if span is not None else None
        )

    def created(self, envelope: EventEnvelope) -> None:
        """Name the event on its span, once its envelope exists."""
        if self._span is not None:
            self._span.set_attribute("messaging.message.id", str(envelope.event_id))


@contextmanager
def recording_event(
    *, event_type: str, aggregate_type: str, aggregate_id: str
) -> Iterator[EventCreation]:
    """Around building one event's envelope: its *create* span.

    The span's context becomes the envelope's ``trace_context`` (None when
    tracing is off: the envelope then starts or continues a trace by the
    envelope's own rules). A child of whatever span is current: the
    request's, or a consumer's *process* span for a caused event.
    """
    if not _configured:
        yield EventCreation(None)
        return
    with _tracer.start_as_current_span(
        f"{CREATE} {event_type}",
        kind=SpanKind.PRODUCER,
        attributes={
            "messaging.operation.type": CREATE,
            "event.type": event_type,
            "aggregate.type": aggregate_type,
            "aggregate.id": aggregate_id,
        },
    ) as span:
        yield EventCreation(span)


@contextmanager
def processing_event(
    envelope: EventEnvelope, *, consumer: str
) -> Iterator[Callable[[str], None]]:
    """Around applying one event: its *process* span, a child of its *create*.

    Yields a function that notes the outcome (applied, duplicate, held). The
    span is current inside, so the handlers' statements and the events they
    record are its children.
    """
    if not _configured:
        yield _ignore
        return
    with _tracer.start_as_current_span(
        f"process {envelope.event_type}",
        context=context_of(envelope.trace_context),
        kind=SpanKind.CONSUMER,
        attributes={
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": consumer,
            "messaging.message.id": str(envelope.event_id),
            "event.type": envelope.event_type,
            "aggregate.id": envelope.aggregate_id,
            "aggregate.version": envelope.aggregate_version,
        },
    ) as span:
        yield lambda outcome: span.set_attribute("event.outcome", outcome)


def _ignore(_outcome: str) -> None:
    return None


@contextmanager
def publishing(
    messages: Sequence[tuple[str, Mapping[str, str] | None]],
    *,
    system: str,
    destination: str,
) -> Iterator[Callable[[Mapping[str, str]], None]]:
    """Around one batch call to the broker: a *publish* span per event.

    ``messages`` are (event id, trace context) pairs. Each event's span is a
    child of its *create* span; the batch's first is current during the call,
    so the broker call's own span (botocore's) sits below it, and the others
    link to it: one call carried them all. Yields a function taking the
    failed event ids with their reasons, to mark those spans as errors.
    """
    if not _configured or not messages:
        yield _ignore_failures
        return
    spans = []
    for index, (event_id, trace_context) in enumerate(messages):
        links = [Link(spans[0].get_span_context())] if index else None
        spans.append(
            _tracer.start_span(
                f"publish {destination}",
                context=context_of(trace_context) if trace_context else None,
                kind=SpanKind.PRODUCER,
                links=links,
                attributes={
                    "messaging.operation.type": "send",
                    "messaging.system": system,
                    "messaging.destination.name": destination,
                    "messaging.message.id": event_id,
                    "messaging.batch.message_count": len(messages),
                },
            )
        )
    failed: dict[str, str] = {}
    try:
        with trace.use_span(spans[0], end_on_exit=False):
            yield failed.update
    except BaseException as error:
        for span in spans:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, str(error)))
        raise
    finally:
        for (event_id, _context), span in zip(messages, spans, strict=True):
            if event_id in failed:
                span.set_status(Status(StatusCode.ERROR, failed[event_id]))
            span.end()


def _ignore_failures(_failed: Mapping[str, str]) -> None:
    return None
