"""The gateway's HAProxy configuration, generated from the process table.

One port in front of every web process (the paper's best practice VI: proxy
every request through an API gateway). What a learner should notice is the
order of the checks: each is cheap, and each refuses a request before the
next, more costly one runs, so a flood or a forged token never reaches a
service:

1. every request gets a request id (``X-Request-ID``) unless it brings a
   well-formed one, and a W3C ``traceparent`` naming the gateway's own span:
   in the caller's trace if it sent a well-formed one (the caller's span
   becomes the gateway span's parent), else in a new trace whose id is the
   request id. So the access log, the services, the events and the traces
   name the same request;
2. per client address, a rate limit (429 with ``Retry-After``);
3. a route, or 404 (``stack.gateway_routes``: the gateway's paths are the
   services' paths without ``/api``);
4. a JWT, verified here (HS256 with ``JWT_SIGNING_KEY``; 401 for none, a bad
   signature, another algorithm, ``alg: none``, an expired or non-access
   token), except on the open routes (sign-in, health, admin);
5. per subject (the JWT's ``user_id``), a rate limit (429);
6. a body size limit (413; a body must declare its length, 411);
7. the path rewritten to the service's own, and the request forwarded over
   kept-alive connections. The services verify the token again (defence in
   depth): the gateway is the first wall, not the only one.

Every request, refused or forwarded, is one JSON access-log line on stdout;
with ``GATEWAY_SPAN_LOG`` (a ``host:port``) each line also goes there as
syslog over UDP, where the local span receiver turns it into the gateway's
span (``stack.span_store.span_of_access_line``).
The rate limits count in HAProxy's stick tables: a sliding window that
counts refused requests too, so a client that keeps hammering stays refused
until it pauses.
"""

from __future__ import annotations

import json

from stack.gateway_routes import (
    COMPOSE_DNS,
    HEALTH_PATH,
    GatewayLimits,
    Route,
    Upstreams,
)


def _json_body(detail: str) -> str:
    body = json.dumps({"detail": detail})
    if "'" in body:
        raise ValueError(f"a gateway answer cannot hold a quote: {detail!r}")
    return f"'{body}'"


def _answer(status: int, detail: str, condition: str, *headers: str) -> str:
    """``http-request return``: the gateway answers itself, in JSON."""
    extra = "".join(f" hdr {header}" for header in headers)
    return (
        f"http-request return status {status} content-type application/json "
        f"string {_json_body(detail)} hdr X-Request-ID %[var(txn.request_id)]"
        f"{extra} {condition}"
    )


# The access log: one JSON document per request (HAProxy's json converter
# escapes what the client sent). An empty field is "-".
ACCESS_LOG_FIELDS = {
    "time": "%[var(txn.start),div(1000),utime(%Y-%m-%dT%H:%M:%S)]"
    ".%[var(txn.start),mod(1000),add(1000),regsub(^1,)]Z",
    "method": "%[var(txn.method),json(utf8s)]",
    "path": "%[var(txn.path),json(utf8s)]",
    "status": "%ST",
    "duration_ms": "%Ta",
    "request_id": "%[var(txn.request_id),json(utf8s)]",
    "traceparent": "%[var(txn.traceparent),json(utf8s)]",
    "parent_traceparent": "%[var(txn.parent_traceparent),json(utf8s)]",
    "start_ms": "%[var(txn.start)]",
    "client": "%ci",
    "subject": "%[var(txn.subject),json(utf8s)]",
    "route": "%[var(txn.route)]",
    "backend": "%b",
    "bytes_sent": "%B",
}
NUMERIC_FIELDS = {"status", "duration_ms", "bytes_sent", "start_ms"}


def access_log_format() -> str:
    parts = []
    for name, value in ACCESS_LOG_FIELDS.items():
        quoted = value if name in NUMERIC_FIELDS else f'"{value}"'
        parts.append(f'"{name}":{quoted}')
    return "'{" + ",".join(parts) + "}'"


REQUEST_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,128}$"
TRACEPARENT_PATTERN = r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$"


def _global_and_defaults(span_log: str | None = None) -> list[str]:
    span_target = (
        [
            "    # And to the span receiver, which makes each line the gateway's span.",
            f"    log {span_log} format raw local0",
        ]
        if span_log
        else []
    )
    return [
        "global",
        "    # One JSON line per request on stdout: `manage.py up` shows it with",
        "    # the other processes' output, a container's log driver collects it.",
        "    log stdout format raw local0",
        *span_target,
        "    # The key the services sign JWTs with, read from the environment at",
        "    # start (never written here); the services verify with the same key.",
        "    set-var proc.jwt_signing_key env(JWT_SIGNING_KEY)",
        "",
        "defaults",
        "    mode http",
        "    log global",
        f"    log-format {access_log_format()}",
        "    # Kept-alive connections to the services (HAProxy's default), and no",
        "    # Nagle delay on them: a response's last small write is sent at once.",
        "    option http-keep-alive",
        "    option http-no-delay",
        "    # The client's address for the services' logs (X-Forwarded-For).",
        "    option forwardfor",
        "    timeout connect 5s",
        "    # Slow clients may not hold a connection open sending headers.",
        "    timeout http-request 10s",
        "    timeout client 60s",
        "    # As long as a service's gunicorn lets a request run.",
        "    timeout server 60s",
        "    timeout http-keep-alive 10s",
        "    # A connection refused by a restarting service is tried again.",
        "    retries 3",
    ]


def _frontend(
    *, bind: str, routes: list[Route], limits: GatewayLimits, backends: dict[str, str]
) -> list[str]:
    window = limits.window_seconds
    retry = f"Retry-After {limits.retry_after_seconds}"
    open_names = " ".join(route.name for route in routes if route.open)
    lines = [
        "frontend gateway",
        f"    bind {bind}",
        f"    monitor-uri {HEALTH_PATH}",
        "    # A new request id is 32 hex digits: it is the trace id as well.",
        "    unique-id-format %[uuid(),regsub(-,,g)]",
        f"    acl open_route var(txn.route) -m str {open_names}",
        "",
        "    # 1. What the access log reports, as the client sent it.",
        "    http-request set-var(txn.start) date(0,ms)",
        "    http-request set-var(txn.method) method",
        "    http-request set-var(txn.path) path",
        "    # A request id and a trace context: the caller's if well-formed.",
        "    http-request set-header X-Request-ID %[unique-id] unless "
        "{ req.hdr_cnt(x-request-id) eq 1 } "
        f"{{ req.hdr(x-request-id) -m reg {REQUEST_ID_PATTERN} }}",
        "    http-request set-var(txn.request_id) req.hdr(x-request-id)",
        "    # The gateway's own span: a new span id, in the caller's trace if",
        "    # the caller sent one (its span is then the parent), else in a new",
        "    # trace named by the request id.",
        "    acl traced req.hdr_cnt(traceparent) eq 1",
        f"    acl traced_well req.hdr(traceparent) -m reg {TRACEPARENT_PATTERN}",
        "    http-request set-var(txn.parent_traceparent) req.hdr(traceparent) "
        "if traced traced_well",
        "    http-request set-var(txn.trace_id) req.hdr(traceparent),field(2,-) "
        "if traced traced_well",
        "    http-request set-var(txn.trace_flags) req.hdr(traceparent),field(4,-) "
        "if traced traced_well",
        "    http-request set-var(txn.trace_id) unique-id "
        "unless { var(txn.trace_id) -m found }",
        "    http-request set-var(txn.trace_flags) str(01) "
        "unless { var(txn.trace_flags) -m found }",
        "    http-request set-header traceparent "
        "00-%[var(txn.trace_id)]-%[uuid(),field(1,-)]%[uuid(),field(1,-)]"
        "-%[var(txn.trace_flags)]",
        "    http-request set-var(txn.traceparent) req.hdr(traceparent)",
        "",
        "    # 2. Per client address, every request counted.",
        "    http-request track-sc0 src table per_address",
        "    "
        + _answer(
            429,
            f"too many requests from this address (more than {limits.per_address} "
            f"in {window} s): retry later",
            f"if {{ sc_http_req_rate(0) gt {limits.per_address} }}",
            retry,
        ),
        "",
        "    # 3. A route.",
    ]
    for route in routes:
        lines.append(
            f"    http-request set-var(txn.route) str({route.name}) "
            f"if {{ path_beg {route.prefix} }}"
        )
    prefixes = ", ".join(route.prefix for route in routes if not route.open)
    lines += [
        "    "
        + _answer(
            404,
            f"no such route: the gateway serves {prefixes} (with a JWT) and "
            "/auth/token/ (to get one)",
            "unless { var(txn.route) -m found }",
        ),
        "",
        "    # 4. A JWT, on every route but the open ones.",
        "    http-request set-var(txn.bearer) http_auth_bearer if !open_route",
        "    "
        + _answer(
            401,
            "a JWT is required: Authorization: Bearer <token> "
            "(POST /auth/token/ gives one)",
            "if !open_route !{ var(txn.bearer) -m found }",
            "WWW-Authenticate 'Bearer realm=\"api\"'",
        ),
        "    http-request set-var(txn.jwt_alg) var(txn.bearer),"
        "jwt_header_query('$.alg') if !open_route",
        # jwt_verify checks the signature with the algorithm named here, never
        # the one the token names; refusing any other first says why.
        "    "
        + _answer(
            401,
            "the JWT must be signed with HS256 (alg none and others are refused)",
            "if !open_route !{ var(txn.jwt_alg) -m str HS256 }",
            'WWW-Authenticate \'Bearer realm="api", error="invalid_token"\'',
        ),
        "    "
        + _answer(
            401,
            "the JWT signature does not verify",
            "if !open_route "
            '!{ var(txn.bearer),jwt_verify("HS256",proc.jwt_signing_key) eq 1 }',
            'WWW-Authenticate \'Bearer realm="api", error="invalid_token"\'',
        ),
        "    http-request set-var(txn.jwt_exp) var(txn.bearer),"
        "jwt_payload_query('$.exp','int') if !open_route",
        "    http-request set-var(txn.now) date()",
        "    "
        + _answer(
            401,
            "the JWT has expired (or names no expiry): "
            "POST /auth/token/refresh/ gives a new one",
            "if !open_route !{ var(txn.jwt_exp),sub(txn.now) gt 0 }",
            'WWW-Authenticate \'Bearer realm="api", error="invalid_token"\'',
        ),
        "    "
        + _answer(
            401,
            "the JWT is not an access token (a refresh token only refreshes)",
            "if !open_route "
            "!{ var(txn.bearer),jwt_payload_query('$.token_type') -m str access }",
            'WWW-Authenticate \'Bearer realm="api", error="invalid_token"\'',
        ),
        "    http-request set-var(txn.subject) var(txn.bearer),"
        "jwt_payload_query('$.user_id') if !open_route",
        "    "
        + _answer(
            401,
            "the JWT names no user (user_id)",
            "if !open_route !{ var(txn.subject) -m found }",
            'WWW-Authenticate \'Bearer realm="api", error="invalid_token"\'',
        ),
        "",
        "    # 5. Per subject: one user's requests, from any address.",
        "    http-request track-sc1 var(txn.subject) table per_subject "
        "if { var(txn.subject) -m found }",
        "    "
        + _answer(
            429,
            f"too many requests from this user (more than {limits.per_subject} "
            f"in {window} s): retry later",
            f"if {{ sc_http_req_rate(1) gt {limits.per_subject} }}",
            retry,
        ),
        "",
        "    # 6. The body: its declared length, before any of it is read.",
        "    "
        + _answer(
            413,
            f"the request body is larger than {limits.max_body_bytes} bytes",
            f"if {{ req.hdr_val(content-length) gt {limits.max_body_bytes} }}",
        ),
        # A chunked body has no length to check before it is read whole.
        "    "
        + _answer(
            411,
            "send the body with a Content-Length (chunked bodies are refused)",
            "if { req.hdr(transfer-encoding) -m found }",
        ),
        "",
        "    # 7. The service's own path, and the process that serves it.",
    ]
    for route in routes:
        pattern = f"^{route.prefix}(.*)$"
        lines.append(
            f"    http-request replace-path {pattern} {route.service_prefix}\\1 "
            f"if {{ var(txn.route) -m str {route.name} }}"
        )
    for route in routes:
        lines.append(
            f"    use_backend {backends[route.name]} "
            f"if {{ var(txn.route) -m str {route.name} }}"
        )
    lines += [
        "",
        "    # The gateway's own errors, in the services' JSON shape.",
        *(
            f"    http-error status {status} content-type application/json "
            f"string {_json_body(detail)}"
            for status, detail in (
                (502, "the service gave no valid answer"),
                (503, "the service is not running"),
                (504, "the service did not answer in time"),
            )
        ),
    ]
    return lines


def _backends(
    routes: list[Route], upstreams: Upstreams
) -> tuple[dict[str, str], list[str]]:
    """One backend per process routed to: (route name -> backend, lines)."""
    by_route: dict[str, str] = {}
    lines: list[str] = []
    written: set[str] = set()
    resolve = (
        " resolvers compose init-addr last,libc,none" if upstreams.compose_dns else ""
    )
    for route in routes:
        name = (
            route.process
            if route.fallback is None
            else f"{route.process}-or-{route.fallback}"
        )
        by_route[route.name] = name
        if name in written:
            continue
        written.add(name)
        lines += ["", f"backend {name}"]
        lines.append(
            f"    server {route.process} {upstreams.addresses[route.process]}{resolve}"
        )
        if route.fallback is not None:
            lines.append(
                f"    server {route.fallback} "
                f"{upstreams.addresses[route.fallback]}{resolve} backup"
            )
    return by_route, lines


def _stick_tables(limits: GatewayLimits) -> list[str]:
    window = limits.window_seconds
    # An entry outlives the two windows the rate is estimated over.
    expire = 3 * window
    return [
        "",
        "# The rate limits' counters (a backend only holds a table).",
        "backend per_address",
        f"    stick-table type ipv6 size 100k expire {expire}s "
        f"store http_req_rate({window}s)",
        "",
        "backend per_subject",
        f"    stick-table type string len 64 size 100k expire {expire}s "
        f"store http_req_rate({window}s)",
    ]


def _resolvers() -> list[str]:
    return [
        "",
        "resolvers compose",
        f"    nameserver dns {COMPOSE_DNS}",
        "    hold valid 10s",
    ]


HEADER = """\
# The platform's API gateway (HAProxy 2.6), generated by stack/gateway_config.py
# from the process table: do not edit by hand. Routes, checks and their order
# are explained there. JWT_SIGNING_KEY comes from the environment.
"""


def render_gateway_config(
    *,
    routes: list[Route],
    upstreams: Upstreams,
    bind: str,
    limits: GatewayLimits | None = None,
    span_log: str | None = None,
) -> str:
    """The HAProxy configuration file's text; ``span_log`` a ``host:port``
    that also gets each access-log line (the local span receiver)."""
    limits = limits or GatewayLimits()
    backends, backend_lines = _backends(routes, upstreams)
    lines = [
        *_global_and_defaults(span_log),
        "",
        *_frontend(bind=bind, routes=routes, limits=limits, backends=backends),
        *backend_lines,
        *_stick_tables(limits),
        *(_resolvers() if upstreams.compose_dns else []),
    ]
    return HEADER + "\n" + "\n".join(lines) + "\n"
