"""grpcio's health client against a server under test (grpc.health.v1.Health).

    health_client.py --target HOST:PORT [--tls-ca PEM --server-name NAME]
                     --service NAME [--lifeline]

Checks, in order:
  - Check("") is SERVING; Check(NAME) is SERVING;
  - Check of an unknown service fails with NOT_FOUND;
  - Watch of an unknown service sends SERVICE_UNKNOWN and keeps the stream open;
  - Watch(NAME) sends SERVING; then this prints "WATCHING NAME" and waits for
    the server's side to set NAME to NOT_SERVING, which the stream must send;
  - Check(NAME) is then NOT_SERVING.
"""

import queue
import threading

import grpc
from grpc_health.v1 import health_pb2
from grpc_health.v1 import health_pb2_grpc

import peer

Status = health_pb2.HealthCheckResponse.ServingStatus
UNKNOWN_SERVICE = "no.such.Service"
# How long an open Watch stream must stay quiet to count as open (a negative
# condition: only a timeout can show it).
QUIET_SECONDS = 0.3


def status_name(value):
    return Status.Name(value)


class StreamReader:
    """Reads a server stream on a thread of its own, so the reader can wait
    for the next message with a timeout."""

    _END = object()

    def __init__(self, call):
        self.call = call
        self._items = queue.Queue()
        threading.Thread(target=self._pump, name="stream-reader", daemon=True).start()

    def _pump(self):
        try:
            for message in self.call:
                self._items.put(message)
            self._items.put(self._END)
        except grpc.RpcError as error:
            self._items.put(error)

    def next(self, timeout):
        """The next message; None when the stream ended with OK; raises the
        RPC error that ended it, or queue.Empty after `timeout` seconds."""
        item = self._items.get(timeout=timeout)
        if item is self._END:
            return None
        if isinstance(item, grpc.RpcError):
            raise item
        return item


def check(stub, service, expected):
    response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=peer.CALL_TIMEOUT_SECONDS)
    peer.expect(response.status == expected,
                f'Check("{service}") answered {status_name(response.status)}, expected {status_name(expected)}')
    peer.ok(f'Check("{service}") {status_name(expected)}')


def check_unknown(stub):
    try:
        response = stub.Check(health_pb2.HealthCheckRequest(service=UNKNOWN_SERVICE), timeout=peer.CALL_TIMEOUT_SECONDS)
    except grpc.RpcError as error:
        peer.expect(error.code() == grpc.StatusCode.NOT_FOUND,
                    f'Check("{UNKNOWN_SERVICE}") failed with {error.code()} ({error.details()}), expected NOT_FOUND')
        peer.ok(f'Check("{UNKNOWN_SERVICE}") NOT_FOUND')
        return
    raise peer.CheckFailed(f'Check("{UNKNOWN_SERVICE}") answered {status_name(response.status)}, expected NOT_FOUND')


def watch_unknown(stub):
    call = stub.Watch(health_pb2.HealthCheckRequest(service=UNKNOWN_SERVICE), timeout=peer.CALL_TIMEOUT_SECONDS)
    reader = StreamReader(call)
    try:
        first = reader.next(timeout=peer.CALL_TIMEOUT_SECONDS)
        peer.expect(first is not None, f'Watch("{UNKNOWN_SERVICE}") ended without a message')
        peer.expect(first.status == Status.Value("SERVICE_UNKNOWN"),
                    f'Watch("{UNKNOWN_SERVICE}") sent {status_name(first.status)}, expected SERVICE_UNKNOWN')
        try:
            more = reader.next(timeout=QUIET_SECONDS)
        except queue.Empty:
            more = "open"
        except grpc.RpcError as error:
            raise peer.CheckFailed(f'Watch("{UNKNOWN_SERVICE}") ended with {error.code()} ({error.details()}), expected it to stay open')
        peer.expect(more == "open", f'Watch("{UNKNOWN_SERVICE}") sent {more!r} after SERVICE_UNKNOWN, expected it to stay open and quiet')
        peer.ok(f'Watch("{UNKNOWN_SERVICE}") SERVICE_UNKNOWN, stream open')
    finally:
        call.cancel()


def watch_change(stub, service):
    call = stub.Watch(health_pb2.HealthCheckRequest(service=service), timeout=peer.CALL_TIMEOUT_SECONDS)
    reader = StreamReader(call)
    try:
        first = reader.next(timeout=peer.CALL_TIMEOUT_SECONDS)
        peer.expect(first is not None, f'Watch("{service}") ended without a message')
        peer.expect(first.status == Status.Value("SERVING"),
                    f'Watch("{service}") sent {status_name(first.status)} first, expected SERVING')
        # The test sets the status to NOT_SERVING when it reads this line.
        peer.say(f"WATCHING {service}")
        try:
            second = reader.next(timeout=peer.CALL_TIMEOUT_SECONDS)
        except queue.Empty:
            raise peer.CheckFailed(f'Watch("{service}") sent nothing after SERVING within {peer.CALL_TIMEOUT_SECONDS} s, expected NOT_SERVING')
        peer.expect(second is not None, f'Watch("{service}") ended after SERVING, expected NOT_SERVING')
        peer.expect(second.status == Status.Value("NOT_SERVING"),
                    f'Watch("{service}") sent {status_name(second.status)} after SERVING, expected NOT_SERVING')
        peer.ok(f'Watch("{service}") SERVING then NOT_SERVING')
    finally:
        call.cancel()


def main():
    parser = peer.parser(__doc__.splitlines()[0])
    peer.add_client_arguments(parser)
    parser.add_argument("--service", required=True, help="a service the server knows, SERVING at the start")
    args = parser.parse_args()
    if args.lifeline:
        peer.start_lifeline()

    def checks():
        with peer.open_channel(args) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            check(stub, "", Status.Value("SERVING"))
            check(stub, args.service, Status.Value("SERVING"))
            check_unknown(stub)
            watch_unknown(stub)
            watch_change(stub, args.service)
            check(stub, args.service, Status.Value("NOT_SERVING"))

    peer.run(checks)


if __name__ == "__main__":
    main()
