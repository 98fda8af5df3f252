import Codec

/// What the commands print for people: timers as lines and tables, totals,
/// sessions, health and sync reports. Times shown in the zone `offset` gives.
package enum TimerText {
    /// One timer on one line, id first: `42  running  1h 02m 03s  93.08 USD  Design review`.
    package static func line(_ timer: VaultTimer) -> String {
        let seconds = timer.reportedSeconds
        var parts = [String(timer.id), HumanText.status(timer.status), HumanText.duration(seconds)]
        if let value = timer.value(ofSeconds: seconds) { parts.append(HumanText.money(value)) }
        parts.append(HumanText.sanitized(timer.description))
        return parts.joined(separator: "  ")
    }

    /// The columns of a list of timers.
    package static func timerTable() -> Table {
        Table([.init("ID", .right), .init("STATUS"), .init("DURATION", .right), .init("VALUE", .right), .init("DESCRIPTION")])
    }

    /// One row of `timerTable()`: the timer with `seconds` tracked.
    package static func timerRow(_ timer: VaultTimer, seconds: Int64) -> [String] {
        [
            String(timer.id),
            HumanText.status(timer.status),
            HumanText.duration(seconds),
            timer.value(ofSeconds: seconds).map(HumanText.money) ?? "-",
            HumanText.sanitized(timer.description),
        ]
    }

    /// Timers as a table with their reported figures, then the totals (when
    /// `meta` is given); `empty` when there are none.
    package static func timers(_ timers: [VaultTimer], meta: Meta?, empty: String, width: Int? = nil) -> [String] {
        var lines: [String] = []
        if timers.isEmpty {
            lines.append(empty)
        } else {
            var table = timerTable()
            for timer in timers { table.append(timerRow(timer, seconds: timer.reportedSeconds)) }
            lines += table.render(width: width)
        }
        if let meta, !(timers.isEmpty && meta.activeCount == 0) {
            lines.append("")
            lines.append(summary(active: meta.activeCount, running: meta.runningCount, paused: meta.pausedCount,
                                 seconds: meta.totalActiveDuration, values: meta.totalActiveValue))
        }
        return lines
    }

    /// `2 active (1 running, 1 paused), 1h 14m 03s, 111.08 USD`; `no active timers`.
    package static func summary(active: Int64, running: Int64, paused: Int64, seconds: Int64, values: [Money]) -> String {
        guard active > 0 else { return "no active timers" }
        var text = "\(active) active (\(running) running, \(paused) paused), \(HumanText.duration(seconds))"
        if !values.isEmpty { text += ", " + HumanText.money(values) }
        return text
    }

    /// A timer's sessions as a table, then their count and total.
    package static func sessions(_ sessions: [TimerSession], offset: Time.UTCOffset) -> [String] {
        guard !sessions.isEmpty else { return ["no sessions (the timer has never run)"] }
        var table = Table([.init("#", .right), .init("STARTED"), .init("ENDED"), .init("DURATION", .right), .init("DEVICE")])
        var total: Int64 = 0
        for (index, session) in sessions.enumerated() {
            table.append([
                String(index + 1),
                session.startedAt.map { Time.localDateTime($0, offset: offset) } ?? "-",
                session.endedAt.map { Time.localDateTime($0, offset: offset) } ?? "running",
                HumanText.duration(session.duration),
                HumanText.sanitized(session.deviceID),
            ])
            total = total.addingReportingOverflow(session.duration).overflow ? .max : total + session.duration
        }
        return table.render() + ["", "\(sessions.count) session\(sessions.count == 1 ? "" : "s"), \(HumanText.duration(total))"]
    }

    /// The health figures, one per line.
    package static func health(_ health: GetSystemHealthResponse, offset: Time.UTCOffset) -> [String] {
        func state(_ value: HealthState) -> String {
            JSONNames.healthState(value).map { $0 == "ok" ? "OK" : $0 } ?? "state \(value.rawValue)"
        }
        var table = Table([.init(""), .init("")])
        table.append(["service", state(health.status)])
        table.append(["database", state(health.databaseConnectivity)])
        table.append(["redis", state(health.redisConnectivity)])
        table.append(["event bus", state(health.broadcastChannelHealth)])
        table.append(["active timers", String(health.activeTimersCount)])
        table.append(["sync queue", String(health.syncQueueSize)])
        if let average = health.averageResponseTime, (0..<1_000_000).contains(average.seconds) {
            let microseconds = average.seconds * 1_000_000 + Int64(average.nanos) / 1_000
            table.append(["response time", "\(HumanText.decimal(milliseconds: microseconds)) ms average"])
        }
        if let checked = health.checkedAt { table.append(["checked at", Time.localDateTime(checked, offset: offset)]) }
        return table.render(header: false)
    }

    /// What a sync did: a line per device timer, the conflicts, and the
    /// server's timers the device did not mention.
    package static func sync(_ response: SyncTimersResponse, device: String) -> [String] {
        let count = response.results.count
        var lines = ["synced \(count) timer\(count == 1 ? "" : "s") from \(HumanText.sanitized(device))"
            + (response.clockSkewSeconds == 0 ? "" : " (device clock \(skew(response.clockSkewSeconds)))")]
        if !response.results.isEmpty {
            var table = Table([.init("#", .right), .init("RESOLUTION"), .init("ID", .right), .init("STATUS"),
                               .init("DURATION", .right), .init("DESCRIPTION")])
            for result in response.results {
                let timer = result.timer
                var description = timer.map { HumanText.sanitized($0.description) } ?? ""
                if result.resolution == .rejected, let status = result.status {
                    description = "rejected: " + HumanText.sanitized(status.message)
                }
                table.append([
                    String(result.index),
                    resolution(result.resolution),
                    timer.map { String($0.id) } ?? "-",
                    timer.map { HumanText.status($0.status) } ?? "-",
                    timer.map { HumanText.duration($0.reportedSeconds) } ?? "-",
                    description,
                ])
            }
            lines += table.render()
        }
        if !response.conflicts.isEmpty {
            lines.append("")
            lines.append("conflicts:")
            for conflict in response.conflicts {
                lines.append("  timer \(conflict.timerID): " + Self.conflict(conflict))
            }
        }
        if !response.serverTimers.isEmpty {
            lines.append("")
            lines.append("on the server, not on the device:")
            var table = timerTable()
            for timer in response.serverTimers { table.append(timerRow(timer, seconds: timer.reportedSeconds)) }
            lines += table.render().map { "  " + $0 }
        }
        return lines
    }

    /// `status_mismatch: device stopped, server running; server wins (device v3, server v5)`.
    package static func conflict(_ conflict: Conflict) -> String {
        let kind = JSONNames.conflictType(conflict.conflictType) ?? "conflict \(conflict.conflictType.rawValue)"
        let outcome = conflict.resolution == .serverWins ? "server wins" : (JSONNames.conflictResolution(conflict.resolution) ?? "?")
        return "\(kind): device \(HumanText.status(conflict.localStatus)), server \(HumanText.status(conflict.serverStatus)); "
            + "\(outcome) (device v\(conflict.localSyncVersion), server v\(conflict.serverSyncVersion))"
    }

    static func resolution(_ value: SyncResolution) -> String {
        (JSONNames.resolution(value) ?? "resolution \(value.rawValue)").replacingUnderscores
    }

    static func skew(_ seconds: Int64) -> String {
        seconds > 0 ? "\(HumanText.duration(seconds)) ahead" : "\(HumanText.duration(-seconds)) behind"
    }

    /// One live event on one line (for `watch` when standard output is not a
    /// terminal): `12:00:01  started  42  running  0s  0.00 USD  Design review  (laptop)`.
    package static func event(_ event: TimerEvent, offset: Time.UTCOffset) -> String? {
        let time = event.occurredAt.map { Time.localDateTime($0, offset: offset) } ?? "-"
        switch event.type {
        case .heartbeat:
            return nil
        case .snapshot:
            let running = event.timers.filter { $0.status == .running }.count
            return "\(time)  snapshot  \(event.timers.count) active, \(running) running"
        default:
            let kind = JSONNames.eventType(event.type) ?? "event \(event.type.rawValue)"
            guard let timer = event.timer else { return "\(time)  \(kind)" }
            var text = "\(time)  \(kind)  " + line(timer)
            let source = changeSource(event, timer: timer)
            if !source.isEmpty { text += "  (\(source))" }
            return text
        }
    }

    /// Who made a change: the device, and the cause when it was not the owner's call.
    package static func changeSource(_ event: TimerEvent, timer: VaultTimer) -> String {
        var parts: [String] = []
        if !timer.deviceID.isEmpty { parts.append(HumanText.sanitized(timer.deviceID)) }
        switch event.cause {
        case .sync: parts.append("sync")
        case .autoPause: parts.append("auto-pause")
        case .admin: parts.append("admin")
        case .unspecified, .unrecognized: break
        }
        return parts.joined(separator: ", ")
    }
}

extension HumanText {
    /// `1.25` for 1250 µs: milliseconds with up to three decimals.
    static func decimal(milliseconds microseconds: Int64) -> String {
        let whole = microseconds / 1_000, fraction = (microseconds % 1_000).magnitude
        guard fraction > 0 else { return String(whole) }
        var text = String(fraction).leftPadded(to: 3)
        while text.hasSuffix("0") { text.removeLast() }
        return "\(whole).\(text)"
    }
}

extension String {
    var replacingUnderscores: String {
        String(map { $0 == "_" ? " " : $0 })
    }
}
