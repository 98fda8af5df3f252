/// A request that may be sent again after `UNAVAILABLE` without risk of
/// applying a change twice.
///
/// The runtime retries a unary call only when its request conforms and says
/// ``isSafeToRetry``; every other request (BulkTimers, the admin actions,
/// transitions without `expected_sync_version`) is sent once.
protocol RetrySafeRequest {
    /// Whether this request, sent again, changes nothing its first copy did not.
    var isSafeToRetry: Bool { get }
}

// Reads.
extension GetTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }
extension ListTimersRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }
extension GetActiveTimersRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }
extension ListTimerSessionsRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }
extension GetSystemHealthRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }
extension AdminListActiveTimersRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }

// Writes with their own idempotency key: a re-sent copy is recognised by
// the server and answered without a second change.
extension CreateTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { !clientRef.isEmpty } }
extension PauseTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { expectedSyncVersion != nil } }
extension ResumeTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { expectedSyncVersion != nil } }
extension StopTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { expectedSyncVersion != nil } }
extension UpdateTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { expectedSyncVersion != nil } }
extension DeleteTimerRequest: RetrySafeRequest { var isSafeToRetry: Bool { expectedSyncVersion != nil } }

// SyncTimers: timers created offline carry a client_ref (required), and
// offline transitions the server already recorded are recognised by
// device, action and device time, so a re-sent sync writes nothing twice.
extension SyncTimersRequest: RetrySafeRequest { var isSafeToRetry: Bool { true } }
