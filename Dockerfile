# Production image: gunicorn serving tangshan_portal.wsgi on 0.0.0.0:8000 as a non-root user.
# The same image runs the Celery worker and beat (see docker-compose.yml).
FROM python:3.11-slim-bookworm

# The commit the image is built from, for the manifest of bin/backup (the build context has no .git):
#   docker compose build --build-arg PORTAL_COMMIT=$(git rev-parse HEAD)
ARG PORTAL_COMMIT=unknown

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    DJANGO_DEBUG=0 \
    DJANGO_MEDIA_ROOT=/data/media \
    PORTAL_BACKUP_DIR=/data/backups \
    PORTAL_COMMIT=${PORTAL_COMMIT}

# gettext: compilemessages; fonts-noto-cjk + libharfbuzz-subset0: Chinese text in rendered PDF documents;
# libpango-1.0-0 + libpangoft2-1.0-0: WeasyPrint's text layout (official documents as PDF);
# postgresql-client: pg_dump and pg_restore of bin/backup and bin/restore (version 15, as the postgres service).
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext fonts-noto-cjk libharfbuzz-subset0 \
       libpango-1.0-0 libpangoft2-1.0-0 postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --uid 10001 --user-group portal

WORKDIR /app
COPY requirements.txt ./
RUN pip install -r requirements.txt

COPY . .

# Build-time only: a throw-away key and host so that settings load with DEBUG off; the real values come from
# the environment at run time (the settings refuse to start without them).
RUN DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    CELERY_FILESYSTEM_DIR=/tmp/celery-build \
    python manage.py compilemessages --verbosity 0 \
    && DJANGO_SECRET_KEY=build-only-not-a-secret-build-only-not-a-secret-build-only \
    DJANGO_ALLOWED_HOSTS=build.invalid \
    CELERY_FILESYSTEM_DIR=/tmp/celery-build \
    python manage.py collectstatic --noinput --verbosity 0 \
    && rm -rf /tmp/celery-build \
    && mkdir -p /data/media /data/backups \
    && chown portal:portal /data/media /data/backups

USER portal
EXPOSE 8000
VOLUME ["/data/media", "/data/backups"]

# gunicorn.conf.py reads GUNICORN_* (workers, threads, timeouts) from the environment.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "tangshan_portal.wsgi"]
