// Typed conveniences: one method per TimerService call, taking the request's
// fields as parameters and returning the response message. Each makes one
// call through `service` (token, default deadline, retries as documented on
// `TimerClient`) and throws `TimerClientError`. `options` sets a deadline
// (`timeout`) or adds metadata for that call alone.
extension TimerClient {
    /// Runs `body` with the generated client, its error as ``TimerClientError``.
    func call<Response>(
        _ body: (TimerServiceClient) async throws(RPCError) -> Response
    ) async throws(TimerClientError) -> Response {
        do {
            return try await body(service)
        } catch {
            throw TimerClientError(error)
        }
    }

    private func device(_ deviceID: String?) -> String { deviceID ?? configuration.deviceID }

    // MARK: Timers

    /// Creates a timer (CreateTimer), running unless `start` is false.
    ///
    /// - Parameters:
    ///   - clientRef: the idempotency key; nil makes a fresh one
    ///     (``newClientRef()``), so the call is retried safely after
    ///     `UNAVAILABLE`. A key used before returns the timer made then, with
    ///     `created` false.
    ///   - deviceID: nil sends ``Configuration/deviceID``.
    public func createTimer(
        accountID: Int64, description: String, projectID: Int64? = nil, billingRateID: Int64? = nil,
        clientRef: String? = nil, deviceID: String? = nil, start: Bool = true, options: CallOptions = CallOptions()
    ) async throws(TimerClientError) -> CreateTimerResponse {
        var request = CreateTimerRequest()
        request.accountID = accountID
        request.description = description
        request.projectID = projectID
        request.billingRateID = billingRateID
        request.clientRef = clientRef ?? Self.newClientRef()
        request.deviceID = device(deviceID)
        request.start = start
        return try await call { (service) async throws(RPCError) in try await service.createTimer(request, options: options) }
    }

    /// One timer (GetTimer), with the caller's figures.
    public func getTimer(_ id: Int64, options: CallOptions = CallOptions()) async throws(TimerClientError) -> GetTimerResponse {
        var request = GetTimerRequest()
        request.id = id
        return try await call { (service) async throws(RPCError) in try await service.getTimer(request, options: options) }
    }

    /// One page of the caller's timers, newest first (ListTimers). Filters
    /// combine with AND; pass the response's `nextPageToken` as `pageToken`
    /// (with the same filters) for the next page; ``allTimers(statuses:accountID:projectID:createdAfter:createdBefore:options:)``
    /// reads every page.
    ///
    /// - Parameters:
    ///   - statuses: only timers in one of these states; empty: any.
    ///   - createdAfter: only timers created at or after this instant.
    ///   - createdBefore: only timers created before this instant.
    ///   - pageSize: 1 to 500; 0 for the server's default (50).
    public func listTimers(
        statuses: [TimerStatus] = [], accountID: Int64? = nil, projectID: Int64? = nil,
        createdAfter: Timestamp? = nil, createdBefore: Timestamp? = nil, pageSize: Int32 = 0, pageToken: String = "",
        options: CallOptions = CallOptions()
    ) async throws(TimerClientError) -> ListTimersResponse {
        var request = ListTimersRequest()
        request.statuses = statuses
        request.accountID = accountID
        request.projectID = projectID
        request.createdAfter = createdAfter
        request.createdBefore = createdBefore
        request.pageSize = pageSize
        request.pageToken = pageToken
        return try await call { (service) async throws(RPCError) in try await service.listTimers(request, options: options) }
    }

    /// Every timer matching the filters, newest first: ListTimers page after
    /// page (500 a page) until the last. `options` applies to each page.
    public func allTimers(
        statuses: [TimerStatus] = [], accountID: Int64? = nil, projectID: Int64? = nil,
        createdAfter: Timestamp? = nil, createdBefore: Timestamp? = nil, options: CallOptions = CallOptions()
    ) async throws(TimerClientError) -> [VaultTimer] {
        var timers: [VaultTimer] = []
        var token = ""
        repeat {
            let page = try await listTimers(statuses: statuses, accountID: accountID, projectID: projectID,
                                            createdAfter: createdAfter, createdBefore: createdBefore, pageSize: 500,
                                            pageToken: token, options: options)
            timers += page.timers
            token = page.nextPageToken
        } while !token.isEmpty
        return timers
    }

    /// The caller's running and paused timers with their figures
    /// (GetActiveTimers), optionally of one account only.
    public func activeTimers(accountID: Int64? = nil, options: CallOptions = CallOptions()) async throws(TimerClientError)
        -> GetActiveTimersResponse
    {
        var request = GetActiveTimersRequest()
        request.accountID = accountID
        return try await call { (service) async throws(RPCError) in try await service.getActiveTimers(request, options: options) }
    }

    /// Pauses a running timer (PauseTimer).
    ///
    /// - Parameter expectedSyncVersion: the timer's `syncVersion` as last
    ///   seen: the call fails with `ABORTED` if someone changed the timer
    ///   since, and is retried safely after `UNAVAILABLE` (a re-sent pause
    ///   that was applied answers OK). nil: no check, no retry.
    public func pause(_ id: Int64, expectedSyncVersion: Int64? = nil, deviceID: String? = nil,
                      options: CallOptions = CallOptions()) async throws(TimerClientError) -> PauseTimerResponse {
        var request = PauseTimerRequest()
        request.id = id
        request.expectedSyncVersion = expectedSyncVersion
        request.deviceID = device(deviceID)
        return try await call { (service) async throws(RPCError) in try await service.pauseTimer(request, options: options) }
    }

    /// Resumes a paused timer (ResumeTimer); `expectedSyncVersion` as for
    /// ``pause(_:expectedSyncVersion:deviceID:options:)``.
    public func resume(_ id: Int64, expectedSyncVersion: Int64? = nil, deviceID: String? = nil,
                       options: CallOptions = CallOptions()) async throws(TimerClientError) -> ResumeTimerResponse {
        var request = ResumeTimerRequest()
        request.id = id
        request.expectedSyncVersion = expectedSyncVersion
        request.deviceID = device(deviceID)
        return try await call { (service) async throws(RPCError) in try await service.resumeTimer(request, options: options) }
    }

    /// Stops a running or paused timer for good (StopTimer);
    /// `expectedSyncVersion` as for ``pause(_:expectedSyncVersion:deviceID:options:)``.
    public func stop(_ id: Int64, expectedSyncVersion: Int64? = nil, deviceID: String? = nil,
                     options: CallOptions = CallOptions()) async throws(TimerClientError) -> StopTimerResponse {
        var request = StopTimerRequest()
        request.id = id
        request.expectedSyncVersion = expectedSyncVersion
        request.deviceID = device(deviceID)
        return try await call { (service) async throws(RPCError) in try await service.stopTimer(request, options: options) }
    }

    /// Changes a timer's description, project or billing rate (UpdateTimer);
    /// nil leaves a field as it is, and 0 removes the project or the rate.
    /// `expectedSyncVersion` as for ``pause(_:expectedSyncVersion:deviceID:options:)``.
    public func update(
        _ id: Int64, description: String? = nil, projectID: Int64? = nil, billingRateID: Int64? = nil,
        expectedSyncVersion: Int64? = nil, deviceID: String? = nil, options: CallOptions = CallOptions()
    ) async throws(TimerClientError) -> UpdateTimerResponse {
        var request = UpdateTimerRequest()
        request.id = id
        request.description = description
        request.projectID = projectID
        request.billingRateID = billingRateID
        request.expectedSyncVersion = expectedSyncVersion
        request.deviceID = device(deviceID)
        return try await call { (service) async throws(RPCError) in try await service.updateTimer(request, options: options) }
    }

    /// Soft-deletes a timer, stopping it first if it runs (DeleteTimer);
    /// `expectedSyncVersion` as for ``pause(_:expectedSyncVersion:deviceID:options:)``.
    public func delete(_ id: Int64, expectedSyncVersion: Int64? = nil, deviceID: String? = nil,
                       options: CallOptions = CallOptions()) async throws(TimerClientError) -> DeleteTimerResponse {
        var request = DeleteTimerRequest()
        request.id = id
        request.expectedSyncVersion = expectedSyncVersion
        request.deviceID = device(deviceID)
        return try await call { (service) async throws(RPCError) in try await service.deleteTimer(request, options: options) }
    }

    /// Applies `action` to the timers `ids`, or to all active ones
    /// (BulkTimers), with a result per timer. Never retried: a re-sent bulk
    /// action is not recognised as one.
    public func bulk(_ action: BulkAction, ids: [Int64] = [], allActive: Bool = false, deviceID: String? = nil,
                     options: CallOptions = CallOptions()) async throws(TimerClientError) -> BulkTimersResponse {
        var request = BulkTimersRequest()
        request.action = action
        request.ids = ids
        request.allActive = allActive
        request.deviceID = device(deviceID)
        return try await call { (service) async throws(RPCError) in try await service.bulkTimers(request, options: options) }
    }

    /// One page of a timer's RUNNING spans, oldest first (ListTimerSessions).
    ///
    /// - Parameter pageSize: 1 to 1,000; 0 for the server's default (100).
    public func sessions(_ id: Int64, pageSize: Int32 = 0, pageToken: String = "",
                         options: CallOptions = CallOptions()) async throws(TimerClientError) -> ListTimerSessionsResponse {
        var request = ListTimerSessionsRequest()
        request.id = id
        request.pageSize = pageSize
        request.pageToken = pageToken
        return try await call { (service) async throws(RPCError) in try await service.listTimerSessions(request, options: options) }
    }

    /// The service's health figures (GetSystemHealth).
    public func health(options: CallOptions = CallOptions()) async throws(TimerClientError) -> GetSystemHealthResponse {
        try await call { (service) async throws(RPCError) in try await service.getSystemHealth(GetSystemHealthRequest(), options: options) }
    }

    /// Reconciles a device's timers with the server's (SyncTimers): one
    /// result per device timer, conflicts, and the server timers the device
    /// should learn. Limited by the server to 120 calls a minute per user
    /// (`RESOURCE_EXHAUSTED`, with ``TimerClientError/retryAfter``);
    /// ``OfflineSync`` keeps within it.
    public func sync(_ request: SyncTimersRequest, options: CallOptions = CallOptions()) async throws(TimerClientError)
        -> SyncTimersResponse
    {
        try await call { (service) async throws(RPCError) in try await service.syncTimers(request, options: options) }
    }

    // MARK: Administration (ability timers:admin)

    /// One page of the running and paused timers of every user in the
    /// accounts the caller administers (AdminListActiveTimers).
    public func adminActiveTimers(accountID: Int64? = nil, pageSize: Int32 = 0, pageToken: String = "",
                                  options: CallOptions = CallOptions()) async throws(TimerClientError)
        -> AdminListActiveTimersResponse
    {
        var request = AdminListActiveTimersRequest()
        request.accountID = accountID
        request.pageSize = pageSize
        request.pageToken = pageToken
        return try await call { (service) async throws(RPCError) in
            try await service.adminListActiveTimers(request, options: options)
        }
    }

    /// Pauses another user's timer in an account the caller administers
    /// (AdminPauseTimer); `reason` goes to the audit trail.
    public func adminPause(_ id: Int64, reason: String = "", options: CallOptions = CallOptions()) async throws(TimerClientError)
        -> AdminPauseTimerResponse
    {
        var request = AdminPauseTimerRequest()
        request.id = id
        request.reason = reason
        return try await call { (service) async throws(RPCError) in try await service.adminPauseTimer(request, options: options) }
    }

    /// Resumes another user's timer in an account the caller administers
    /// (AdminResumeTimer).
    public func adminResume(_ id: Int64, reason: String = "", options: CallOptions = CallOptions()) async throws(TimerClientError)
        -> AdminResumeTimerResponse
    {
        var request = AdminResumeTimerRequest()
        request.id = id
        request.reason = reason
        return try await call { (service) async throws(RPCError) in try await service.adminResumeTimer(request, options: options) }
    }

    /// Stops another user's timer in an account the caller administers
    /// (AdminStopTimer).
    public func adminStop(_ id: Int64, reason: String = "", options: CallOptions = CallOptions()) async throws(TimerClientError)
        -> AdminStopTimerResponse
    {
        var request = AdminStopTimerRequest()
        request.id = id
        request.reason = reason
        return try await call { (service) async throws(RPCError) in try await service.adminStopTimer(request, options: options) }
    }
}
