"""JupyterLab settings for `npm start` (scripts/start.sh): the demo notebooks in binder/,
our prebuilt extension, and no fixed port."""

import os
import sys
from pathlib import Path

repo_root = Path(__file__).resolve().parent.parent

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

c.ServerApp.root_dir = str(repo_root / "binder")
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = 0  # a free port, chosen at start; Jupyter prints the URL
c.ServerApp.open_browser = False
c.ServerApp.allow_root = os.geteuid() == 0
c.LabServerApp.extra_labextensions_path = [str(repo_root / "extension" / "labextension")]

# The pilots' dashboards at <base>/pilot-dashboards/<pilot id>/ (see scripts/pilot_dashboards.py).
sys.path.insert(0, str(repo_root / "scripts"))
from pilot_dashboards import server_proxy_servers  # noqa: E402

c.ServerProxy.servers = server_proxy_servers(repo_root)
