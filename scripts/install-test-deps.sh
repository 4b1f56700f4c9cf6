#!/usr/bin/env bash
# Installs the real S3 clients the test suite drives, the PostgreSQL server the
# metadata-store tests start and SoftHSM2 (the PKCS#11 token of the HSM master-key
# tests) and jq (the README walk-through) (Debian packages), when missing.
# Needs root (or sudo) on Debian/Ubuntu; does nothing if everything is present.
set -euo pipefail
need=()
command -v s3cmd >/dev/null 2>&1 || need+=(s3cmd)
command -v rclone >/dev/null 2>&1 || need+=(rclone)
command -v restic >/dev/null 2>&1 || need+=(restic)
[ -x /usr/bin/aws ] || need+=(awscli)
# initdb/pg_ctl live in the versioned dir; test/helpers/postgres.ts finds them there or on PATH.
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
# The README walk-through test runs the README's shell lines, which read JSON with jq.
command -v jq >/dev/null 2>&1 || need+=(jq)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
echo "test clients: aws $(/usr/bin/aws --version 2>&1 | cut -d' ' -f1), $(s3cmd --version), $(rclone version | head -1), $(restic version | cut -d' ' -f1-2)"
