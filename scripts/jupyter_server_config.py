"""JupyterLab settings for `npm start` (scripts/start.sh): the demo notebooks in binder/,
our prebuilt extension, and no fixed port."""

import os
from pathlib import Path

repo_root = Path(__file__).resolve().parent.parent

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

c.ServerApp.root_dir = str(repo_root / "binder")
c.ServerApp.ip = "127.0.0.1"
c.ServerApp.port = 0  # a free port, chosen at start; Jupyter prints the URL
c.ServerApp.open_browser = False
c.ServerApp.allow_root = os.geteuid() == 0
c.LabServerApp.extra_labextensions_path = [str(repo_root / "extension" / "labextension")]
