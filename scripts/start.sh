#!/usr/bin/env bash
# `npm start`: installs whatever is missing, then starts JupyterLab with the Pilot-Streaming
# extension and kernel on the demo notebooks in binder/.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
setup_project

echo "==> starting JupyterLab on binder/ (Ctrl-C stops it; pilots keep running until cancelled)"
exec "$VENV/bin/jupyter" lab --config="$REPO_ROOT/scripts/jupyter_server_config.py"
