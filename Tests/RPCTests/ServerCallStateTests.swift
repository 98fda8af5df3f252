import Testing
@testable import RPC

/// The gRPC rules of one server stream, event by event.
@Suite("Server call state machine")
struct ServerCallStateTests {
    @Test("a status before any message goes out trailers-only, and only once")
    func trailersOnly() {
        var state = ServerCallState()
        #expect(state.canRespond)
        let r1 = state.finish()

        #expect(r1 == .trailersOnly)
        #expect(!state.canRespond)
        let r2 = state.finish()

        #expect(r2 == .none)
        let r3 = state.sendHeaders()

        #expect(!r3)
    }

    @Test("headers once before the first message, then trailers")
    func headersThenTrailers() {
        var state = ServerCallState()
        let r4 = state.sendHeaders()

        #expect(r4)
        let r5 = state.sendHeaders()

        #expect(!r5)
        let r6 = state.finish()

        #expect(r6 == .trailers)
        #expect(state.failure?.code == .cancelled)  // A handler still reading learns the call ended.
    }

    @Test("the request side ends once; data after the end is not taken")
    func requestEnd() {
        var state = ServerCallState()
        #expect(state.acceptsRequestData)
        let r7 = state.requestEnded()

        #expect(r7)
        let r8 = state.requestEnded()

        #expect(!r8)
        #expect(state.requestFinished)
        #expect(!state.acceptsRequestData)
        #expect(state.failure == nil)
    }

    @Test("a reset stream ends both sides; nothing may be sent after it")
    func reset() {
        var state = ServerCallState()
        let r9 = state.sendHeaders()

        #expect(r9)
        let r10 = state.streamClosed()

        #expect(r10)  // in progress: the handler must be cancelled
        #expect(!state.canRespond)
        let r11 = state.finish()

        #expect(r11 == .none)
        #expect(!state.acceptsRequestData)
        #expect(state.failure?.code == .cancelled)
        let r12 = state.streamClosed()

        #expect(!r12)
    }

    @Test("the normal close after our status is not a cancellation")
    func closeAfterStatus() {
        var state = ServerCallState()
        _ = state.requestEnded()
        let r13 = state.finish()

        #expect(r13 == .trailersOnly)
        let r14 = state.streamClosed()

        #expect(!r14)
    }
}
