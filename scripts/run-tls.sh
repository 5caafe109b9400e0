#!/usr/bin/env bash
# run-tls.sh — HTTPS for Vectron: nginx terminates TLS in front of vectron-api
# (Debian 12's civetweb cannot do HTTPS with OpenSSL 3). Runs nginx in the
# foreground with deploy/nginx/vectron.conf rendered into a private run
# directory (removed on exit); Ctrl-C or SIGTERM stops it.
#
#   scripts/run-tls.sh                    proxy only (the gateway runs already)
#   scripts/run-tls.sh --with-services    also start the services (scripts/run-local.sh)
#   scripts/run-tls.sh --render-only DIR  write vectron.conf for a system nginx and exit
#   scripts/run-tls.sh --insecure         expose a gateway that has no API keys
#
# Environment (defaults in brackets):
#   VECTRON_TLS_LISTEN        [8443]  nginx "listen" value: port or addr:port
#                             (--render-only: [443])
#   VECTRON_TLS_CERT, VECTRON_TLS_KEY  PEM files; when both are unset a
#                             self-signed pair for localhost is made once in
#                             $VECTRON_TLS_DIR [$VECTRON_DATA_DIR/tls, ./data/tls]
#   VECTRON_TLS_SERVER_NAME   [_]
#   VECTRON_UPSTREAM          [127.0.0.1:$VECTRON_PORT, port 3000]
#   VECTRON_MAX_BODY_BYTES    [33554432] must equal the gateway's body limit
#
# Safety: when nginx would listen on a non-loopback address, the gateway is
# asked GET /collections without a key first; unless it answers 401 (keys
# required) this script refuses to expose it, unless --insecure is given.
set -u
cd "$(dirname "$0")/.."
ROOT=$PWD

with_services=0; render_dir=""; insecure=0
while [ $# -gt 0 ]; do
  case "$1" in
    --with-services) with_services=1 ;;
    --render-only) render_dir=${2:?--render-only needs a directory}; shift ;;
    --insecure) insecure=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "run-tls: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

die() { echo "run-tls: $*" >&2; exit 1; }

if [ -n "$render_dir" ]; then
  listen=${VECTRON_TLS_LISTEN:-443}
else
  listen=${VECTRON_TLS_LISTEN:-8443}
fi
server_name=${VECTRON_TLS_SERVER_NAME:-_}
upstream=${VECTRON_UPSTREAM:-127.0.0.1:${VECTRON_PORT:-3000}}
max_body=${VECTRON_MAX_BODY_BYTES:-33554432}
case "$max_body" in ''|*[!0-9]*) die "VECTRON_MAX_BODY_BYTES must be a number of bytes, not '$max_body'" ;; esac
case "$listen" in *[!0-9A-Za-z.:\[\]_-]*) die "VECTRON_TLS_LISTEN '$listen' is not an address:port" ;; esac
case "$upstream" in *[!0-9A-Za-z.:\[\]_-]*) die "VECTRON_UPSTREAM '$upstream' is not a host:port" ;; esac
case "$server_name" in *[!0-9A-Za-z._*\ -]*) die "VECTRON_TLS_SERVER_NAME '$server_name' has characters nginx would misread" ;; esac

# ---- certificate ---------------------------------------------------------
cert=${VECTRON_TLS_CERT:-}; key=${VECTRON_TLS_KEY:-}
if [ -n "$render_dir" ]; then
  # For a system nginx: the operator's files (need not exist yet).
  cert=${cert:-/etc/vectron/tls/server.crt}; key=${key:-/etc/vectron/tls/server.key}
elif [ -z "$cert" ] && [ -z "$key" ]; then
  tls_dir=${VECTRON_TLS_DIR:-${VECTRON_DATA_DIR:-./data}/tls}
  cert=$tls_dir/server.crt; key=$tls_dir/server.key
  if [ ! -s "$cert" ] || [ ! -s "$key" ]; then
    command -v openssl >/dev/null || die "openssl is needed to make a self-signed certificate (apt-get install openssl)"
    mkdir -p "$tls_dir" && chmod 700 "$tls_dir" || die "cannot create $tls_dir"
    echo "run-tls: making a self-signed certificate for localhost in $tls_dir (browsers will warn; use a real one in production)" >&2
    ( umask 077
      openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
        -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" \
        -keyout "$key" -out "$cert" 2>/dev/null ) || die "openssl could not make a certificate"
  fi
elif [ -z "$cert" ] || [ -z "$key" ]; then
  die "set both VECTRON_TLS_CERT and VECTRON_TLS_KEY (or neither, for a self-signed pair)"
fi
if [ -z "$render_dir" ]; then
  [ -r "$cert" ] || die "certificate $cert is not readable"
  [ -r "$key" ] || die "private key $key is not readable"
  cert=$(realpath "$cert"); key=$(realpath "$key")
fi

render() { # render SRC DST RUN_DIR USER_LINE
  sed -e "s|@LISTEN@|$listen|g" -e "s|@SERVER_NAME@|$server_name|g" \
      -e "s|@CERT@|$cert|g" -e "s|@KEY@|$key|g" -e "s|@UPSTREAM@|$upstream|g" \
      -e "s|@MAX_BODY@|$max_body|g" -e "s|@MAX_BODY_TEXT@|$max_body|g" \
      -e "s|@RUN_DIR@|$3|g" -e "s|@USER_LINE@|$4|g" "$1" > "$2"
  if grep -v '^[[:space:]]*#' "$2" | grep -q '@[A-Z_]*@'; then die "unrendered placeholder left in $2"; fi
}

if [ -n "$render_dir" ]; then
  mkdir -p "$render_dir" || die "cannot create $render_dir"
  render deploy/nginx/vectron.conf "$render_dir/vectron.conf" "" ""
  echo "run-tls: wrote $render_dir/vectron.conf (listen $listen, upstream $upstream, body limit $max_body)"
  echo "run-tls: for a system nginx: copy it to /etc/nginx/conf.d/, then: nginx -t && systemctl reload nginx"
  exit 0
fi

command -v nginx >/dev/null || die "nginx is not installed (apt-get install nginx-light)"

# ---- run directory -------------------------------------------------------
run=$(mktemp -d /tmp/vectron-tls.XXXXXX) || die "mktemp failed"
services_pid=""; nginx_pid=""
cleanup() {
  trap - INT TERM EXIT
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  [ -n "$services_pid" ] && kill -TERM "$services_pid" 2>/dev/null && wait "$services_pid" 2>/dev/null
  if [ -s "$run/error.log" ]; then echo "run-tls: nginx error log:" >&2; tail -n 20 "$run/error.log" >&2; fi
  rm -rf "$run"
}
trap 'cleanup; exit 0' INT TERM
trap cleanup EXIT

user_line=""
if [ "$(id -u)" = 0 ]; then
  # Workers drop root; they need to reach the temp directories.
  worker_user=www-data; id "$worker_user" >/dev/null 2>&1 || worker_user=nobody
  user_line="user $worker_user;"
  chmod 711 "$run"
fi
mkdir -p "$run/tmp"
render deploy/nginx/vectron.conf "$run/vectron.conf" "$run" "$user_line"
render deploy/nginx/nginx-standalone.conf "$run/nginx.conf" "$run" "$user_line"
[ -n "$user_line" ] && chown "$worker_user" "$run/tmp"

# ---- services ------------------------------------------------------------
if [ "$with_services" = 1 ]; then
  scripts/run-local.sh & services_pid=$!
fi

# ---- is it safe to expose? -------------------------------------------------
listen_host=${listen%:*}; [ "$listen_host" = "$listen" ] && listen_host="*"
case "$listen_host" in 127.*|localhost|\[::1\]) loopback=1 ;; *) loopback=0 ;; esac
probe() { # prints the HTTP status of GET $1 on the upstream, or nothing
  local host=${upstream%:*} port=${upstream##*:} line
  exec 3<>"/dev/tcp/$host/$port" 2>/dev/null || return 0
  printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$1" "$upstream" >&3
  IFS=' ' read -r -t 5 _ line _ <&3 || true
  exec 3<&- 3>&-
  echo "$line"
}
if [ "$loopback" = 0 ] && [ "$insecure" = 0 ]; then
  status=""
  for _ in $(seq 1 150); do   # up to 30 s for the gateway to come up
    status=$(probe /health)
    [ -n "$status" ] && break
    sleep 0.2
  done
  [ -n "$status" ] || die "cannot reach vectron-api at $upstream to check that it requires API keys; start it first, or pass --insecure"
  # Fail closed: only a 401 proves that keys are required (a 503 from a
  # gateway with auth off and its store down must not pass).
  status=$(probe /collections)
  if [ "$status" != 401 ]; then
    die "vectron-api at $upstream answers without an API key (GET /collections: ${status:-no answer}, want 401); exposing it on $listen would open every collection to anyone. Set VECTRON_API_KEYS or VECTRON_API_KEYS_FILE for the gateway (docs/SECURITY.md), listen on 127.0.0.1, or pass --insecure"
  fi
fi

# ---- nginx -----------------------------------------------------------------
nginx -t -q -p "$run" -c "$run/nginx.conf" -g 'daemon off;' 2>&1 | grep -v '^$' >&2
[ "${PIPESTATUS[0]}" = 0 ] || die "nginx rejected the rendered configuration (in $run)"
nginx -p "$run" -c "$run/nginx.conf" -g 'daemon off;' & nginx_pid=$!
echo "run-tls: HTTPS on $listen -> http://$upstream (cert $cert); Ctrl-C stops" >&2
if [ -n "$services_pid" ]; then
  wait -n "$nginx_pid" "$services_pid"
else
  wait "$nginx_pid"
fi
rc=$?
echo "run-tls: nginx or a service exited (status $rc); stopping" >&2
exit "$rc"
