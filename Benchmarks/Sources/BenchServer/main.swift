// BenchServer: a `GRPCServer` serving `grpc.health.v1.Health` (`HealthService`,
// SERVING for the whole server), the server side of scripts/bench-rpc.
//
//   BenchServer [--listen HOST:PORT] [--loops N]
//
// Listens on HOST:PORT (default 127.0.0.1:50099; port 0 picks a free one) with
// N event loops (default 1), prints `READY <port>` on standard output once it
// accepts connections, and on SIGTERM or SIGINT shuts down gracefully (calls in
// flight finish; health turns NOT_SERVING first) and exits 0.
import RPC

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Writes `text` and a newline to file descriptor `fd`, unbuffered, so that a
/// script reading a pipe sees it at once.
func writeLine(_ text: String, to fd: Int32) {
    var line = text + "\n"
    line.withUTF8 { _ = write(fd, $0.baseAddress, $0.count) }
}

/// Writes `message` to standard error and exits with `status`.
func fail(_ message: String, status: Int32 = 1) -> Never {
    writeLine("BenchServer: " + message, to: 2)
    exit(status)
}

let usage = "usage: BenchServer [--listen HOST:PORT] [--loops N]"
var listen = "127.0.0.1:50099"
var loops = 1
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    switch flag {
    case "--listen":
        guard let value = arguments.popFirst() else { fail(usage, status: 2) }
        listen = value
    case "--loops":
        guard let value = arguments.popFirst().flatMap({ Int($0) }), value > 0 else { fail(usage, status: 2) }
        loops = value
    case "-h", "--help":
        writeLine(usage, to: 1)
        exit(0)
    default:
        fail(usage, status: 2)
    }
}

// Before the server starts, so that a signal sent as soon as READY is read is
// not lost.
let signals = SignalWatcher(signals: [SIGTERM, SIGINT])

let health = HealthService()
let server = GRPCServer(configuration: .init(address: listen, eventLoops: loops), services: [health])
do {
    try server.start()
} catch {
    fail(error.message)
}
writeLine("READY \(server.port)", to: 1)

let received = await signals.next()
writeLine("BenchServer: signal \(received), shutting down", to: 2)
health.enterShutdown()
await server.shutdown(grace: .seconds(5))
