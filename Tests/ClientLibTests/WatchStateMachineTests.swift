@testable import ClientLib
import Testing

@Suite("WatchStateMachine")
struct WatchStateMachineTests {
    @Test func eachStreamResumesAfterTheLastEventWithAnID() {
        var machine = WatchStateMachine(resumingFrom: nil)
        #expect(machine.opening() == "")
        let r1 = machine.received(event(.snapshot, id: "100-0"))
        #expect(r1)
        let r2 = machine.received(event(.started, id: "101-0", timer: 1))
        #expect(!r2)
        let r3 = machine.received(event(.heartbeat, id: ""))
        #expect(!r3)
        #expect(machine.lastEventID == "101-0")
        let r101 = machine.ended(RPCError(code: .unavailable, message: "shutting down"), cause: .stream)
        #expect(r101 == .reconnect)
        #expect(machine.opening() == "101-0")
        #expect(machine.streamsOpened == 2)
        // A clean end is no reason to stop watching either.
        let r102 = machine.ended(nil, cause: .stream)
        #expect(r102 == .reconnect)
        #expect(machine.opening() == "101-0")
    }

    @Test func aResumePointGivenAtTheStartIsUsed() {
        var machine = WatchStateMachine(resumingFrom: "42-7")
        #expect(machine.opening() == "42-7")
        var empty = WatchStateMachine(resumingFrom: "")
        #expect(empty.opening() == "")
        #expect(empty.lastEventID == nil)
    }

    @Test(arguments: [StatusCode.unauthenticated, .permissionDenied, .invalidArgument, .unimplemented, .notFound])
    func refusalsEndTheWatchWithTheirError(code: StatusCode) {
        var machine = WatchStateMachine(resumingFrom: nil)
        _ = machine.opening()
        let ending = machine.ended(RPCError(code: code, message: "no"), cause: .stream)
        #expect(ending == .fail(TimerClientError(code: code, message: "no")))
        #expect(machine.isFinished)
    }

    @Test(arguments: [StatusCode.unavailable, .cancelled, .internalError, .unknown, .resourceExhausted, .deadlineExceeded, .aborted])
    func transientEndsReconnect(code: StatusCode) {
        var machine = WatchStateMachine(resumingFrom: nil)
        _ = machine.opening()
        let r103 = machine.ended(RPCError(code: code, message: ""), cause: .stream)
        #expect(r103 == .reconnect)
        #expect(!machine.isFinished)
    }

    @Test func theCallersCancellationAndAClosedClientEndIt() {
        var cancelled = WatchStateMachine(resumingFrom: nil)
        _ = cancelled.opening()
        let ending = cancelled.ended(RPCError(code: .cancelled, message: "x"), cause: .cancelledByCaller)
        guard case .fail(let error) = ending else {
            Issue.record("cancellation did not fail the watch: \(ending)")
            return
        }
        #expect(error.code == .cancelled)
        #expect(cancelled.isFinished)

        var closed = WatchStateMachine(resumingFrom: nil)
        _ = closed.opening()
        let r104 = closed.ended(RPCError(code: .unavailable, message: "closed"), cause: .clientClosed)
        #expect(r104 == .finish)
        #expect(closed.isFinished)

        var silent = WatchStateMachine(resumingFrom: nil)
        _ = silent.opening()
        let r105 = silent.ended(RPCError(code: .unavailable, message: "closed"), cause: .silent)
        #expect(r105 == .reconnect)
    }
}
