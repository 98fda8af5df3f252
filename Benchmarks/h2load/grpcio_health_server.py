"""grpc.health.v1.Health served by grpcio (the gRPC C-core), the reference
side of scripts/bench-rpc.

    python grpcio_health_server.py [--listen HOST:PORT] [--workers N]

Serves grpc_health.v1.health.HealthServicer, which answers SERVING for the
whole server (service ""), on a synchronous grpc.server with a thread pool of
N handler threads (default 4). Prints `READY <port>` once listening (port 0
picks a free one); SIGTERM or SIGINT stops it with a short grace period.
"""

import argparse
import signal
import sys
import threading
from concurrent import futures

import grpc
from grpc_health.v1 import health, health_pb2_grpc


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="127.0.0.1:50098")
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=args.workers))
    health_pb2_grpc.add_HealthServicer_to_server(health.HealthServicer(), server)
    port = server.add_insecure_port(args.listen)
    if port == 0:
        print(f"grpcio_health_server: cannot listen on {args.listen}", file=sys.stderr)
        return 1

    stop = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stop.set())

    server.start()
    print(f"READY {port}", flush=True)
    stop.wait()
    server.stop(grace=2).wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
