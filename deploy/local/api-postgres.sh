#!/usr/bin/env bash
# Point the platform at PostgreSQL (127.0.0.1:5432) in a database of its own and apply migrations.
set -euo pipefail
cd "$(dirname "$0")/../.."
DB="${SHUYU_DB:-shuyu}"
psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = '$DB'" | grep -q 1 \
  || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE $DB"
export SANDBOX_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:5432/$DB"
.venv/bin/sandbox init
echo "export SANDBOX_DATABASE_URL=$SANDBOX_DATABASE_URL"
