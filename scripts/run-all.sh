#!/usr/bin/env bash
# Runs web, Celery worker and Celery beat together in the foreground; Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PORT=${PORT:-8000}
# Links in alert emails point at this server unless SITE_URL says otherwise.
export SITE_URL=${SITE_URL:-http://127.0.0.1:$PORT}

# A busy port would leave the worker and beat running behind a web server that never started.
case "$PORT" in
  '' | *[!0-9]*) echo "PORT must be a port number; got '$PORT'." >&2; exit 2 ;;
esac
if ! "$VENV/bin/python" - "$PORT" <<'PY'
import socket, sys
with socket.socket() as sock:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn binds: a closing connection is no conflict
    try:
        sock.bind(("127.0.0.1", int(sys.argv[1])))
    except OSError:
        sys.exit(1)
PY
then
  echo "Port $PORT is in use; run \`make run PORT=$((PORT + 1))\`" >&2
  exit 1
fi
mkdir -p var
pids=()
cleanup() {
  trap - INT TERM EXIT
  echo; echo "Stopping SOPGate..."
  kill "${pids[@]}" 2>/dev/null || true
  # Up to 10 s for a clean stop; a Celery worker whose pool children took the terminal's signal too can hang
  # in its shutdown, so whatever is left then is killed (a task it held is delivered again: acks_late).
  for _ in $(seq 20); do
    kill -0 "${pids[@]}" 2>/dev/null || break
    sleep 0.5
  done
  kill -9 "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup INT TERM EXIT

"$VENV/bin/python" manage.py collectstatic --noinput -v0
"$VENV/bin/gunicorn" sopgate.wsgi:application --bind "127.0.0.1:$PORT" --workers 2 --access-logfile - &
pids+=($!)
"$VENV/bin/celery" -A sopgate worker --loglevel INFO --concurrency 2 --hostname "worker@%h" &
pids+=($!)
"$VENV/bin/celery" -A sopgate beat --loglevel INFO --schedule var/celerybeat-schedule &
pids+=($!)

sleep 2
cat <<MSG

  SOPGate is running (web, worker, beat). Ctrl-C stops all three.
    Dashboard:  http://127.0.0.1:$PORT/
    Admin:      http://127.0.0.1:$PORT/admin/
    API docs:   http://127.0.0.1:$PORT/api/docs/
    Health:     http://127.0.0.1:$PORT/health/
  Logins are printed above by seed_demo (engineer / sopgate-demo).

MSG
wait -n "${pids[@]}"
