import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// One HTTP/1.1 exchange on a new connection: sends `request` as it is,
/// returns everything the server sent until it closed (nil when no
/// connection could be made). Reads time out after 10 s.
func httpExchange(port: Int, _ request: String) -> String? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    var timeout = timeval(tv_sec: 10, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = UInt16(port).bigEndian
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard connected == 0 else { return nil }
    let bytes = Array(request.utf8)
    guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return nil }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while true {
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count <= 0 { break }
        received += buffer[0..<count]
    }
    return String(decoding: received, as: UTF8.self)
}

/// `timerd serve --metrics-listen`: Prometheus' text format over HTTP/1.1
/// beside gRPC, counting the calls served.
@Suite("timerd metrics endpoint", .timeLimit(.minutes(2)))
struct MetricsEndpointTests {
    @Test func servesTheCallCountsAndRefusesWhatIsNotAScrape() async throws {
        try await Timerd.withSchema { timerd, _ in
            let (stream, continuation) = AsyncStream.makeStream(of: Int32.self)
            let (process, stdoutURL, stderrURL) = try Timerd.start(
                ["serve", "--listen", "127.0.0.1:0", "--event-loops", "1", "--metrics-listen", "127.0.0.1:0"],
                environment: ["TIMERD_DATABASE_URL": timerd.databaseURL, "TIMERD_LOG_LEVEL": "warning"]
            ) { process in
                continuation.yield(process.terminationStatus)
                continuation.finish()
            }
            defer {
                if process.isRunning { kill(process.processIdentifier, SIGKILL) }
                try? FileManager.default.removeItem(at: stdoutURL)
                try? FileManager.default.removeItem(at: stderrURL)
            }
            func output() -> String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
            #expect(await eventually { output().contains("READY ") || !process.isRunning })
            let lines = output().split(separator: "\n")
            #expect(lines.count == 2 && lines[0].hasPrefix("METRICS ") && lines[1].hasPrefix("READY "),
                    "stdout: \(output()); stderr: \((try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")")
            let metricsPort = try #require(Int(lines[0].dropFirst("METRICS ".count)))
            let port = try #require(Int(lines[1].dropFirst("READY ".count)))

            #expect(grpcHealthStatus(port: port, service: "") == 1)
            #expect(grpcHealthStatus(port: port, service: "servicevault.timer.v1.TimerService") == 1)
            #expect(grpcHealthStatus(port: port, service: "no.such.Service") == nil)

            func scrape() throws -> String {
                let response = try #require(httpExchange(port: metricsPort, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
                #expect(response.hasPrefix("HTTP/1.1 200 OK\r\n"), "\(response.prefix(200))")
                #expect(response.contains("Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"))
                return String(response[try #require(response.range(of: "\r\n\r\n")).upperBound...])
            }
            let check = "grpc_type=\"unary\",grpc_service=\"grpc.health.v1.Health\",grpc_method=\"Check\""
            // The health calls' connections are counted closed (and, when
            // the client reset one, as an io_error) after their answers came:
            // the figures are still until they have been.
            #expect(await eventually { (try? scrape())?.contains("\ngrpc_server_connections 0\n") == true })
            let first = try scrape()
            #expect(first.contains("grpc_server_handled_total{\(check),grpc_code=\"OK\"} 2\n"), "\(first)")
            #expect(first.contains("grpc_server_handled_total{\(check),grpc_code=\"NotFound\"} 1\n"))
            #expect(first.contains("grpc_server_handling_seconds_count{\(check)} 3\n"))
            #expect(first.contains("# TYPE timerd_sync_conflicts_total counter\n"))

            // Not a scrape: a precise refusal, and nothing counted.
            let garbage = try #require(httpExchange(port: metricsPort, "GARBAGE\r\n\r\n"))
            #expect(garbage.hasPrefix("HTTP/1.1 400 Bad Request\r\n"), "\(garbage)")
            let post = try #require(httpExchange(port: metricsPort, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
            #expect(post.hasPrefix("HTTP/1.1 405 "), "\(post)")
            let elsewhere = try #require(httpExchange(port: metricsPort, "GET /admin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"))
            #expect(elsewhere.hasPrefix("HTTP/1.1 404 "), "\(elsewhere)")
            // Gauges may move by themselves (a health call's connection
            // counted closed after the first scrape, a periodic refresh);
            // counters and histograms move only when something is counted.
            #expect(!countedSamples(first).isEmpty)
            let moved = countedSamplesMoved(from: first, to: try scrape())
            #expect(moved.isEmpty, "moved: \(moved)")
            // gRPC still answers.
            #expect(grpcHealthStatus(port: port, service: "") == 1)

            #expect(kill(process.processIdentifier, SIGTERM) == 0)
            var iterator = stream.makeAsyncIterator()
            #expect(await iterator.next() == 0)
        }
    }

}

/// The samples of a scrape's counter and histogram families, as lines.
func countedSamples(_ scrape: String) -> Set<String> {
    let lines = scrape.split(separator: "\n").map(String.init)
    var families: [String] = []
    for line in lines where line.hasPrefix("# TYPE ") {
        let words = line.split(separator: " ")
        if words.count == 4, words[3] == "counter" || words[3] == "histogram" { families.append(String(words[2])) }
    }
    return Set(lines.filter { line in
        guard !line.hasPrefix("#") else { return false }
        let name = line.prefix { $0 != "{" && $0 != " " }
        return families.contains { name == $0 || name == $0 + "_bucket" || name == $0 + "_sum" || name == $0 + "_count" }
    })
}

/// What was counted between two scrapes: the counter and histogram lines of
/// one missing from the other, the earlier's marked `-`, the later's `+`.
/// Gauges are left out: they move by themselves (a connection counted
/// closed, a pool's connection done connecting, a periodic refresh).
func countedSamplesMoved(from earlier: String, to later: String) -> [String] {
    let (was, now) = (countedSamples(earlier), countedSamples(later))
    return was.subtracting(now).sorted().map { "- " + $0 } + now.subtracting(was).sorted().map { "+ " + $0 }
}
