import Codec
import RPC

extension TimerServiceImplementation {
    public func syncTimers(_ request: SyncTimersRequest, context: ServerContext) async throws -> SyncTimersResponse {
        throw Self.notYet("SyncTimers")
    }
}
