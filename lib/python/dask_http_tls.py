"""Dask preload of a pilot's scheduler and workers: their HTTP servers (the dashboard, the JSON,
health and Prometheus routes) take TLS clients with a certificate of the pilot's authority only.

distributed serves HTTP in plain text, or with TLS that asks clients for no certificate, and
every scheduler and worker starts an HTTP server whether or not it shows a dashboard. Imported
as a preload, this module is loaded while the scheduler or worker is constructed, before that
server starts (also in the worker processes a nanny spawns), and makes the server use the same
mutual-TLS context as the node's comms: no window in which it answers without a certificate.
"""

import functools

from distributed.node import ServerNode
from distributed.scheduler import Scheduler

# distributed imports a preload once and then reloads it: wrap the original method, not our own.
_start_http_server = getattr(
    ServerNode.start_http_server, "__wrapped__", ServerNode.start_http_server
)


@functools.wraps(_start_http_server)
def _start_mutual_tls_http_server(
    self, routes, dashboard_address, default_port=0, ssl_options=None
):
    role = "scheduler" if isinstance(self, Scheduler) else "worker"
    context = self.security.get_listen_args(role)["ssl_context"]
    if context is None:
        raise RuntimeError(
            f"the Dask {role} has no TLS certificate and CA (--tls-cert, --tls-ca-file): "
            "a pilot's HTTP server does not start without them"
        )
    return _start_http_server(
        self, routes, dashboard_address, default_port, ssl_options=context
    )


ServerNode.start_http_server = _start_mutual_tls_http_server


def dask_setup(server):
    """Nothing to do once the node starts: the HTTP server was set up when it was made."""
