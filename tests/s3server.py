"""An S3 server over real HTTP for the tests: moto's server in a thread on a free port.

No MinIO binary can be installed on the development and CI machines, so the S3 backend is
tested against moto's server with the same minio SDK client production uses.
"""

from __future__ import annotations

import logging

from moto.server import ThreadedMotoServer

#: Credentials and region the tests use with :func:`start_moto_server` (moto accepts any).
ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"


def start_moto_server() -> tuple[ThreadedMotoServer, str]:
    """Start moto on 127.0.0.1 with a port chosen by the OS; returns (server, "127.0.0.1:PORT").

    Call ``server.stop()`` when done. Port 0 lets the OS pick the port at bind time, so there
    is no window in which another process could take it.
    """
    # werkzeug logs every request at INFO; keep test output readable.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"{host}:{port}"
