FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY requirements.txt .
# The production lock only: every package pinned with its hashes (no test tools in the image).
RUN pip install --no-cache-dir --require-hashes -r requirements.txt
COPY . .
RUN DEBUG=0 SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
    && useradd --create-home sopgate && mkdir -p /app/var/media && chown -R sopgate /app/var
USER sopgate
EXPOSE 8000
CMD ["gunicorn", "sopgate.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--timeout", "30"]
