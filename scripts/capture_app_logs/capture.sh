#!/usr/bin/env bash
# Capture the app-log reader cases from real programs: python_app.py under gunicorn (one run per
# logging style), Java logback / logstash-logback-encoder, pino and bunyan, Rails + lograge.
# Writes raw logs to $OUT (default /tmp/app-captures); the committed cases under
# tests/cases/sources/app_{json,text}/ are these files, unchanged.
#
# Needs, outside logtriage's own dependencies:
#   python3 -m venv /tmp/capvenv && /tmp/capvenv/bin/pip install flask gunicorn structlog \
#       python-json-logger ecs-logging
#   apt-get install liblogback-java liblogstash-logback-encoder-java ruby-lograge ruby-rails
#   (cd /tmp/capnode && npm install pino bunyan)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/app-captures}
VENV=${VENV:-/tmp/capvenv}
NODE_DIR=${NODE_DIR:-/tmp/capnode}
PORT=${PORT:-18731}
mkdir -p "$OUT"

requests() {
    local base="http://127.0.0.1:$PORT"
    curl -s -H 'X-Request-ID: 7f3c9a10-2b1e-4c55-9d0a-1a2b3c4d5e6f' "$base/orders/42" >/dev/null
    curl -s "$base/checkout" >/dev/null
    curl -s -H 'X-Request-ID: req-divide-0' "$base/divide/0" >/dev/null
    curl -s "$base/chained" >/dev/null
    curl -s "$base/handled" >/dev/null
    curl -s "$base/orders/7" >/dev/null
}

for style in structlog structlog_dict jsonlogger ecs text_dash text_flask text_default; do
    log="$OUT/python_$style.log"
    rm -f "$log"
    extra=()
    # The text styles share stderr with gunicorn's own lines, as under systemd or docker.
    if [[ $style == text_* || $style == structlog ]]; then
        exec 3>>"$log"
    else
        exec 3>/dev/null
        extra=(--log-level warning)
        export LOG_FILE="$log"
    fi
    LOG_STYLE=$style "$VENV/bin/gunicorn" --chdir "$HERE" -w 1 -b "127.0.0.1:$PORT" \
        --timeout 2 "${extra[@]}" python_app:app 2>&3 &
    pid=$!
    for _ in $(seq 50); do curl -s "http://127.0.0.1:$PORT/orders/1" >/dev/null && break; sleep 0.2; done
    requests
    if [[ $style == text_flask ]]; then
        # A worker that outlives --timeout: gunicorn logs WORKER TIMEOUT and boots another.
        curl -s -m 6 "http://127.0.0.1:$PORT/sleep/4.0" >/dev/null || true
        sleep 1
    fi
    kill -TERM "$pid"
    wait "$pid" || true
    unset LOG_FILE
    exec 3>&-
done

# Java: logback's documented pattern and logstash-logback-encoder's JSON.
CP=/usr/share/java/logback-classic.jar:/usr/share/java/logback-core.jar:/usr/share/java/slf4j-api.jar
CP=$CP:/usr/share/java/logstash-logback-encoder.jar:/usr/share/java/jackson-core.jar
CP=$CP:/usr/share/java/jackson-databind.jar:/usr/share/java/jackson-annotations.jar
build=$(mktemp -d)
javac -d "$build" -cp "$CP" "$HERE/Shop.java"
for conf in logback-text logback-json; do
    java -cp "$build:$CP" -Dlogback.configurationFile="$HERE/$conf.xml" com.example.shop.Shop \
        >"$OUT/java_$conf.log" 2>&1
done
rm -rf "$build"

# Node: pino and bunyan.
NODE_PATH="$NODE_DIR/node_modules" node "$HERE/node_app.js" pino >"$OUT/node_pino.log"
NODE_PATH="$NODE_DIR/node_modules" node "$HERE/node_app.js" bunyan >"$OUT/node_bunyan.log"

# Rails: lograge JSON and the default tagged text log.
if command -v ruby >/dev/null; then
    ruby "$HERE/rails_app.rb" json >"$OUT/rails_lograge.log" 2>/dev/null
    ruby "$HERE/rails_app.rb" text >"$OUT/rails_text.log" 2>/dev/null
fi
ls -l "$OUT"
