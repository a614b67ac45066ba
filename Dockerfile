# syntax=docker/dockerfile:1
# HealthDash production image: gunicorn serving the Dash/Flask app on port 8050.
# The same image runs the migration (`healthdash init-db`) and the Celery worker;
# see docker-compose.yml and docs/deployment.md.

# --- builder: resolve the locked dependencies into /app/.venv with Poetry ---------------------
FROM python:3.11-slim AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    POETRY_NO_INTERACTION=1 \
    POETRY_VIRTUALENVS_CREATE=true \
    POETRY_VIRTUALENVS_IN_PROJECT=true \
    POETRY_CACHE_DIR=/tmp/poetry-cache

RUN pip install "poetry>=2.1,<3"

WORKDIR /app

# Dependencies first, from the lock file only, so this layer is cached until the lock changes.
COPY pyproject.toml poetry.lock ./
RUN poetry install --only main --no-root --compile && rm -rf "$POETRY_CACHE_DIR"

# Then the application itself. Poetry installs it in editable mode (a .pth pointing at /app and
# the `healthdash` console script), so the source must stay at /app in the runtime stage too.
COPY . .
RUN poetry install --only main --compile \
    && python -m compileall -q -x '/\.venv/' /app \
    && rm -rf "$POETRY_CACHE_DIR"

# --- runtime: the venv and the source, no build tools ------------------------------------------
FROM python:3.11-slim AS runtime

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/app/var

# DejaVu Sans: the PDF report's font for "≥", "µ", "–" (Helvetica, the fallback, lacks some).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --gid 10001 healthdash \
    && useradd --uid 10001 --gid 10001 --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin healthdash

WORKDIR /app
# Code and venv stay owned by root (read-only for the app); only DATA_DIR is writable.
COPY --from=builder /app /app
RUN mkdir -p /app/var && chown healthdash:healthdash /app/var

EXPOSE 8050

# No curl in the slim image: probe the unauthenticated health endpoint with the stdlib.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8050/healthz', timeout=4)"]

# hadolint ignore=DL3066
USER healthdash

CMD ["gunicorn", "--bind", "0.0.0.0:8050", "--workers", "2", "--threads", "4", "--access-logfile", "-", "app:server"]
