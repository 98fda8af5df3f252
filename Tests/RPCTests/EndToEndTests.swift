import Codec
import Synchronization
import Testing
@testable import RPC

/// A service for exercising the transport: echo, streams, slow calls.
struct EchoService: RPCService {
    static let name = "test.Echo"
    static let get = MethodDescriptor(service: name, method: "Get", kind: .unary)
    static let stream = MethodDescriptor(service: name, method: "Stream", kind: .serverStreaming)
    static let collect = MethodDescriptor(service: name, method: "Collect", kind: .clientStreaming)
    static let chat = MethodDescriptor(service: name, method: "Chat", kind: .bidirectionalStreaming)
    static let hang = MethodDescriptor(service: name, method: "Hang", kind: .unary)
    static let fail = MethodDescriptor(service: name, method: "Fail", kind: .unary)
    static let flood = MethodDescriptor(service: name, method: "Flood", kind: .serverStreaming)
    static let peer = MethodDescriptor(service: name, method: "Peer", kind: .unary)

    /// Fired when the slow handler starts waiting, and when its task is cancelled.
    let hangStarted = Signal()
    let cancellations = Signal()
    /// Fired for each message the flood handler has handed to `send`.
    let floodSent = Signal()

    func registerMethods(with router: inout MethodRouter) {
        router.registerUnary(Self.get) { (request: VaultTimer, context: ServerContext) in
            context.addInitialMetadata("x-initial", "hello")
            context.addTrailingMetadata("x-trailing-bin", binary: [0, 1, 2, 255])
            var response = request
            response.deviceID = context.requestMetadata["x-device"] ?? ""
            return response
        }
        router.registerServerStreaming(Self.stream) { (request: ListTimersRequest, writer: ResponseWriter<VaultTimer>, _) in
            for i in 0..<Int(request.pageSize) {
                try await writer.send(VaultTimer.with { $0.id = Int64(i); $0.description = request.pageToken })
            }
        }
        router.registerClientStreaming(Self.collect) { (requests: RequestStream<VaultTimer>, _) -> Meta in
            var meta = Meta()
            for try await timer in requests {
                meta.activeCount += 1
                meta.totalActiveDuration += timer.totalDuration
            }
            return meta
        }
        router.registerBidirectionalStreaming(Self.chat) { (requests: RequestStream<VaultTimer>, writer: ResponseWriter<VaultTimer>, _) in
            for try await timer in requests {
                try await writer.send(timer)
            }
        }
        let cancellations = self.cancellations, hangStarted = self.hangStarted
        router.registerUnary(Self.hang) { (_: VaultTimer, _: ServerContext) -> VaultTimer in
            // Waits until the task is cancelled (deadline, client reset).
            let cancelled = Signal()
            await withTaskCancellationHandler {
                hangStarted.fire()
                await cancelled.wait(for: 1)
            } onCancel: {
                cancellations.fire()
                cancelled.fire()
            }
            throw CancellationError()
        }
        let floodSent = self.floodSent
        router.registerServerStreaming(Self.flood) { (request: ListTimersRequest, writer: ResponseWriter<VaultTimer>, _) in
            let message = VaultTimer.with { $0.description = String(repeating: "m", count: 1 << 20) }
            for i in 0..<Int(request.pageSize) {
                var numbered = message
                numbered.id = Int64(i)
                try await writer.send(numbered)
                floodSent.fire()
            }
        }
        router.registerUnary(Self.peer) { (_: VaultTimer, context: ServerContext) -> VaultTimer in
            VaultTimer.with { $0.deviceID = context.peer }  // Which connection the call came on.
        }
        router.registerUnary(Self.fail) { (request: VaultTimer, _: ServerContext) -> VaultTimer in
            throw RPCError(code: .failedPrecondition, message: "timer \(request.id) is stopped — 100% sure", metadata: Metadata(["x-reason": "stopped"]))
        }
    }
}

/// Starts a server with the echo service on a free port.
func withEchoServer(configure: (inout GRPCServer.Configuration) -> Void = { _ in },
                    _ body: (GRPCServer, GRPCChannel, EchoService) async throws -> Void) async throws {
    var configuration = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 2)
    configure(&configuration)
    let service = EchoService()
    let server = GRPCServer(configuration: configuration, services: [service])
    try server.start()
    let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
    do {
        try await body(server, channel, service)
    } catch {
        channel.close()
        await server.shutdown(grace: .seconds(1))
        throw error
    }
    channel.close()
    await server.shutdown(grace: .seconds(1))
}

@Suite("End to end over real sockets", .timeLimit(.minutes(1)))
struct EndToEndTests {
    @Test("unary call with metadata both ways")
    func unary() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            var options = CallOptions()
            options.metadata.add("x-device", "phone")
            let request = VaultTimer.with { $0.id = 7; $0.description = "Réunion 🧭" }
            let stream: ResponseStream<VaultTimer> = channel.serverStreaming(EchoService.get, request: request, options: options)
            var responses: [VaultTimer] = []
            for try await response in stream { responses.append(response) }
            #expect(responses.count == 1)
            #expect(responses.first?.id == 7)
            #expect(responses.first?.description == "Réunion 🧭")
            #expect(responses.first?.deviceID == "phone")
            #expect(try await stream.initialMetadata()["x-initial"] == "hello")
            #expect(await stream.trailingMetadata()[binary: "x-trailing-bin"] == [0, 1, 2, 255])
        }
    }

    @Test("an error status travels with its message and metadata")
    func errorStatus() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            do {
                let _: VaultTimer = try await channel.unary(EchoService.fail, request: VaultTimer.with { $0.id = 3 }, options: CallOptions())
                Issue.record("the call succeeded")
            } catch let error as RPCError {
                #expect(error.code == .failedPrecondition)
                #expect(error.message == "timer 3 is stopped — 100% sure")
                #expect(error.metadata["x-reason"] == "stopped")
            }
        }
    }

    @Test("unknown methods and services are UNIMPLEMENTED")
    func unimplemented() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            for (method, fragment) in [
                (MethodDescriptor(service: "test.Echo", method: "Nope", kind: .unary), "method Nope"),
                (MethodDescriptor(service: "test.Missing", method: "Get", kind: .unary), "service test.Missing"),
            ] {
                do {
                    let _: VaultTimer = try await channel.unary(method, request: VaultTimer(), options: CallOptions())
                    Issue.record("\(method) succeeded")
                } catch let error as RPCError {
                    #expect(error.code == .unimplemented)
                    #expect(error.message.contains(fragment), "\(error.message)")
                }
            }
        }
    }

    @Test("server streaming delivers every message in order")
    func serverStreaming() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            let request = ListTimersRequest.with { $0.pageSize = 5_000; $0.pageToken = String(repeating: "x", count: 100) }
            let stream: ResponseStream<VaultTimer> = channel.serverStreaming(EchoService.stream, request: request, options: CallOptions())
            var next: Int64 = 0
            for try await timer in stream {
                #expect(timer.id == next)
                next += 1
            }
            #expect(next == 5_000)
        }
    }

    @Test("a slow reader holds the producer back: memory stays bounded, nothing is lost")
    func backPressure() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, service: EchoService) async throws in
            let count = 200  // 200 MiB if nothing held the handler back
            let stream: ResponseStream<VaultTimer> = channel.serverStreaming(
                EchoService.flood, request: ListTimersRequest.with { $0.pageSize = Int32(count) }, options: CallOptions())
            var iterator = stream.makeAsyncIterator()
            #expect(try await iterator.next()?.id == 0)
            await service.floodSent.wait(for: 3)
            // Stop reading for a while: an unbounded producer would show here.
            try await Task.sleep(for: .milliseconds(500))
            let sentWhilePaused = service.floodSent.count
            #expect(sentWhilePaused <= 10, "the handler sent \(sentWhilePaused) MiB to a reader that took 1")
            var received = 1
            while let timer = try await iterator.next() {
                #expect(timer.id == Int64(received))
                received += 1
            }
            #expect(received == count)
        }
    }

    @Test("client streaming and bidirectional streaming")
    func clientAndBidi() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            let timers = (1...50).map { i in VaultTimer.with { $0.id = Int64(i); $0.totalDuration = Int64(i) } }
            let meta: Meta = try await channel.clientStreaming(EchoService.collect, requests: timers, options: CallOptions())
            #expect(meta.activeCount == 50)
            #expect(meta.totalActiveDuration == 1_275)

            let call: BidirectionalCall<VaultTimer, VaultTimer> = channel.bidirectionalStreaming(EchoService.chat, options: CallOptions())
            var iterator = call.responses.makeAsyncIterator()
            for timer in timers.prefix(10) {
                try await call.send(timer)
                let echoed = try await iterator.next()
                #expect(echoed == timer)  // ping-pong: each answer before the next request
            }
            try await call.finish()
            #expect(try await iterator.next() == nil)
        }
    }

    /// Regression: messages sent on a streaming call before its connection was
    /// up were dropped, and the call hung.
    @Test("messages sent before the connection is up are not lost")
    func sendBeforeConnected() async throws {
        try await withEchoServer { (server: GRPCServer, _: GRPCChannel, _: EchoService) async throws in
            let fresh = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
            defer { fresh.close() }
            let call: BidirectionalCall<VaultTimer, VaultTimer> = fresh.bidirectionalStreaming(EchoService.chat, options: CallOptions())
            try await call.send(VaultTimer.with { $0.id = 1 })
            try await call.send(VaultTimer.with { $0.id = 2 })
            try await call.finish()
            var ids: [Int64] = []
            for try await timer in call.responses { ids.append(timer.id) }
            #expect(ids == [1, 2])
        }
    }

    @Test("empty and 4 MiB messages; one byte more is RESOURCE_EXHAUSTED")
    func messageSizes() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            let empty: VaultTimer = try await channel.unary(EchoService.get, request: VaultTimer(), options: CallOptions())
            #expect(empty == VaultTimer())

            // A timer whose encoding is exactly the 4 MiB limit.
            var big = VaultTimer()
            big.description = String(repeating: "a", count: (4 << 20) - 5)
            #expect(try big.serializedBytes().count == 4 << 20)
            let echoed: VaultTimer = try await channel.unary(EchoService.get, request: big, options: CallOptions())
            #expect(echoed.description.count == big.description.count)

            big.description += "a"
            do {
                let _: VaultTimer = try await channel.unary(EchoService.get, request: big, options: CallOptions())
                Issue.record("an oversized message was accepted")
            } catch let error as RPCError {
                #expect(error.code == .resourceExhausted)
            }
        }
    }

    @Test("a thousand large calls at once on one connection all complete (both sides send more than their output buffer holds)")
    func manyLargeCalls() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            // 1,000 × 256 KiB each way, ten times the streams the server allows
            // at once: each side has far more to send than its 4 MiB output
            // buffer, and waits for the other to read.
            // Large messages first, so the sockets' buffers have grown to take
            // a whole output buffer in one write.
            var warmUp = VaultTimer()
            warmUp.description = String(repeating: "w", count: 3 << 20)
            for _ in 0..<8 {
                let _: VaultTimer = try await channel.unary(EchoService.get, request: warmUp, options: CallOptions(timeout: .seconds(30)))
            }
            var request = VaultTimer()
            request.description = String(repeating: "x", count: 256 << 10)
            let expected = request.description.count
            let options = CallOptions(timeout: .seconds(30))
            let echoed = try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<1_000 {
                    var numbered = request
                    numbered.id = Int64(i)
                    group.addTask { [numbered] () async throws -> Int in
                        let response: VaultTimer = try await channel.unary(EchoService.get, request: numbered, options: options)
                        return response.id == Int64(i) && response.description.count == expected ? 1 : 0
                    }
                }
                var count = 0
                for try await ok in group { count += ok }
                return count
            }
            #expect(echoed == 1_000)
        }
    }

    @Test("the server cancels the handler at the deadline and answers DEADLINE_EXCEEDED")
    func deadline() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, service: EchoService) async throws in
            let started = ContinuousClock.now
            do {
                let _: VaultTimer = try await channel.unary(EchoService.hang, request: VaultTimer(), options: CallOptions(timeout: .milliseconds(200)))
                Issue.record("the call succeeded")
            } catch let error as RPCError {
                #expect(error.code == .deadlineExceeded)
            }
            #expect(ContinuousClock.now - started < .seconds(5))
            await service.cancellations.wait(for: 1)
        }
    }

    @Test("cancelling the client task resets the stream and cancels the handler")
    func clientCancellation() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, service: EchoService) async throws in
            let task = Task {
                let _: VaultTimer = try await channel.unary(EchoService.hang, request: VaultTimer(), options: CallOptions())
            }
            await service.hangStarted.wait(for: 1)
            task.cancel()
            let result = await task.result
            #expect(throws: RPCError.self) { try result.get() }
            if case .failure(let error as RPCError) = result { #expect(error.code == .cancelled) }
            await service.cancellations.wait(for: 1)
        }
    }

    @Test("1,000 concurrent calls on one connection")
    func concurrentCalls() async throws {
        try await withEchoServer { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for i in 0..<1_000 {
                    group.addTask {
                        let response: VaultTimer = try await channel.unary(EchoService.get, request: VaultTimer.with { $0.id = Int64(i) }, options: CallOptions())
                        return response.id
                    }
                }
                var seen = Set<Int64>()
                for try await id in group { seen.insert(id) }
                #expect(seen == Set(0..<1_000))
            }
        }
    }

    @Test("100 connections at once")
    func manyConnections() async throws {
        try await withEchoServer { (server: GRPCServer, _: GRPCChannel, _: EchoService) async throws in
            let channels = try (0..<100).map { _ in try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)")) }
            defer { for channel in channels { channel.close() } }
            try await withThrowingTaskGroup(of: Int64.self) { group in
                for (i, channel) in channels.enumerated() {
                    group.addTask {
                        let response: VaultTimer = try await channel.unary(EchoService.get, request: VaultTimer.with { $0.id = Int64(i) }, options: CallOptions())
                        return response.id
                    }
                }
                var seen = Set<Int64>()
                for try await id in group { seen.insert(id) }
                #expect(seen.count == 100)
            }
        }
    }

    @Test("gzip both ways")
    func gzip() async throws {
        try await withEchoServer(configure: { $0.compressResponses = true }) { (_: GRPCServer, channel: GRPCChannel, _: EchoService) async throws in
            let request = VaultTimer.with { $0.description = String(repeating: "compress me ", count: 10_000) }
            let response: VaultTimer = try await channel.unary(EchoService.get, request: request, options: CallOptions(compression: .gzip))
            #expect(response.description == request.description)
        }
    }

    @Test("graceful shutdown lets calls in flight finish")
    func gracefulShutdown() async throws {
        var configuration = GRPCServer.Configuration(address: "127.0.0.1:0", eventLoops: 1)
        configuration.maxConcurrentStreams = 100
        let server = GRPCServer(configuration: configuration, services: [EchoService()])
        try server.start()
        let channel = try GRPCChannel(configuration: .init(target: "127.0.0.1:\(server.port)"))
        defer { channel.close() }
        let stream: ResponseStream<VaultTimer> = channel.serverStreaming(
            EchoService.stream, request: ListTimersRequest.with { $0.pageSize = 20_000 }, options: CallOptions())
        var iterator = stream.makeAsyncIterator()
        #expect(try await iterator.next()?.id == 0)
        // Shut down while the stream is mid-way; it must complete.
        async let shutdown: Void = server.shutdown(grace: .seconds(10))
        var count = 1
        while try await iterator.next() != nil { count += 1 }
        await shutdown
        #expect(count == 20_000)
    }
}

/// A connection that got GOAWAY finishes its streams while new calls go to a
/// new connection, whose stream ids start again at 1.
@Suite("Client connections after GOAWAY", .timeLimit(.minutes(1)))
struct DrainingConnectionTests {
    /// Regression: calls were kept by stream id alone, so a new connection's
    /// stream 3 replaced the draining connection's stream 3 in the table, and
    /// the old stream's reset ended the new, unrelated call.
    @Test func aNewConnectionsCallsAreNotTakenForTheDrainingOnes() async throws {
        // Each connection gets GOAWAY (NO_ERROR) after 300 ms, streams in flight go on.
        try await withEchoServer(configure: { $0.maxConnectionAge = .milliseconds(300) }) { (_: GRPCServer, channel: GRPCChannel, service: EchoService) async throws in
            func peer() async throws -> String {
                let response: VaultTimer = try await channel.unary(EchoService.peer, request: VaultTimer(), options: CallOptions())
                return response.deviceID
            }
            func hang() -> Task<VaultTimer, any Error> {
                Task { try await channel.unary(EchoService.hang, request: VaultTimer(), options: CallOptions()) }
            }
            let first = try await peer()  // Stream 1 of the first connection.
            let old = hang()  // Stream 3 of the first connection.
            await service.hangStarted.wait(for: 1)
            // Until the GOAWAY is in, calls go on the first connection; then
            // one opens the second (its stream 1).
            let deadline = ContinuousClock.now + .seconds(20)
            var current = first
            while current == first && ContinuousClock.now < deadline { current = try await peer() }
            try #require(current != first, "no GOAWAY within 20 s")
            let new = hang()  // Stream 3 of the second connection.
            await service.hangStarted.wait(for: 2)

            old.cancel()
            _ = await old.result
            await service.cancellations.wait(for: 1)  // The old stream's reset reached the server.
            new.cancel()
            let outcome = await new.result
            guard case .failure(let error) = outcome else {
                Issue.record("the hanging call succeeded")
                return
            }
            // Still running until cancelled here, not ended by the other connection's reset.
            #expect((error as? RPCError)?.message == "the call was cancelled by the client")
            // And its stream was reset on the server.
            let end = ContinuousClock.now + .seconds(20)
            while service.cancellations.count < 2 && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(10)) }
            #expect(service.cancellations.count == 2, "the second call's stream was not reset")
        }
    }
}

/// Counts events that happen on other threads; a test awaits a count.
final class Signal: Sendable {
    private struct State {
        var count = 0
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
    }
    private let state = Mutex(State())

    func fire() {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.count += 1
            let count = state.count
            let ready = state.waiters.filter { $0.0 <= count }.map(\.1)
            state.waiters.removeAll { $0.0 <= count }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }

    var count: Int { state.withLock { $0.count } }

    /// Returns once `fire()` has been called `count` times in all.
    func wait(for count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { state -> Bool in
                if state.count >= count { return true }
                state.waiters.append((count, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }
}
