"""What the interop peers share: arguments, channels, the lifeline, reporting.

Each peer is a program run by the Swift tests (Tests/RPCTests/Interop*.swift)
with the Python of scripts/venv. It talks over stdout one line at a time:
"ok <what>" for each check passed, and the lines the test waits for (READY,
WATCHING). A failed check prints "FAIL: <why>" to stderr and exits 1.
"""

import argparse
import os
import sys
import threading

import grpc

# Far beyond what any call here needs, so a peer never outlives a stuck test.
CALL_TIMEOUT_SECONDS = 20


class CheckFailed(Exception):
    """A check did not hold; the message says what was expected and what came."""


def say(line):
    """Prints one protocol line and flushes it, so the test sees it now."""
    print(line, flush=True)


def ok(what):
    say(f"ok {what}")


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def start_lifeline():
    """Exits when stdin reaches end of file: the test closed it, or the test
    process is gone (then nothing else would stop this one)."""

    def watch():
        # The raw descriptor, not sys.stdin: a daemon thread blocked in a
        # buffered read holds its lock, which fails the interpreter's shutdown.
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(2)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()


def add_client_arguments(parser):
    parser.add_argument("--target", required=True, help="host:port of the server")
    parser.add_argument("--tls-ca", metavar="PEM", help="TLS, trusting the roots in PEM (h2c without it)")
    parser.add_argument("--server-name", help="the name the server's certificate must carry (TLS)")
    parser.add_argument("--lifeline", action="store_true", help="exit when stdin closes")


def open_channel(args):
    """An h2c channel, or a TLS one when --tls-ca is given."""
    if args.tls_ca is None:
        return grpc.insecure_channel(args.target)
    with open(args.tls_ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    options = []
    if args.server_name:
        options.append(("grpc.ssl_target_name_override", args.server_name))
    return grpc.secure_channel(args.target, credentials, options=options)


def run(main):
    """Runs main(), turning a failed check or an unexpected RPC error into
    "FAIL: ..." on stderr and exit status 1."""
    try:
        main()
    except CheckFailed as error:
        print(f"FAIL: {error}", file=sys.stderr, flush=True)
        sys.exit(1)
    except grpc.RpcError as error:
        code = error.code() if hasattr(error, "code") else None
        details = error.details() if hasattr(error, "details") else None
        print(f"FAIL: unexpected RPC error {code}: {details}", file=sys.stderr, flush=True)
        sys.exit(1)
    say("PASS")
    sys.exit(0)


def parser(description):
    return argparse.ArgumentParser(description=description)
