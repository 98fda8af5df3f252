import ClientLib
import Synchronization

/// An in-process gRPC server answering a few TimerService methods as a test
/// scripts them, and recording what it saw: for the runtime's own rules
/// (metadata, deadlines, retries, cancellation, resumes) without a database.
final class ScriptedServer: Sendable {
    /// What one unary call gets.
    enum Reply: Sendable {
        /// The method's normal answer.
        case answer
        /// This status.
        case fail(RPCError)
        /// Nothing, until the call is cancelled or its deadline passes.
        case hang
    }

    /// What the server saw of one call.
    struct Seen: Sendable {
        var method: String
        var metadata: Metadata
        var deadline: ContinuousClock.Instant?
        var receivedAt: ContinuousClock.Instant
    }

    let recorder = Recorder()
    let server: GRPCServer

    var port: Int { server.port }
    var address: String { "127.0.0.1:\(server.port)" }

    init() throws {
        server = GRPCServer(configuration: .init(address: "127.0.0.1:0", eventLoops: 1), services: [Service(recorder: recorder)])
        try server.start()
    }

    func shutdown() async {
        await server.shutdown(grace: .seconds(1))
    }

    /// The next calls of `method` (e.g. "GetTimer") get these replies, in
    /// order; after them, `.answer`.
    func script(_ method: String, _ replies: Reply...) {
        recorder.state.withLock { $0.script[method, default: []] += replies }
    }

    /// The next WatchTimers stream sends `events`, then ends with `end` (nil:
    /// stays open until cancelled).
    func planWatch(_ events: [TimerEvent], end: RPCError?) {
        recorder.state.withLock { $0.watchPlans.append(WatchPlan(events: events, end: end)) }
    }

    /// Every call seen, in arrival order.
    var seen: [Seen] { recorder.state.withLock { $0.seen } }

    /// Calls of `method` seen.
    func calls(_ method: String) -> Int { recorder.state.withLock { $0.seen.count { $0.method == method } } }

    /// Methods whose handler was cancelled (the client reset the stream or
    /// the deadline passed), in order.
    var cancelled: [String] { recorder.state.withLock { $0.cancelled } }

    /// The `last_event_id` of each WatchTimers request, in order.
    var watchResumes: [String] { recorder.state.withLock { $0.resumes } }

    struct WatchPlan: Sendable {
        var events: [TimerEvent]
        var end: RPCError?
    }

    /// What the handlers share with the test.
    final class Recorder: Sendable {
        struct State: Sendable {
            var script: [String: [Reply]] = [:]
            var seen: [Seen] = []
            var cancelled: [String] = []
            var watchPlans: [WatchPlan] = []
            var resumes: [String] = []
        }

        let state = Mutex(State())

        func begin(_ method: String, _ context: ServerContext) -> Reply {
            state.withLock { state in
                state.seen.append(Seen(method: method, metadata: context.requestMetadata, deadline: context.deadline,
                                       receivedAt: .now))
                guard var replies = state.script[method], !replies.isEmpty else { return .answer }
                let reply = replies.removeFirst()
                state.script[method] = replies
                return reply
            }
        }

        func waitForCancellation(_ method: String) async throws {
            do {
                try await Task.sleep(for: .seconds(120))
            } catch {
                state.withLock { $0.cancelled.append(method) }
                throw RPCError(code: .cancelled, message: "cancelled")
            }
        }

        func perform<Response>(_ method: String, _ context: ServerContext, _ answer: () -> Response) async throws -> Response {
            switch begin(method, context) {
            case .answer:
                return answer()
            case .fail(let error):
                throw error
            case .hang:
                try await waitForCancellation(method)
                return answer()
            }
        }

        /// WatchTimers: records the resume point, sends the next plan's
        /// events, then ends as it says (without a plan: stays open).
        func watch(_ request: WatchTimersRequest, _ responses: ResponseWriter<TimerEvent>, _ context: ServerContext) async throws {
            _ = begin("WatchTimers", context)
            let plan = state.withLock { state -> WatchPlan? in
                state.resumes.append(request.lastEventID)
                return state.watchPlans.isEmpty ? nil : state.watchPlans.removeFirst()
            }
            for event in plan?.events ?? [] { try await responses.send(event) }
            if let end = plan?.end { throw end }
            try await waitForCancellation("WatchTimers")
        }
    }

    private struct Service: RPCService {
        let recorder: Recorder

        func registerMethods(with router: inout MethodRouter) {
            let recorder = self.recorder
            router.registerUnary(TimerServiceMethods.getTimer) { (request: GetTimerRequest, context) async throws -> GetTimerResponse in
                try await recorder.perform("GetTimer", context) {
                    var response = GetTimerResponse()
                    var timer = VaultTimer()
                    timer.id = request.id
                    response.timer = timer
                    return response
                }
            }
            router.registerUnary(TimerServiceMethods.createTimer) { (request: CreateTimerRequest, context) async throws -> CreateTimerResponse in
                try await recorder.perform("CreateTimer", context) {
                    var response = CreateTimerResponse()
                    var timer = VaultTimer()
                    timer.id = 1
                    timer.description = request.description
                    timer.clientRef = request.clientRef
                    response.timer = timer
                    response.created = true
                    return response
                }
            }
            router.registerUnary(TimerServiceMethods.pauseTimer) { (request: PauseTimerRequest, context) async throws -> PauseTimerResponse in
                try await recorder.perform("PauseTimer", context) {
                    var response = PauseTimerResponse()
                    var timer = VaultTimer()
                    timer.id = request.id
                    timer.status = .paused
                    response.timer = timer
                    return response
                }
            }
            router.registerUnary(TimerServiceMethods.bulkTimers) { (_: BulkTimersRequest, context) async throws -> BulkTimersResponse in
                try await recorder.perform("BulkTimers", context) { BulkTimersResponse() }
            }
            router.registerServerStreaming(TimerServiceMethods.watchTimers) {
                (request: WatchTimersRequest, responses: ResponseWriter<TimerEvent>, context) async throws in
                try await recorder.watch(request, responses, context)
            }
        }
    }
}

/// A TimerEvent of `type` with `id` (and a timer with id `timer`, if not 0).
func event(_ type: TimerEventType, id: String, timer: Int64 = 0) -> TimerEvent {
    var event = TimerEvent()
    event.type = type
    event.eventID = id
    if timer != 0 {
        var value = VaultTimer()
        value.id = timer
        event.timer = value
    }
    return event
}

/// Values gathered by one task and read by another.
final class Collected<Value: Sendable>: Sendable {
    private let values = Mutex<[Value]>([])

    func append(_ value: Value) { values.withLock { $0.append(value) } }

    var all: [Value] { values.withLock { $0 } }
}
