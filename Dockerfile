# tierwise sync worker: `tierwise schedule` by default; `tierwise run` for a CronJob.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY deploy/requirements.lock deploy/requirements.lock
COPY tiering tiering
COPY connectors connectors
COPY sync sync
COPY config config
# No sandbox/: the emulator is the optional `sandbox` extra (tests, `tierwise demo`), and
# the image installs only the runtime plus the PostgreSQL driver, pinned through the lock
# file (constraints). `tierwise sandbox`/`demo` in the image say how to get the extra.
# The image carries no emulator (no COPY sandbox): take it out of the explicit
# package list too, or setuptools stops on the missing folder (tools/namespace.py).
RUN sed -i '/^    "tierwise\.sandbox[."]/d' pyproject.toml
RUN python -m venv /opt/tierwise \
 && /opt/tierwise/bin/pip install -c deploy/requirements.lock ".[postgres]"

FROM python:3.11-slim
ENV PATH=/opt/tierwise/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TIERWISE_LOG_FORMAT=json \
    TIERWISE_DATABASE_URL=sqlite:////data/tierwise.db \
    TIERWISE_REPORT_DIR=/data/reports \
    MALLOC_ARENA_MAX=2
# MALLOC_ARENA_MAX: glibc makes up to eight malloc arenas per core, one for each thread
# that contends, and the worker's pull and write threads then each keep freed memory of
# their own; two cap that (bench/RESULTS.md, session 8: the worker's peak RSS figures).
# The image creates and owns its state and report folders, so a fresh named volume
# mounted on either starts writable by the non-root user.
RUN groupadd --system --gid 10001 tierwise \
 && useradd --system --uid 10001 --gid tierwise --home-dir /data --shell /usr/sbin/nologin tierwise \
 && mkdir -p /data/reports && chown -R tierwise:tierwise /data
COPY --from=build /opt/tierwise /opt/tierwise
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9108
# `tierwise health` reads /healthz on the configured TIERWISE_SCHEDULE__METRICS_PORT:
# unhealthy when the worker stopped answering or after
# TIERWISE_SCHEDULE__UNHEALTHY_AFTER_FAILURES failed runs in a row.
# (A `tierwise run` CronJob container has no long life to check; Kubernetes ignores this.)
HEALTHCHECK --interval=60s --timeout=10s --start-period=30s --retries=3 \
  CMD ["tierwise", "health"]
CMD ["tierwise", "schedule"]
