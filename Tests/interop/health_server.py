"""grpcio's standard health server (grpc_health.v1.health.HealthServicer).

    health_server.py [--port PORT] [--tls CERT KEY] [--service NAME ...] [--lifeline]

Serves on 127.0.0.1:PORT (0, the default, lets the system choose), h2c or,
with --tls, TLS with the PEM certificate chain CERT and key KEY. The server
("") and each NAME are SERVING. Prints "READY <port>" once listening, then
serves until stopped (SIGTERM, SIGINT, or with --lifeline stdin closing).
Each call is logged to stdout as it arrives ("call Check <service>"), so a
failing test's transcript shows what the server was asked.
"""

import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health
from grpc_health.v1 import health_pb2
from grpc_health.v1 import health_pb2_grpc

import peer


class LoggingHealthServicer(health.HealthServicer):
    """The standard servicer, saying what each call asked for."""

    def Check(self, request, context):
        peer.say(f"call Check {request.service!r}")
        return super().Check(request, context)

    def Watch(self, request, context, *args, **kwargs):
        peer.say(f"call Watch {request.service!r}")
        return super().Watch(request, context, *args, **kwargs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="the port to listen on; 0 lets the system choose")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve TLS with this PEM chain and key")
    parser.add_argument("--service", action="append", default=[], help="a service to report SERVING")
    parser.add_argument("--lifeline", action="store_true", help="exit when stdin closes")
    args = parser.parse_args()
    if args.lifeline:
        peer.start_lifeline()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    servicer = LoggingHealthServicer()
    for service in [""] + args.service:
        servicer.set(service, health_pb2.HealthCheckResponse.SERVING)
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)

    address = f"127.0.0.1:{args.port}"
    if args.tls:
        cert, key = args.tls
        with open(cert, "rb") as f:
            chain = f.read()
        with open(key, "rb") as f:
            private_key = f.read()
        port = server.add_secure_port(address, grpc.ssl_server_credentials([(private_key, chain)]))
    else:
        port = server.add_insecure_port(address)
    if port == 0:
        print(f"FAIL: cannot listen on {address}", file=sys.stderr, flush=True)
        sys.exit(1)
    server.start()

    stopped = threading.Event()

    def stop(signum, frame):
        stopped.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    peer.say(f"READY {port}")
    # Event.wait with a timeout in a loop keeps the main thread responsive to signals.
    while not stopped.wait(1):
        pass
    server.stop(grace=None)


if __name__ == "__main__":
    main()
