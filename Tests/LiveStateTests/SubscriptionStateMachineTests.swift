import Testing

@testable import LiveState

/// The pub/sub connection's rules, reply by reply, with time given by the
/// test.
@Suite("SubscriptionStateMachine")
struct SubscriptionStateMachineTests {
    typealias Machine = SubscriptionStateMachine
    private let start = ContinuousClock.now

    private func at(_ milliseconds: Int) -> ContinuousClock.Instant {
        start + .milliseconds(milliseconds)
    }

    private func command(_ arguments: String...) -> [[UInt8]] {
        arguments.map { Array($0.utf8) }
    }

    private func bulk(_ text: String) -> RedisReply {
        .string(Array(text.utf8))
    }

    private func confirmation(_ verb: String, _ channel: String, _ count: Int64) -> RedisReply {
        .array([bulk(verb), bulk(channel), .integer(count)])
    }

    private let subscribedPong: RedisReply = .array([.string(Array("pong".utf8)), .string([])])

    private func machine() -> Machine {
        Machine(pingInterval: .seconds(3), replyTimeout: .seconds(2), now: at(0))
    }

    @Test func openingAuthenticatesSubscribesAndPingsAndThePongMakesItLive() throws {
        var machine = machine()
        let opened = machine.opened(credentials: ["svc", "secret"], wanted: ["b", "a"], generation: 2, now: at(0))
        #expect(opened.send == [command("AUTH", "svc", "secret"), command("SUBSCRIBE", "a", "b"), command("PING")])
        #expect(try machine.received(.status("OK"), now: at(1)) == Machine.Actions())
        #expect(try machine.received(confirmation("subscribe", "a", 1), now: at(2)) == Machine.Actions())
        #expect(try machine.received(confirmation("subscribe", "b", 2), now: at(3)) == Machine.Actions(confirmed: 2))
        #expect(!machine.isConnected)
        #expect(try machine.received(subscribedPong, now: at(4)) == Machine.Actions(connected: true))
        #expect(machine.isConnected)
    }

    @Test func openingWithNothingWantedOnlyPings() throws {
        var machine = machine()
        #expect(machine.opened(credentials: nil, wanted: [], generation: 0, now: at(0)).send == [command("PING")])
        // Outside subscribed mode PING answers +PONG.
        let live = try machine.received(.status("PONG"), now: at(1))
        #expect(live.connected)
    }

    @Test func changesSendTheDifferenceAndConfirmGenerationsInOrder() throws {
        var machine = machine()
        _ = machine.opened(credentials: nil, wanted: ["a"], generation: 1, now: at(0))
        _ = try machine.received(confirmation("subscribe", "a", 1), now: at(1))
        _ = try machine.received(subscribedPong, now: at(2))

        let second = machine.wantedChanged(["a", "b", "c"], generation: 2, now: at(3))
        #expect(second.send == [command("SUBSCRIBE", "b", "c")])
        #expect(second.confirmed == nil)
        let third = machine.wantedChanged(["c"], generation: 3, now: at(4))
        #expect(third.send == [command("UNSUBSCRIBE", "a", "b")])
        #expect(machine.requested == ["c"])

        #expect(try machine.received(confirmation("subscribe", "b", 2), now: at(5)).confirmed == nil)
        #expect(try machine.received(confirmation("subscribe", "c", 3), now: at(6)).confirmed == 2)
        #expect(try machine.received(confirmation("unsubscribe", "a", 2), now: at(7)).confirmed == nil)
        #expect(try machine.received(confirmation("unsubscribe", "b", 1), now: at(8)).confirmed == 3)
    }

    @Test func changeThatLeavesTheServerAsItIsIsConfirmedWhenEverythingBeforeIs() throws {
        var machine = machine()
        _ = machine.opened(credentials: nil, wanted: [], generation: 0, now: at(0))
        _ = try machine.received(.status("PONG"), now: at(1))
        _ = machine.wantedChanged(["a"], generation: 1, now: at(2))
        // Subscribed and unsubscribed again before the thread looked: nothing
        // to send, but generation 1's SUBSCRIBE is still outstanding.
        let same = machine.wantedChanged(["a"], generation: 3, now: at(3))
        #expect(same.send.isEmpty)
        #expect(same.confirmed == nil)
        #expect(try machine.received(confirmation("subscribe", "a", 1), now: at(4)).confirmed == 3)
        // With nothing outstanding, a no-op change is confirmed at once.
        #expect(machine.wantedChanged(["a"], generation: 4, now: at(5)) == Machine.Actions(confirmed: 4))
    }

    @Test func messagesAreDeliveredAtAnyTime() throws {
        var machine = machine()
        _ = machine.opened(credentials: nil, wanted: ["a"], generation: 1, now: at(0))
        _ = try machine.received(confirmation("subscribe", "a", 1), now: at(1))
        let payload: [UInt8] = [0, 1, 0xFF, 0]
        // Before the initial PONG, and between confirmations.
        let message = try machine.received(.array([bulk("message"), bulk("a"), .string(payload)]), now: at(2))
        #expect(message.messages == [Machine.Message(channel: "a", payload: payload)])
        #expect(!message.connected)
        #expect(try machine.received(subscribedPong, now: at(3)).connected)
    }

    @Test func unexpectedRepliesBreakTheProtocol() throws {
        var machine = machine()
        _ = machine.opened(credentials: nil, wanted: ["a"], generation: 1, now: at(0))
        // Confirms a channel that was not asked for.
        let wrongChannel = #expect(throws: LiveStateError.self) {
            try machine.received(confirmation("subscribe", "b", 1), now: at(1))
        }
        #expect(wrongChannel?.code == .protocolError)

        var idle = self.machine()
        _ = idle.opened(credentials: nil, wanted: [], generation: 0, now: at(0))
        _ = try idle.received(.status("PONG"), now: at(1))
        let unsolicited = #expect(throws: LiveStateError.self) {
            try idle.received(.integer(1), now: at(2))
        }
        #expect(unsolicited?.code == .protocolError)
    }

    @Test func refusedRequestEndsTheConnection() throws {
        var machine = machine()
        _ = machine.opened(credentials: ["wrong"], wanted: ["a"], generation: 1, now: at(0))
        let refused = #expect(throws: LiveStateError.self) {
            try machine.received(.error("WRONGPASS invalid username-password pair"), now: at(1))
        }
        #expect(refused?.code == .connectionFailed)
        #expect(refused?.message.contains("AUTH was refused: WRONGPASS") == true)
    }

    @Test func idleConnectionIsPingedAndASilentOneIsDead() throws {
        var machine = machine()
        _ = machine.opened(credentials: nil, wanted: ["a"], generation: 1, now: at(0))
        _ = try machine.received(confirmation("subscribe", "a", 1), now: at(10))
        _ = try machine.received(subscribedPong, now: at(20))
        // Nothing outstanding: the next tick is the ping, 3 s after the last
        // activity.
        #expect(machine.nextTick == at(3020))
        #expect(try machine.tick(now: at(3000)) == Machine.Actions())
        #expect(try machine.tick(now: at(3020)).send == [command("PING")])
        // Now a reply is due within 2 s.
        #expect(machine.nextTick == at(5020))
        #expect(try machine.tick(now: at(5000)) == Machine.Actions())
        let dead = #expect(throws: LiveStateError.self) {
            try machine.tick(now: at(5020))
        }
        #expect(dead?.code == .timedOut)
    }

    @Test func repliesPushTheReplyDeadlineBackAndMessagesPostponeThePing() throws {
        var machine = machine()
        _ = machine.opened(credentials: nil, wanted: ["a", "b"], generation: 1, now: at(0))
        #expect(machine.nextTick == at(2000))
        _ = try machine.received(confirmation("subscribe", "a", 1), now: at(1500))
        #expect(machine.nextTick == at(3500))
        _ = try machine.received(confirmation("subscribe", "b", 2), now: at(1600))
        _ = try machine.received(subscribedPong, now: at(1700))
        _ = try machine.received(.array([bulk("message"), bulk("a"), bulk("x")]), now: at(2500))
        #expect(machine.nextTick == at(5500))
    }
}
