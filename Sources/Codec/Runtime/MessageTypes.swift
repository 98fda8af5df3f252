/// Every message type of the Service Vault API and of the standard gRPC
/// services it serves, for code that works on any of them: reflection,
/// fuzzing, exhaustive tests.
public enum MessageTypes {
    /// The message types of `servicevault.timer.v1` and the well-known types
    /// they use, in proto file order, then those of the standard gRPC services
    /// the server offers (health, reflection v1 and v1alpha).
    ///
    /// New types go at the end: the fuzzer picks a type by its input's first
    /// byte modulo this count, so appending keeps the type of every kept input
    /// whose first byte is below the old count.
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
            // grpc/health/v1/health.proto
            GRPCHealthV1.HealthCheckRequest.self, GRPCHealthV1.HealthCheckResponse.self,
            // grpc/reflection/v1/reflection.proto
            GRPCReflectionV1.ServerReflectionRequest.self, GRPCReflectionV1.ExtensionRequest.self,
            GRPCReflectionV1.ServerReflectionResponse.self, GRPCReflectionV1.FileDescriptorResponse.self,
            GRPCReflectionV1.ExtensionNumberResponse.self, GRPCReflectionV1.ListServiceResponse.self,
            GRPCReflectionV1.ServiceResponse.self, GRPCReflectionV1.ErrorResponse.self,
            // grpc/reflection/v1alpha/reflection.proto
            GRPCReflectionV1Alpha.ServerReflectionRequest.self, GRPCReflectionV1Alpha.ExtensionRequest.self,
            GRPCReflectionV1Alpha.ServerReflectionResponse.self, GRPCReflectionV1Alpha.FileDescriptorResponse.self,
            GRPCReflectionV1Alpha.ExtensionNumberResponse.self, GRPCReflectionV1Alpha.ListServiceResponse.self,
            GRPCReflectionV1Alpha.ServiceResponse.self, GRPCReflectionV1Alpha.ErrorResponse.self,
        ]
    }

    /// The type with a fully qualified protobuf name, if it is one of ``all``.
    public static func named(_ name: String) -> (any ProtoMessage.Type)? {
        all.first { $0.protoMessageName == name }
    }
}
