# ACE: one image for the web site (gunicorn) and the Celery worker and beat (see docker-compose.yml).
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ACE_VAR_DIR=/app/var \
    PYTHONPATH=/app

RUN groupadd --system ace && useradd --system --gid ace --home-dir /app --shell /usr/sbin/nologin ace

WORKDIR /app
COPY . /app
# Editable install of the library with the server extra (gunicorn, whitenoise, psycopg); the project's
# templates/ and fixtures/ are found next to config/ (BASE_DIR = /app). config/ and demo/ are not
# installed packages: PYTHONPATH makes them importable from gunicorn and celery.
# collectstatic gets a throw-away SECRET_KEY so that no real secret is generated into the image.
RUN pip install -e '.[server]' \
    && SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && mkdir -p /app/var/outbox \
    && chown -R ace:ace /app/var

USER ace
EXPOSE 8000

# gunicorn takes its worker count from WEB_CONCURRENCY (default 1).
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
