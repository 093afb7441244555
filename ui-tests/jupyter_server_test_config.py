"""Jupyter server for the Galata tests: Galata's test settings (no token, exposed app),
root allowed, and our prebuilt extension next to Galata's helper extension."""

import atexit
import os
import shutil
import tempfile
import sys
from pathlib import Path

import jupyterlab.galata
from jupyterlab.galata import configure_jupyter_server

repo_root = Path(__file__).resolve().parent.parent

c = get_config()  # noqa: F821 (provided by Jupyter when it loads this file)

# One temporary folder per server, removed when it stops: Galata's helper, the server and the
# kernels put their temporary files (workspaces, the notebooks' root) in it.
run_dir = tempfile.mkdtemp(prefix="pilot-streaming-ui-")
atexit.register(shutil.rmtree, run_dir, ignore_errors=True)
tempfile.tempdir = run_dir
os.environ["TMPDIR"] = run_dir
root_dir = Path(run_dir) / "notebooks"
root_dir.mkdir()
os.environ["JUPYTERLAB_GALATA_ROOT_DIR"] = str(root_dir)

configure_jupyter_server(c)

c.ServerApp.allow_root = True
c.ServerApp.ip = "127.0.0.1"
c.LabServerApp.extra_labextensions_path = [
    str(Path(jupyterlab.galata.__file__).parent),
    str(repo_root / "extension" / "labextension"),
]

# The pilots' dashboards at <base>/pilot-dashboards/<pilot id>/ (see scripts/pilot_dashboards.py).
sys.path.insert(0, str(repo_root / "scripts"))
from pilot_dashboards import server_proxy_servers  # noqa: E402

c.ServerProxy.servers = server_proxy_servers(repo_root)
