import Foundation
import Synchronization
import Testing

@testable import LiveState

/// What a subscriber's handler received, for tests to wait on.
final class EventLog: Sendable {
    private let events = Mutex<[RedisSubscriber.Event]>([])

    /// The handler to give the subscriber.
    var handler: @Sendable (RedisSubscriber.Event) -> Void {
        { [self] event in events.withLock { $0.append(event) } }
    }

    var all: [RedisSubscriber.Event] {
        events.withLock { $0 }
    }

    /// The payloads received on `channel`, in order.
    func payloads(on channel: String) -> [[UInt8]] {
        all.compactMap { event in
            if case .message(channel, let payload) = event { return payload }
            return nil
        }
    }

    var connectedCount: Int {
        all.count { $0 == .connected }
    }

    var disconnections: [LiveStateError] {
        all.compactMap { event in
            if case .disconnected(let error) = event { return error }
            return nil
        }
    }
}

/// Pub/sub against the shared test Redis, and against private servers for
/// restarts and freezes.
@Suite("RedisSubscriber", .timeLimit(.minutes(2)))
struct RedisSubscriberTests {
    private func publisher(_ url: RedisURL? = nil) throws -> RedisConnection {
        try RedisConnection(redisURL: url ?? TestRedis.url(), timeout: .seconds(10))
    }

    /// Publishes and returns how many subscribers received the message.
    private func publish(_ payload: [UInt8], on channel: String, with connection: RedisConnection) throws -> Int64 {
        guard case .integer(let receivers) = try connection.command([Array("PUBLISH".utf8), Array(channel.utf8), payload]) else {
            throw TestServerError("PUBLISH did not return an integer")
        }
        return receivers
    }

    /// How many connections the server counts as subscribed to `channel`.
    private func subscriberCount(of channel: String, with connection: RedisConnection) throws -> Int64 {
        guard case .array(let pair) = try connection.command([Array("PUBSUB".utf8), Array("NUMSUB".utf8), Array(channel.utf8)]),
              pair.count == 2, case .integer(let count) = pair[1] else {
            throw TestServerError("PUBSUB NUMSUB did not return a channel and a count")
        }
        return count
    }

    @Test func receivesMessagesOfSubscribedChannelsOnly() async throws {
        let log = EventLog()
        let subscriber = RedisSubscriber(url: try TestRedis.url(), handler: log.handler)
        defer { subscriber.shutdown() }
        let wanted = TestRedis.unique("wanted")
        let other = TestRedis.unique("other")
        subscriber.subscribe(wanted)
        subscriber.subscribe(wanted)  // idempotent
        await subscriber.synchronize()
        #expect(subscriber.isConnected)
        #expect(log.connectedCount == 1)

        let publisher = try publisher()
        let binary: [UInt8] = [0x00, 0xFF, 0x0D, 0x0A] + Array("ünïcode".utf8) + [0x00]
        #expect(try publish(Array("not for us".utf8), on: other, with: publisher) == 0)
        #expect(try publish(binary, on: wanted, with: publisher) == 1)
        #expect(try publish(Array("second".utf8), on: wanted, with: publisher) == 1)
        // One connection delivers in publishing order: once the last message
        // is here, anything for `other` would have been too.
        #expect(await TestRedis.eventually { log.payloads(on: wanted).count == 2 })
        #expect(log.payloads(on: wanted) == [binary, Array("second".utf8)])
        #expect(log.payloads(on: other).isEmpty)
    }

    @Test func unsubscribeStopsDelivery() async throws {
        let log = EventLog()
        let subscriber = RedisSubscriber(url: try TestRedis.url(), handler: log.handler)
        defer { subscriber.shutdown() }
        let leaving = TestRedis.unique("leaving")
        let staying = TestRedis.unique("staying")
        subscriber.subscribe(leaving)
        subscriber.subscribe(staying)
        await subscriber.synchronize()
        let publisher = try publisher()
        #expect(try publish(Array("one".utf8), on: leaving, with: publisher) == 1)
        // Delivered before the unsubscribe, which drops what is still on its
        // way.
        #expect(await TestRedis.eventually { log.payloads(on: leaving).count == 1 })

        subscriber.unsubscribe(leaving)
        subscriber.unsubscribe(TestRedis.unique("never-subscribed"))
        await subscriber.synchronize()
        #expect(try publish(Array("two".utf8), on: leaving, with: publisher) == 0)
        #expect(try publish(Array("marker".utf8), on: staying, with: publisher) == 1)
        #expect(await TestRedis.eventually { log.payloads(on: staying).count == 1 })
        #expect(log.payloads(on: leaving) == [Array("one".utf8)])
    }

    @Test func synchronizeThenPublishAlwaysDelivers() async throws {
        let log = EventLog()
        let subscriber = RedisSubscriber(url: try TestRedis.url(), handler: log.handler)
        defer { subscriber.shutdown() }
        let publisher = try publisher()
        for round in 0..<25 {
            let channel = TestRedis.unique("round-\(round)")
            subscriber.subscribe(channel)
            await subscriber.synchronize()
            // Confirmed: Redis counts this subscriber as a receiver.
            #expect(try publish(Array("\(round)".utf8), on: channel, with: publisher) == 1, "round \(round)")
            #expect(await TestRedis.eventually { log.payloads(on: channel) == [Array("\(round)".utf8)] })
            if round.isMultiple(of: 2) {
                subscriber.unsubscribe(channel)
                await subscriber.synchronize()
                #expect(try publish(Array("gone".utf8), on: channel, with: publisher) == 0, "round \(round)")
            }
        }
        #expect(log.all.count { if case .message = $0 { true } else { false } } == 25)
    }

    @Test func resubscribesEverythingAfterTheServerRestarts() async throws {
        let server = try await TestRedisServer.start()
        let log = EventLog()
        let subscriber = RedisSubscriber(
            url: server.url,
            initialBackoff: .milliseconds(10),
            maximumBackoff: .milliseconds(100),
            handler: log.handler
        )
        defer { subscriber.shutdown() }
        subscriber.subscribe("first")
        subscriber.subscribe("second")
        await subscriber.synchronize()
        #expect(try publish(Array("before".utf8), on: "first", with: publisher(server.url)) == 1)
        #expect(await TestRedis.eventually { log.payloads(on: "first").count == 1 })

        try await server.stop()
        #expect(await TestRedis.eventually { !log.disconnections.isEmpty })
        #expect(!subscriber.isConnected)
        // Disconnected: synchronize does not wait for the server.
        subscriber.subscribe("third")
        await subscriber.synchronize()

        try await server.start()
        #expect(await TestRedis.eventually { log.connectedCount == 2 })
        #expect(subscriber.isConnected)
        await subscriber.synchronize()
        let publisher = try publisher(server.url)
        for channel in ["first", "second", "third"] {
            #expect(try publish(Array("after".utf8), on: channel, with: publisher) == 1, "\(channel)")
        }
        #expect(await TestRedis.eventually { log.payloads(on: "third").count == 1 })
        #expect(log.payloads(on: "first") == [Array("before".utf8), Array("after".utf8)])
        // Many connect attempts failed while the server was down; the outage
        // was announced once.
        #expect(log.disconnections.count == 1)
        let events = log.all.filter { if case .message = $0 { false } else { true } }
        #expect(events.count == 3)
        #expect(events.first == .connected)
        #expect(events.last == .connected)
    }

    @Test func frozenServerIsNoticedByThePing() async throws {
        let server = try await TestRedisServer.start()
        let log = EventLog()
        let subscriber = RedisSubscriber(
            urls: [server.url],
            connectTimeout: .milliseconds(500),
            initialBackoff: .milliseconds(10),
            maximumBackoff: .milliseconds(100),
            pingInterval: .milliseconds(100),
            handler: log.handler
        )
        defer { subscriber.shutdown() }
        subscriber.subscribe("channel")
        #expect(await TestRedis.eventually { log.connectedCount == 1 })
        await subscriber.synchronize()
        #expect(subscriber.isConnected)

        server.freeze()
        defer { server.thaw() }
        #expect(await TestRedis.eventually { !log.disconnections.isEmpty })
        #expect(log.disconnections.first?.code == .timedOut)
        #expect(!subscriber.isConnected)

        server.thaw()
        #expect(await TestRedis.eventually { log.connectedCount == 2 })
        await subscriber.synchronize()
        // Connections the kernel accepted for the frozen server, given up by
        // the subscriber since, may still count as subscribers until the
        // thawed server reads their end.
        let publisher = try publisher(server.url)
        #expect(await TestRedis.eventually { (try? subscriberCount(of: "channel", with: publisher)) == 1 })
        #expect(try publish(Array("awake".utf8), on: "channel", with: publisher) == 1)
        #expect(await TestRedis.eventually { log.payloads(on: "channel") == [Array("awake".utf8)] })
    }

    @Test func unreachableServerIsReportedAndSynchronizeDoesNotWait() async throws {
        let server = try await TestRedisServer.start()
        try await server.stop()
        let log = EventLog()
        let subscriber = RedisSubscriber(
            url: server.url,
            initialBackoff: .milliseconds(10),
            maximumBackoff: .milliseconds(50),
            handler: log.handler
        )
        defer { subscriber.shutdown() }
        subscriber.subscribe("channel")
        // Returns once the first connect has failed.
        await subscriber.synchronize()
        #expect(!subscriber.isConnected)
        #expect(await TestRedis.eventually { log.disconnections.count == 1 })
        #expect(log.disconnections.first?.code == .connectionFailed)

        try await server.start()
        #expect(await TestRedis.eventually { subscriber.isConnected })
        await subscriber.synchronize()
        #expect(try publish(Array("hello".utf8), on: "channel", with: publisher(server.url)) == 1)
    }

    @Test func shutdownJoinsPromptlyConnectedOrNot() async throws {
        let log = EventLog()
        let connected = RedisSubscriber(url: try TestRedis.url(), handler: log.handler)
        connected.subscribe(TestRedis.unique("channel"))
        await connected.synchronize()
        #expect(connected.isConnected)
        var start = ContinuousClock.now
        connected.shutdown()
        #expect(ContinuousClock.now - start < .seconds(5))
        #expect(!connected.isConnected)
        connected.shutdown()
        // After shutdown nothing changes and nothing waits.
        connected.subscribe(TestRedis.unique("late"))
        await connected.synchronize()
        let eventsAtShutdown = log.all.count

        // Backing off after a failed connect, for 30 s: not waited for.
        let server = try await TestRedisServer.start()
        try await server.stop()
        let unreachable = RedisSubscriber(
            url: server.url,
            initialBackoff: .seconds(30),
            maximumBackoff: .seconds(30),
            handler: { _ in }
        )
        await unreachable.synchronize()
        start = ContinuousClock.now
        unreachable.shutdown()
        #expect(ContinuousClock.now - start < .seconds(10))
        #expect(log.all.count == eventsAtShutdown)
    }
}
