/// Every message type of the Service Vault API, for code that works on any of
/// them: reflection, fuzzing, exhaustive tests.
public enum MessageTypes {
    /// The message types of `servicevault.timer.v1` and the well-known types
    /// they use, in proto file order.
    public static var all: [any ProtoMessage.Type] {
        [
            Timestamp.self, ProtoDuration.self,
            // timer.proto
            Money.self, VaultTimer.self, Meta.self, TimerSession.self, ItemStatus.self,
            // event.proto
            TimerEvent.self,
            // sync.proto
            DeviceTransition.self, DeviceTimer.self, Conflict.self, SyncResult.self,
            // health.proto
            GetSystemHealthRequest.self, GetSystemHealthResponse.self,
            // timer_service.proto
            CreateTimerRequest.self, CreateTimerResponse.self,
            GetTimerRequest.self, GetTimerResponse.self,
            ListTimersRequest.self, ListTimersResponse.self,
            GetActiveTimersRequest.self, GetActiveTimersResponse.self,
            PauseTimerRequest.self, PauseTimerResponse.self,
            ResumeTimerRequest.self, ResumeTimerResponse.self,
            StopTimerRequest.self, StopTimerResponse.self,
            UpdateTimerRequest.self, UpdateTimerResponse.self,
            DeleteTimerRequest.self, DeleteTimerResponse.self,
            BulkResult.self, BulkTimersRequest.self, BulkTimersResponse.self,
            SyncTimersRequest.self, SyncTimersResponse.self,
            ListTimerSessionsRequest.self, ListTimerSessionsResponse.self,
            WatchTimersRequest.self,
            AdminListActiveTimersRequest.self, AdminListActiveTimersResponse.self,
            AdminPauseTimerRequest.self, AdminPauseTimerResponse.self,
            AdminResumeTimerRequest.self, AdminResumeTimerResponse.self,
            AdminStopTimerRequest.self, AdminStopTimerResponse.self,
        ]
    }

    /// The type with a fully qualified protobuf name, if it is one of ``all``.
    public static func named(_ name: String) -> (any ProtoMessage.Type)? {
        all.first { $0.protoMessageName == name }
    }
}
