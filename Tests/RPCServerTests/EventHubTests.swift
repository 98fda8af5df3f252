import Foundation
import Codec
import LiveState
import Storage
import Synchronization
import Testing
import TimerDomain
import VaultMetrics
@testable import RPCServer

/// Records subscriptions instead of talking to Redis.
final class RecordingSubscriber: EventChannelSubscriber {
    let log = Mutex<[String]>([])
    func subscribe(_ channel: String) { log.withLock { $0.append("+" + channel) } }
    func unsubscribe(_ channel: String) { log.withLock { $0.append("-" + channel) } }
    func synchronize() async {}
    let connected = Mutex(true)
    var isConnected: Bool { connected.withLock { $0 } }
}

@Suite("EventHub")
struct EventHubTests {
    func event(_ version: Int64) -> TimerEvent {
        var event = TimerEvent()
        event.type = .paused
        event.syncVersion = version
        return event
    }

    func payload(_ id: String, _ version: Int64) throws -> [UInt8] {
        Array((id + " ").utf8) + (try event(version).serializedBytes())
    }

    func hub(_ subscriber: RecordingSubscriber, capacity: Int = 256) -> EventHub {
        EventHub(subscriber: subscriber, capacity: capacity) { _, bytes in try TimerEvent(serializedBytes: bytes) }
    }

    @Test func subscribesPerUserWhileItHasWatchersAndDeliversOnlyThatUsersEvents() async throws {
        let subscriber = RecordingSubscriber()
        let hub = hub(subscriber)
        let first = hub.register(user: 1, heartbeat: .seconds(3_600))
        let second = hub.register(user: 1, heartbeat: .seconds(3_600))
        let other = hub.register(user: 2, heartbeat: .seconds(3_600))
        // The resync channel from the start, then one channel per user.
        #expect(subscriber.log.withLock { $0 } == ["+live:resync", "+user:{1}:events", "+user:{2}:events"])

        hub.receive(channel: "user:{1}:events", payload: try payload("1700000000000-1", 3))
        hub.receive(channel: "user:{1}:events", payload: Array("garbage".utf8))
        for watcher in [first, second] {
            var iterator = watcher.items.makeAsyncIterator()
            guard case .event(let id, let event)? = await iterator.next() else { Issue.record("no event"); return }
            #expect(id == EventID("1700000000000-1"))
            #expect(event.eventID == "1700000000000-1")
            #expect(event.syncVersion == 3)
        }
        #expect(hub.received.undecodable == 1)
        hub.unregister(first)
        #expect(subscriber.log.withLock { $0.count } == 3, "a watcher of user 1 remains")
        hub.unregister(second)
        hub.unregister(other)
        #expect(subscriber.log.withLock { $0 }.suffix(2) == ["-user:{1}:events", "-user:{2}:events"])
        // Nothing reached user 2's watcher.
        var iterator = other.items.makeAsyncIterator()
        #expect(await iterator.next() == nil)
        hub.close()
    }

    @Test func eventsReceivedDeliveredDroppedAndTheirLagAreCounted() async throws {
        let registry = PrometheusRegistry()
        let hub = EventHub(subscriber: RecordingSubscriber(), capacity: 2, metrics: LiveMetrics(factory: registry)) { _, bytes in
            try TimerEvent(serializedBytes: bytes)
        }
        let first = hub.register(user: 1, heartbeat: .seconds(3_600))
        let second = hub.register(user: 1, heartbeat: .seconds(3_600))
        // Committed a second ago on the publisher's clock.
        var recent = event(1)
        recent.occurredAt = Timestamp(seconds: Int64(Date().timeIntervalSince1970) - 1, nanos: 0)
        hub.receive(channel: "user:{1}:events", payload: Array("1700000000000-1 ".utf8) + (try recent.serializedBytes()))
        hub.receive(channel: "user:{1}:events", payload: Array("garbage".utf8))
        hub.receive(channel: "not-a-user-channel", payload: [])
        // Two more for two streams that hold two items each: one dropped per stream.
        hub.deliverLocally(user: 1, event: event(2))
        hub.deliverLocally(user: 1, event: event(3))
        let text = registry.render()
        #expect(text.contains("timerd_events_received_total 1\n"), "\(text)")
        #expect(text.contains("timerd_events_undecodable_total 2\n"))
        #expect(text.contains("timerd_events_delivered_total 6\n"))
        #expect(text.contains("timerd_watch_overflows_total 2\n"))
        #expect(text.contains("timerd_event_delivery_lag_seconds_count 1\n"))
        #expect(text.contains("timerd_event_delivery_lag_seconds_bucket{le=\"0.5\"} 0\n"), "a second late is more than half a second")
        #expect(text.contains("timerd_event_delivery_lag_seconds_bucket{le=\"10\"} 1\n"))
        hub.unregister(first)
        hub.unregister(second)
        hub.close()
    }

    @Test func heartbeatsFallDueAtEachWatchersOwnIntervalAndStopWithIt() async throws {
        let hub = hub(RecordingSubscriber())
        let started = ContinuousClock.now
        let quick = hub.register(user: 1, heartbeat: .milliseconds(100))
        let slow = hub.register(user: 1, heartbeat: .seconds(3_600))
        var iterator = quick.items.makeAsyncIterator()
        var beats: [ContinuousClock.Instant] = []
        while beats.count < 6 {
            guard case .heartbeat? = await iterator.next() else { Issue.record("expected a heartbeat"); return }
            beats.append(.now)
        }
        // The first (jittered) one in the second half of the interval, then
        // one an interval (less a 25 ms tick) after the one before was sent:
        // never two in a row, even when a busy machine makes ticks late. The
        // bound is from before the registration, not between two wake-ups of
        // this task, which a busy machine delays by any amount; how late
        // beats may be is up to the machine, so there is no upper bound.
        for (index, beat) in beats.enumerated() {
            #expect(beat - started >= .milliseconds(25 + 75 * index), "beat \(index) after \(beat - started)")
        }
        // The hour's watcher's first beat is at least half an hour away (these
        // tests register watchers of an hour: no heartbeat comes in their time,
        // however slow the machine).
        hub.unregister(slow)
        var slowItems = slow.items.makeAsyncIterator()
        #expect(await slowItems.next() == nil, "the slow watcher got an item")
        hub.close()
    }

    @Test func aResyncAnnouncementGivesEveryWatcherOfEveryUserAFreshSnapshot() async throws {
        let hub = hub(RecordingSubscriber())
        let watchers = [hub.register(user: 1, heartbeat: .seconds(3_600)), hub.register(user: 1, heartbeat: .seconds(3_600)),
                        hub.register(user: 2, heartbeat: .seconds(3_600))]
        hub.receive(channel: "live:resync", payload: Array("resync".utf8))
        for watcher in watchers {
            var iterator = watcher.items.makeAsyncIterator()
            let item = await iterator.next()
            guard case .resync? = item else {
                Issue.record("expected a resync, got \(String(describing: item))")
                continue
            }
        }
        #expect(hub.received.undecodable == 0)
        hub.close()
    }

    @Test func aSlowWatcherLosesItsOldestItemsAndIsToldToResyncWithoutSlowingOthers() async throws {
        let hub = hub(RecordingSubscriber(), capacity: 4)
        let slow = hub.register(user: 1, heartbeat: .seconds(3_600))
        let fast = hub.register(user: 1, heartbeat: .seconds(3_600))
        var fastIterator = fast.items.makeAsyncIterator()
        for version in 1...10 {
            hub.receive(channel: "user:{1}:events", payload: try payload("1700000000000-\(version)", Int64(version)))
            // The fast reader keeps up and sees every event.
            guard case .event(_, let event)? = await fastIterator.next() else { Issue.record("fast reader missed \(version)"); return }
            #expect(event.syncVersion == Int64(version))
        }
        #expect(!fast.takeOverflow())
        // The slow one kept the newest four and knows it lost some.
        #expect(slow.takeOverflow())
        #expect(!slow.takeOverflow(), "the flag clears once read")
        var versions: [Int64] = []
        var slowIterator = slow.items.makeAsyncIterator()
        for _ in 0..<4 {
            if case .event(_, let event)? = await slowIterator.next() { versions.append(event.syncVersion) }
        }
        #expect(versions == [7, 8, 9, 10])
        hub.close()
        #expect(await slowIterator.next() == nil)
    }

    @Test func resyncReachesEveryWatcherAndLocalDeliveryHasNoID() async throws {
        let hub = hub(RecordingSubscriber())
        let watcher = hub.register(user: 5, heartbeat: .seconds(3_600))
        hub.deliverLocally(user: 5, event: event(9))
        hub.resyncAll()
        var iterator = watcher.items.makeAsyncIterator()
        guard case .event(let id, let event)? = await iterator.next() else { Issue.record("no local event"); return }
        #expect(id == nil && event.syncVersion == 9)
        guard case .resync? = await iterator.next() else { Issue.record("no resync"); return }
        hub.close()
        // A registration after close ends at once.
        var late = hub.register(user: 5, heartbeat: .seconds(3_600)).items.makeAsyncIterator()
        #expect(await late.next() == nil)
    }

    @Test func heartbeatsComeAtTheWatchersInterval() async throws {
        let hub = hub(RecordingSubscriber())
        // Measured from before the registration, never from when this task
        // woke for a beat: a busy machine wakes it late, and the next beat
        // is due an interval after it was sent, not after it was read.
        let started = ContinuousClock.now
        let watcher = hub.register(user: 1, heartbeat: .seconds(1))
        var iterator = watcher.items.makeAsyncIterator()
        guard case .heartbeat? = await iterator.next() else { Issue.record("no heartbeat"); return }
        // The first in the second half of the interval (to a 25 ms tick),
        // then one an interval (less a tick) after it was sent.
        #expect(ContinuousClock.now - started >= .milliseconds(475))
        guard case .heartbeat? = await iterator.next() else { Issue.record("no second heartbeat"); return }
        #expect(ContinuousClock.now - started >= .milliseconds(1_450))
        hub.close()
    }

    @Test func streamsOpenedTogetherDoNotBeatTogether() throws {
        let hub = hub(RecordingSubscriber())
        let before = ContinuousClock.now
        let watchers = (0..<200).map { _ in hub.register(user: 1, heartbeat: .seconds(2)) }
        let after = ContinuousClock.now
        let firstBeats = watchers.compactMap { hub.scheduledBeat(of: $0) }
        hub.close()
        #expect(firstBeats.count == watchers.count)
        let earliest = try #require(firstBeats.min()), latest = try #require(firstBeats.max())
        // Each first beat in the second half of its interval (to the tick)…
        #expect(earliest >= before + .seconds(1) - .milliseconds(25))
        #expect(latest <= after + .seconds(2))
        // …and 200 of them spread over it, many ticks apart.
        #expect(latest - earliest >= .milliseconds(500))
    }

    @Test func activeTimersAreKnownUntilTheUserChangesOrTheHubMayHaveMissedAChange() throws {
        let subscriber = RecordingSubscriber()
        let hub = hub(subscriber)
        let state = try TimerState(status: .paused, startedAt: .epoch, pausedAt: .epoch, stoppedAt: nil,
                                   currentSessionStartedAt: nil, closedSeconds: 0, lastUpdated: .epoch, syncVersion: 1, deviceID: "d")
        let records = [TimerRecord(id: 9, userID: 1, accountID: 1, projectID: nil, billingRateID: nil, description: "x",
                                   clientRef: nil, createdAt: .epoch, deletedAt: nil, state: state, rate: nil)]
        // Not watched: nothing is kept.
        hub.remember(active: records, user: 1, change: hub.knownActive(user: 1).change)
        #expect(hub.knownActive(user: 1).records == nil)

        let watcher = hub.register(user: 1, heartbeat: .seconds(3_600))
        _ = hub.register(user: 2, heartbeat: .seconds(3_600))
        var change = hub.knownActive(user: 1).change
        hub.remember(active: records, user: 1, change: change)
        #expect(hub.knownActive(user: 1).records == records)

        // Another user's change leaves it; the user's own drops it.
        hub.receive(channel: LiveKeys.channel(user: 2), payload: try payload("1-1", 2))
        #expect(hub.knownActive(user: 1).records == records)
        hub.receive(channel: LiveKeys.channel(user: 1), payload: try payload("1-2", 2))
        #expect(hub.knownActive(user: 1).records == nil)
        // Read before that change: not kept.
        hub.remember(active: records, user: 1, change: change)
        #expect(hub.knownActive(user: 1).records == nil)
        change = hub.knownActive(user: 1).change
        hub.remember(active: records, user: 1, change: change)
        #expect(hub.knownActive(user: 1).records == records)

        // Even an event that cannot be read counts as a change.
        hub.receive(channel: LiveKeys.channel(user: 1), payload: Array("garbage".utf8))
        #expect(hub.knownActive(user: 1).records == nil)
        change = hub.knownActive(user: 1).change
        hub.remember(active: records, user: 1, change: change)

        // While the pub/sub connection is down changes may pass unseen.
        subscriber.connected.withLock { $0 = false }
        #expect(hub.knownActive(user: 1).records == nil)
        subscriber.connected.withLock { $0 = true }
        #expect(hub.knownActive(user: 1).records == records)
        // A change made here while Redis is down, and a resync, drop it too.
        hub.deliverLocally(user: 1, event: event(3))
        #expect(hub.knownActive(user: 1).records == nil)
        hub.remember(active: records, user: 1, change: hub.knownActive(user: 1).change)
        hub.resyncAll()
        #expect(hub.knownActive(user: 1).records == nil)
        hub.remember(active: records, user: 1, change: hub.knownActive(user: 1).change)

        // The last watcher gone, nothing is kept.
        hub.unregister(watcher)
        #expect(hub.knownActive(user: 1).records == nil)
        hub.close()
    }
}
