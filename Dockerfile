# The bridge's image for a Docker or Kubernetes work pool (prefect.yaml, `container_work_pool`): the flows, their
# dependencies pinned by constraints.txt, and Prefect, which the worker starts in one container per flow run
# (`prefect flow-run execute`). The code sits in /opt/prefect, the working directory `prefect deploy` gives runs
# of a pool whose job variables name an image. Credentials are not baked in: runs read the Prefect Blocks that
# `bcmirakl bootstrap` wrote (BCMIRAKL_CREDENTIAL_BLOCKS); the container needs only PREFECT_API_URL.
#
#   docker build -t bcmirakl:0.1.0 .          # then tag and push it where the workers pull from
#
# Python 3.11: the version constraints.txt was locked with (pyproject: requires-python >= 3.11).

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml constraints.txt README.md ./
COPY bcmirakl bcmirakl
COPY bridge bridge
COPY common common
COPY connectors connectors
COPY tasks tasks
COPY flows flows
COPY expectations expectations
COPY deployments deployments
COPY sandbox sandbox
# The runtime dependencies only (no [test] extra), each at the version constraints.txt pins; psycopg[binary]
# brings its own libpq, so the slim base needs no compiler or system library.
RUN python -m venv /opt/venv \
    && /opt/venv/bin/pip install --upgrade pip \
    && /opt/venv/bin/pip install -c constraints.txt .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false
RUN useradd --create-home --uid 10001 bcmirakl
COPY --from=build /opt/venv /opt/venv
WORKDIR /opt/prefect
# The deployments' entrypoints are file paths (flows/<stream>.py:<flow>), loaded from the working directory.
COPY --chown=bcmirakl pyproject.toml prefect.yaml ./
COPY --chown=bcmirakl bcmirakl bcmirakl
COPY --chown=bcmirakl bridge bridge
COPY --chown=bcmirakl common common
COPY --chown=bcmirakl connectors connectors
COPY --chown=bcmirakl tasks tasks
COPY --chown=bcmirakl flows flows
COPY --chown=bcmirakl expectations expectations
COPY --chown=bcmirakl deployments deployments
# Exports and artifacts default to ./.bcmirakl; mount a volume there (or set BCMIRAKL_ARTIFACTS_DIR) to keep them.
# `bcmirakl --help` fails the build if an import is broken.
RUN mkdir -p /opt/prefect/.bcmirakl && chown bcmirakl /opt/prefect /opt/prefect/.bcmirakl && bcmirakl --help > /dev/null
USER bcmirakl
CMD ["bcmirakl", "--help"]
