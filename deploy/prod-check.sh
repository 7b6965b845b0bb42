#!/usr/bin/env bash
# `make prod-check`: the production settings pass Django's deploy checks, and
# deploy/nginx.conf passes `nginx -t`.
#
#   deploy/prod-check.sh [ENV_FILE]     (default: deploy/production.env.example)
#
# Django sees only the variables of ENV_FILE (nothing of the calling shell, such
# as DJANGO_DEBUG=1, leaks in). The shipped example leaves DJANGO_SECRET_KEY empty
# and is checked with a throwaway key; any other file must carry its own.
set -euo pipefail
cd "$(dirname "$0")/.."

example=deploy/production.env.example
env_file="${1:-$example}"
python="${PYTHON:-.venv/bin/python}"
nginx_conf="${NGINX_CONF:-deploy/nginx.conf}"

if [ ! -f "$env_file" ]; then
  echo "prod-check: no environment file $env_file" >&2
  exit 2
fi

throwaway=""
if [ "$env_file" = "$example" ]; then
  throwaway="$("$python" -c 'import secrets; print(secrets.token_urlsafe(50))')"
fi

echo "prod-check: manage.py check --deploy --fail-level WARNING with $env_file"
env -i PATH="$PATH" HOME="${HOME:-/tmp}" LANG=C.UTF-8 THROWAWAY="$throwaway" ENV_FILE="$env_file" PYTHON="$python" \
  bash -c '
    set -euo pipefail
    set -a
    . "$ENV_FILE"
    set +a
    if [ -n "$THROWAWAY" ] && [ -z "${DJANGO_SECRET_KEY:-}" ]; then
      echo "prod-check: DJANGO_SECRET_KEY is empty in the example; using a throwaway key"
      export DJANGO_SECRET_KEY="$THROWAWAY"
    fi
    unset THROWAWAY ENV_FILE
    export DJANGO_SETTINGS_MODULE=helpdesk.settings
    exec "$PYTHON" manage.py check --deploy --fail-level WARNING
  '

if ! command -v nginx >/dev/null 2>&1; then
  echo "prod-check: nginx is not installed, so $nginx_conf was NOT checked (apt-get install nginx-light)"
  exit 0
fi

echo "prod-check: nginx -t on $nginx_conf"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# The site file goes inside nginx's http block; give it one, and a throwaway
# certificate in place of the real ones, which only exist on the server.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj "/CN=desk.example.com" \
  -keyout "$tmp/key.pem" -out "$tmp/cert.pem" >/dev/null 2>&1
sed -E \
  -e "s#^([[:space:]]*ssl_certificate_key)[[:space:]]+[^;]+;#\\1 $tmp/key.pem;#" \
  -e "s#^([[:space:]]*ssl_certificate)[[:space:]]+[^;]+;#\\1 $tmp/cert.pem;#" \
  "$nginx_conf" >"$tmp/site.conf"
cat >"$tmp/nginx.conf" <<EOF
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/site.conf;
}
EOF
nginx -t -p "$tmp" -c "$tmp/nginx.conf"
echo "prod-check: all good"
