"""grpcio's server reflection client against a server under test.

    reflection_client.py --target HOST:PORT [--tls-ca PEM --server-name NAME]
                         --expect-service NAME ... [--expect-file SYMBOL=FILE ...]
                         [--expect-fields SERVICE.METHOD=FIELD,FIELD ...] [--lifeline]

grpc.reflection.v1alpha, through grpcio-reflection's own client
(ProtoReflectionDescriptorDatabase feeding a DescriptorPool):
  - the services listed include every --expect-service;
  - each expected service resolves in the pool, with its methods and their
    message types (which makes the pool fetch every file they import);
  - file_containing_symbol(SYMBOL) is FILE, and file_by_filename(FILE)
    declares SYMBOL, for each --expect-file;
  - the input type of SERVICE.METHOD has the fields named, for each --expect-fields;
  - an unknown symbol, an unknown file name: error_response NOT_FOUND.
grpc.reflection.v1 (grpcio-reflection has no v1 client: its stubs are compiled
here from proto/grpc/reflection/v1/reflection.proto with grpcio-tools), on one
stream: the same list, symbols and files, with original_request echoed and
the files each answer imports fetched by name; NOT_FOUND for unknown names.
"""

import importlib
import os
import queue
import shutil
import sys
import tempfile

import grpc
from google.protobuf import descriptor_database
from google.protobuf import descriptor_pb2
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection_pb2 as v1alpha_pb2
from grpc_reflection.v1alpha import reflection_pb2_grpc as v1alpha_pb2_grpc
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

import peer

NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
UNKNOWN_SYMBOL = "no.such.Symbol"
UNKNOWN_FILE = "no/such/file.proto"
REPOSITORY = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def parse_pairs(values, flag):
    pairs = []
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key or not rest:
            raise SystemExit(f"{flag} takes KEY=VALUE, got {value!r}")
        pairs.append((key, rest))
    return pairs


def describe_service(pool, name):
    """Resolves a service and the message types of its methods in the pool."""
    try:
        service = pool.FindServiceByName(name)
    except KeyError as error:
        raise peer.CheckFailed(f"service {name} does not resolve through reflection: {error}")
    peer.expect(len(service.methods) > 0, f"service {name} has no methods")
    for method in service.methods:
        for message in (method.input_type, method.output_type):
            # Touching the fields resolves their types and the files that declare them.
            for field in message.fields:
                _ = field.message_type, field.enum_type
    peer.ok(f"v1alpha describes {name}: {', '.join(m.name for m in service.methods)}")
    return service


# MARK: - v1alpha, through grpcio-reflection's client


def check_v1alpha(channel, args):
    database = ProtoReflectionDescriptorDatabase(channel)
    services = database.get_services()
    missing = [name for name in args.expect_service if name not in services]
    peer.expect(not missing, f"v1alpha list_services lacks {missing}; it lists {services}")
    peer.ok(f"v1alpha list_services: {', '.join(sorted(services))}")

    pool = descriptor_pool.DescriptorPool(database)
    for name in args.expect_service:
        describe_service(pool, name)

    for symbol, file_name in args.expect_file:
        fresh = ProtoReflectionDescriptorDatabase(channel)
        try:
            found = fresh.FindFileContainingSymbol(symbol)
        except KeyError:
            raise peer.CheckFailed(f"v1alpha file_containing_symbol({symbol}) is NOT_FOUND, expected {file_name}")
        peer.expect(found.name == file_name, f"v1alpha file_containing_symbol({symbol}) is {found.name}, expected {file_name}")
        peer.ok(f"v1alpha file_containing_symbol({symbol}) = {file_name}")

        fresh = ProtoReflectionDescriptorDatabase(channel)
        try:
            by_name = fresh.FindFileByName(file_name)
        except KeyError:
            raise peer.CheckFailed(f"v1alpha file_by_filename({file_name}) is NOT_FOUND")
        declared = declared_symbols(by_name)
        peer.expect(symbol in declared, f"v1alpha file_by_filename({file_name}) does not declare {symbol}; it declares {sorted(declared)}")
        peer.ok(f"v1alpha file_by_filename({file_name}) declares {symbol}")

    for method_path, fields in args.expect_fields:
        service_name, _, method_name = method_path.rpartition(".")
        method = pool.FindServiceByName(service_name).methods_by_name.get(method_name)
        peer.expect(method is not None, f"{service_name} has no method {method_name}")
        have = [field.name for field in method.input_type.fields]
        want = fields.split(",")
        missing = [name for name in want if name not in have]
        peer.expect(not missing, f"{method.input_type.full_name} lacks fields {missing}; it has {have}")
        peer.ok(f"v1alpha {method_path} takes {method.input_type.full_name} with {', '.join(have)}")

    # Unknown names: grpcio-reflection's client turns NOT_FOUND into KeyError
    # (and asserts on any other error code).
    for lookup, name in ((database.FindFileContainingSymbol, UNKNOWN_SYMBOL), (database.FindFileByName, UNKNOWN_FILE)):
        try:
            lookup(name)
        except KeyError:
            continue
        raise peer.CheckFailed(f"v1alpha found {name}, which does not exist")
    stub = v1alpha_pb2_grpc.ServerReflectionStub(channel)
    requests = [
        v1alpha_pb2.ServerReflectionRequest(file_containing_symbol=UNKNOWN_SYMBOL),
        v1alpha_pb2.ServerReflectionRequest(file_by_filename=UNKNOWN_FILE),
    ]
    responses = list(stub.ServerReflectionInfo(iter(requests), timeout=peer.CALL_TIMEOUT_SECONDS))
    peer.expect(len(responses) == 2, f"v1alpha answered {len(responses)} responses to 2 requests")
    for request, response in zip(requests, responses):
        check_not_found(response, request, "v1alpha")
    peer.ok("v1alpha unknown symbol and file: NOT_FOUND")


def declared_symbols(file_proto):
    """The fully qualified names of the top-level services, messages and enums of a file."""
    prefix = f"{file_proto.package}." if file_proto.package else ""
    names = set()
    for group in (file_proto.service, file_proto.message_type, file_proto.enum_type):
        names.update(prefix + item.name for item in group)
    return names


def check_not_found(response, request, version):
    kind = response.WhichOneof("message_response")
    asked = request.WhichOneof("message_request")
    peer.expect(kind == "error_response",
                f"{version} {asked}({getattr(request, asked)}) answered {kind}, expected error_response NOT_FOUND")
    peer.expect(response.error_response.error_code == NOT_FOUND,
                f"{version} {asked} error_code {response.error_response.error_code}, expected {NOT_FOUND} (NOT_FOUND)")


# MARK: - v1, with stubs compiled from the proto


def load_v1_stubs():
    """Compiles proto/grpc/reflection/v1/reflection.proto into a temporary
    directory and imports it (as `v1_reflection_pb2`, since a `grpc.…`
    module path would collide with grpcio's own `grpc` package)."""
    from grpc_tools import protoc

    source = os.path.join(REPOSITORY, "proto", "grpc", "reflection", "v1", "reflection.proto")
    work = tempfile.mkdtemp(prefix="reflection-v1-")
    try:
        shutil.copy(source, os.path.join(work, "v1_reflection.proto"))
        status = protoc.main(["protoc", f"-I{work}", f"--python_out={work}", f"--grpc_python_out={work}",
                              os.path.join(work, "v1_reflection.proto")])
        if status != 0:
            raise peer.CheckFailed(f"grpc_tools.protoc could not compile {source} (status {status})")
        sys.path.insert(0, work)
        messages = importlib.import_module("v1_reflection_pb2")
        services = importlib.import_module("v1_reflection_pb2_grpc")
        sys.path.remove(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return messages, services


class V1Session:
    """One ServerReflectionInfo stream: each ask() sends a request and reads its answer."""

    def __init__(self, channel, messages, services):
        self._messages = messages
        self._outbox = queue.Queue()
        self._stub = services.ServerReflectionStub(channel)

        def requests():
            while True:
                request = self._outbox.get()
                if request is None:
                    return
                yield request

        self._call = self._stub.ServerReflectionInfo(requests(), timeout=peer.CALL_TIMEOUT_SECONDS)

    def ask(self, **fields):
        request = self._messages.ServerReflectionRequest(**fields)
        self._outbox.put(request)
        response = next(self._call)
        peer.expect(response.original_request == request,
                    f"v1 original_request is {response.original_request!r}, expected the request {request!r}")
        return request, response

    def finish(self):
        """Half-closes the stream; the server must then end it with OK."""
        self._outbox.put(None)
        rest = list(self._call)
        peer.expect(not rest, f"v1 sent {len(rest)} responses after the requests ended")
        peer.expect(self._call.code() == grpc.StatusCode.OK, f"v1 stream ended with {self._call.code()}, expected OK")

    def files(self, **fields):
        request, response = self.ask(**fields)
        kind = response.WhichOneof("message_response")
        asked = request.WhichOneof("message_request")
        if kind == "error_response":
            raise peer.CheckFailed(f"v1 {asked}({getattr(request, asked)}) failed: "
                                   f"{response.error_response.error_code} {response.error_response.error_message}")
        peer.expect(kind == "file_descriptor_response", f"v1 {asked} answered {kind}, expected file_descriptor_response")
        protos = []
        for serialized in response.file_descriptor_response.file_descriptor_proto:
            proto = descriptor_pb2.FileDescriptorProto()
            proto.ParseFromString(serialized)
            protos.append(proto)
        peer.expect(protos, f"v1 {asked}({getattr(request, asked)}) answered no file")
        return protos


def check_v1(channel, args):
    messages, services = load_v1_stubs()
    session = V1Session(channel, messages, services)

    _, response = session.ask(list_services="")
    kind = response.WhichOneof("message_response")
    peer.expect(kind == "list_services_response", f"v1 list_services answered {kind}")
    listed = [service.name for service in response.list_services_response.service]
    missing = [name for name in args.expect_service if name not in listed]
    peer.expect(not missing, f"v1 list_services lacks {missing}; it lists {listed}")
    peer.ok(f"v1 list_services: {', '.join(sorted(listed))}")

    # A pool fed only by this stream: each answer's imports are fetched by name.
    database = descriptor_database.DescriptorDatabase()
    known = set()

    def add(protos):
        pending = list(protos)
        while pending:
            proto = pending.pop(0)
            if proto.name in known:
                continue
            known.add(proto.name)
            database.Add(proto)
            for dependency in proto.dependency:
                if dependency not in known:
                    pending.extend(session.files(file_by_filename=dependency))

    for symbol, file_name in args.expect_file:
        protos = session.files(file_containing_symbol=symbol)
        peer.expect(protos[0].name == file_name, f"v1 file_containing_symbol({symbol}) is {protos[0].name} first, expected {file_name}")
        add(protos)
        by_name = session.files(file_by_filename=file_name)
        peer.expect(by_name[0].name == file_name, f"v1 file_by_filename({file_name}) is {by_name[0].name} first")
        peer.expect(symbol in declared_symbols(by_name[0]), f"v1 file_by_filename({file_name}) does not declare {symbol}")
        peer.ok(f"v1 file_containing_symbol({symbol}) = file_by_filename({file_name})")

    for name in args.expect_service:
        if not any(name == symbol for symbol, _ in args.expect_file):
            add(session.files(file_containing_symbol=name))
    pool = descriptor_pool.DescriptorPool(database)
    for name in args.expect_service:
        try:
            service = pool.FindServiceByName(name)
        except KeyError as error:
            raise peer.CheckFailed(f"v1: service {name} does not resolve from the files served: {error}")
        for method in service.methods:
            _ = [field.message_type for field in method.input_type.fields]
        peer.ok(f"v1 describes {name}")

    for method_path, fields in args.expect_fields:
        # A method is a symbol too: <package>.<service>.<method>.
        protos = session.files(file_containing_symbol=method_path)
        service_name, _, _ = method_path.rpartition(".")
        peer.expect(service_name in declared_symbols(protos[0]),
                    f"v1 file_containing_symbol({method_path}) is {protos[0].name}, which does not declare {service_name}")
        peer.ok(f"v1 file_containing_symbol({method_path}) = {protos[0].name}")

    for fields in ({"file_containing_symbol": UNKNOWN_SYMBOL}, {"file_by_filename": UNKNOWN_FILE}):
        request, response = session.ask(**fields)
        check_not_found(response, request, "v1")
    # The stream goes on after an error response.
    session.files(file_by_filename=args.expect_file[0][1] if args.expect_file else "grpc/reflection/v1/reflection.proto")
    session.finish()
    peer.ok("v1 unknown symbol and file: NOT_FOUND, stream goes on, ends OK")


def main():
    parser = peer.parser(__doc__.splitlines()[0])
    peer.add_client_arguments(parser)
    parser.add_argument("--expect-service", action="append", default=[], metavar="NAME")
    parser.add_argument("--expect-file", action="append", default=[], metavar="SYMBOL=FILE")
    parser.add_argument("--expect-fields", action="append", default=[], metavar="SERVICE.METHOD=FIELDS")
    args = parser.parse_args()
    args.expect_file = parse_pairs(args.expect_file, "--expect-file")
    args.expect_fields = parse_pairs(args.expect_fields, "--expect-fields")
    if args.lifeline:
        peer.start_lifeline()

    def checks():
        with peer.open_channel(args) as channel:
            check_v1alpha(channel, args)
            check_v1(channel, args)

    peer.run(checks)


if __name__ == "__main__":
    main()
