"""jupyter-server-proxy's entry for the pilots' dashboards, shared by the Jupyter configurations
(`npm start`, the Galata tests, Binder): `<base>/pilot-dashboards/<pilot id>/` goes, for
authenticated users only, to `pilot-streaming dashboard-proxy` on a Unix socket in a private
directory, started on first use."""

import atexit
import shutil
import tempfile
from pathlib import Path


def server_proxy_servers(repo_root: Path) -> dict:
    node = shutil.which("node") or "node"
    # A directory only this user can enter, removed when the server stops (jupyter-server-proxy
    # would make one too, but leave it behind).
    socket_dir = tempfile.mkdtemp(prefix="pilot-dashboards-")
    atexit.register(shutil.rmtree, socket_dir, ignore_errors=True)
    return {
        "pilot-dashboards": {
            "command": [
                node,
                str(repo_root / "lib" / "dist" / "cli" / "main.js"),
                "dashboard-proxy",
                "--socket",
                "{unix_socket}",
            ],
            "unix_socket": str(Path(socket_dir) / "socket"),
            "timeout": 30,
            # Reached from the pilots panel, not from the launcher.
            "launcher_entry": {"enabled": False},
        }
    }
