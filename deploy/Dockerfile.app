# The application image: the web app (`python -m bot serve`) and the action server
# (`python -m bot actions`) run from it with different commands.
# Build from the repository root:  docker build -f deploy/Dockerfile.app -t clinic-app .
FROM python:3.13-slim

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/data \
    CONTENT_DIR=/content

WORKDIR /app
COPY pyproject.toml ./
COPY bot/ bot/
COPY actions/ actions/
# Editable: the app runs from /app, where its templates, static files and migrations are.
RUN pip install -e .

RUN useradd --system --home-dir /app clinic && mkdir -p /data && chown clinic /data
USER clinic
EXPOSE 8080 5055
CMD ["python", "-m", "bot", "serve"]
