# One image for every Python process of the platform: both services' web
# servers, query servers, consumers, projectors and relays, the one-shot
# setup, and the local AWS (moto). Which process a container runs is its
# command, `python manage.py --service <service> <arguments>`, taken from
# the process table (stack/process_table.py) by docker-compose.yml. On AWS
# the services' Lambda functions run it too (deploy/service.yaml), with the
# entry point `python -m awslambdaric` and a handler's dotted path as the
# command, e.g. order_service.functions.consume_events.handler.
#
# No secret is baked in: DJANGO_SECRET_KEY, CUSTOMER_SERVICE_TOKEN and
# JWT_SIGNING_KEY come from the environment at run time. Health is checked
# per process by docker-compose.yml (a web server answers /api/health/; a
# consumer or a relay serves only its /metrics, behind a token), so the image
# declares no HEALTHCHECK.

# The pages' browser libraries (htmx, Chart.js), installed by npm from the
# pinned lock as `make install` does (stack/front_end_assets.py); Node is a
# build tool only: the image below gets the few files the pages load.
FROM node:20-slim AS front_end
WORKDIR /front_end
COPY front_end/package.json front_end/package-lock.json ./
RUN npm ci --ignore-scripts --omit=dev --no-audit --no-fund

FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system --gid 10001 lab \
    && useradd --system --uid 10001 --gid lab --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin lab

WORKDIR /app

# The pinned dependencies first, from pyproject.toml alone: this layer is
# rebuilt only when they change, not on every change of the code. Plus the
# Lambda runtime interface client, which only the image needs: it answers
# Lambda's runtime API and calls the handler (a wheel, nothing to compile).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt awslambdaric==4.2.2 \
    && rm /tmp/requirements.txt

# Then the project itself, installed in place: manage.py, the services and
# the platform run from /app, and var/ (the relay's beat schedule) is the
# only place the running user writes.
COPY . .
COPY --from=front_end /front_end/node_modules/htmx.org/dist/htmx.min.js \
    /front_end/node_modules/chart.js/dist/chart.umd.min.js \
    service_kit/static/vendor/
RUN pip install --no-cache-dir --no-deps --editable . \
    && mkdir -p var \
    && chown lab:lab var

USER 10001:10001

EXPOSE 8000

CMD ["python", "manage.py", "--help"]
