import Codec

/// A device's offline changes as `timerctl sync` takes them: a JSON document
/// (`--file`), or one timer described by flags. Either becomes a
/// `SyncTimersRequest`. Times are RFC 3339, `now`, or spans before now
/// (`-15m`, `-1h30m`).
///
/// The document (keys as in `--json` output; only `timers` is required):
///
/// ```json
/// {
///   "device_id": "laptop",
///   "last_sync": "2026-05-01T09:00:00Z",
///   "timers": [
///     {"id": 42, "sync_version": 3, "transitions": [{"action": "pause", "at": "-20m"}]},
///     {"client_ref": "0b6f3c1e-8f0e-4f57-9d1c-2f7d8c1e5a10", "account_id": 1,
///      "description": "Notes on the train", "started_at": "-1h",
///      "transitions": [{"action": "stop", "at": "-10m"}]}
///   ]
/// }
/// ```
///
/// A timer's `status` may be left out: it is what its last transition leads
/// to (pause: paused, resume: running, stop: stopped), or running for a
/// timer created offline without transitions. `last_updated`, when left out,
/// is its last transition's time.
package enum SyncInput {
    /// One device timer as flags give it.
    package struct TimerFlags: Sendable {
        package var id: Int64?
        package var clientRef: String?
        package var accountID: Int64?
        package var projectID: Int64?
        package var billingRateID: Int64?
        package var description: String?
        package var status: String?
        package var startedAt: String?
        package var lastUpdated: String?
        package var syncVersion: Int64?
        /// `ACTION@TIME`, e.g. `pause@-20m`, in the order they happened.
        package var transitions: [String] = []

        package init() {}

        /// Whether any flag describing a timer was given.
        package var isEmpty: Bool {
            id == nil && clientRef == nil && accountID == nil && projectID == nil && billingRateID == nil
                && description == nil && status == nil && startedAt == nil && lastUpdated == nil
                && syncVersion == nil && transitions.isEmpty
        }
    }

    /// The request a JSON document describes; `device` (when given) names the
    /// device over the document's `device_id`; `now` resolves relative times
    /// and is the device time when the document gives none.
    package static func request(json text: String, device: String?, now: Timestamp) throws(TimerctlError) -> SyncTimersRequest {
        let document: JSONValue
        do {
            document = try JSONValue.parse(text)
        } catch {
            throw TimerctlError("the sync file is not JSON: \(error)")
        }
        guard let members = document.members else {
            throw TimerctlError("the sync file must hold a JSON object with \"timers\", not \(document.kindName)")
        }
        var request = SyncTimersRequest()
        var sawTimers = false
        for member in members {
            switch member.key {
            case "device_id": request.deviceID = try string(member.value, "device_id")
            case "device_time": request.deviceTime = try time(member.value, "device_time", now: now)
            case "last_sync": request.lastSync = try time(member.value, "last_sync", now: now)
            case "timers":
                sawTimers = true
                guard let elements = member.value.arrayValue else {
                    throw TimerctlError("sync file: timers must be an array, not \(member.value.kindName)")
                }
                for (index, element) in elements.enumerated() {
                    request.timers.append(try deviceTimer(element, path: "timers[\(index)]", now: now))
                }
            default:
                throw TimerctlError("sync file: unknown field \"\(HumanText.sanitized(member.key))\" (known: device_id, device_time, last_sync, timers)")
            }
        }
        guard sawTimers else { throw TimerctlError("sync file: \"timers\" is missing") }
        if let device { request.deviceID = device }
        if request.deviceID.isEmpty { request.deviceID = "timerctl" }
        if request.deviceTime == nil { request.deviceTime = now }
        return request
    }

    /// The device timer that flags describe. `newClientRef` makes the
    /// idempotency key for a timer created offline without `--client-ref`.
    package static func deviceTimer(_ flags: TimerFlags, now: Timestamp, newClientRef: () -> String) throws(TimerctlError) -> DeviceTimer {
        var timer = DeviceTimer()
        timer.id = flags.id
        timer.clientRef = flags.clientRef ?? (flags.id == nil ? newClientRef() : "")
        timer.accountID = flags.accountID ?? 0
        timer.projectID = flags.projectID
        timer.billingRateID = flags.billingRateID
        timer.description = flags.description ?? ""
        timer.syncVersion = flags.syncVersion ?? 0
        for text in flags.transitions {
            let parts = text.split(separator: "@", maxSplits: 1)
            guard parts.count == 2 else {
                throw TimerctlError("--transition \(quoted(text)): expected ACTION@TIME, e.g. pause@-20m", exitStatus: ExitStatus.usage)
            }
            var transition = DeviceTransition()
            guard let action = action(String(parts[0])) else {
                throw TimerctlError("--transition \(quoted(text)): the action must be pause, resume or stop", exitStatus: ExitStatus.usage)
            }
            transition.action = action
            guard let at = Time.parseDeviceTime(String(parts[1]), now: now) else {
                throw TimerctlError("--transition \(quoted(text)): \(timeHelp)", exitStatus: ExitStatus.usage)
            }
            transition.at = at
            timer.transitions.append(transition)
        }
        if let text = flags.startedAt {
            guard let at = Time.parseDeviceTime(text, now: now) else { throw TimerctlError("--started-at \(quoted(text)): \(timeHelp)", exitStatus: ExitStatus.usage) }
            timer.startedAt = at
        }
        if let text = flags.lastUpdated {
            guard let at = Time.parseDeviceTime(text, now: now) else { throw TimerctlError("--last-updated \(quoted(text)): \(timeHelp)", exitStatus: ExitStatus.usage) }
            timer.lastUpdated = at
        }
        if let text = flags.status {
            guard let status = status(text) else {
                throw TimerctlError("--status \(quoted(text)): must be running, paused or stopped", exitStatus: ExitStatus.usage)
            }
            timer.status = status
        }
        try complete(&timer, path: nil)
        return timer
    }

    /// Fills what may be left out: the status and `last_updated` from the
    /// last transition.
    private static func complete(_ timer: inout DeviceTimer, path: String?) throws(TimerctlError) {
        if timer.status == .unspecified {
            if let last = timer.transitions.last {
                switch last.action {
                case .pause: timer.status = .paused
                case .resume: timer.status = .running
                default: timer.status = .stopped
                }
            } else if timer.id == nil {
                timer.status = .running
            } else {
                let message = path.map { "sync file: \($0): give its status or its transitions" }
                    ?? "say what the device did: --transition ACTION@TIME (or --status)"
                throw TimerctlError(message, exitStatus: path == nil ? ExitStatus.usage : ExitStatus.failure)
            }
        }
        if timer.lastUpdated == nil, let last = timer.transitions.last?.at { timer.lastUpdated = last }
    }

    private static func deviceTimer(_ value: JSONValue, path: String, now: Timestamp) throws(TimerctlError) -> DeviceTimer {
        guard let members = value.members else { throw TimerctlError("sync file: \(path) must be an object, not \(value.kindName)") }
        var timer = DeviceTimer()
        for member in members {
            let field = "\(path).\(member.key)"
            let value = member.value
            switch member.key {
            case "id": timer.id = try optionalInteger(value, field)
            case "client_ref": timer.clientRef = try string(value, field)
            case "account_id": timer.accountID = try optionalInteger(value, field) ?? 0
            case "project_id": timer.projectID = try optionalInteger(value, field)
            case "billing_rate_id": timer.billingRateID = try optionalInteger(value, field)
            case "description": timer.description = try string(value, field)
            case "status":
                let text = try string(value, field)
                guard let status = status(text) else { throw TimerctlError("sync file: \(field) must be running, paused or stopped, not \(quoted(text))") }
                timer.status = status
            case "started_at": timer.startedAt = try time(value, field, now: now)
            case "last_updated": timer.lastUpdated = try time(value, field, now: now)
            case "sync_version": timer.syncVersion = try optionalInteger(value, field) ?? 0
            case "transitions":
                guard let elements = value.arrayValue else { throw TimerctlError("sync file: \(field) must be an array, not \(value.kindName)") }
                for (index, element) in elements.enumerated() {
                    let at = "\(field)[\(index)]"
                    guard let fields = element.members else { throw TimerctlError("sync file: \(at) must be an object, not \(element.kindName)") }
                    var transition = DeviceTransition()
                    for fieldMember in fields {
                        switch fieldMember.key {
                        case "action":
                            let text = try string(fieldMember.value, "\(at).action")
                            guard let action = action(text) else {
                                throw TimerctlError("sync file: \(at).action must be pause, resume or stop, not \(quoted(text))")
                            }
                            transition.action = action
                        case "at":
                            transition.at = try time(fieldMember.value, "\(at).at", now: now)
                        default:
                            throw TimerctlError("sync file: \(at): unknown field \"\(HumanText.sanitized(fieldMember.key))\" (known: action, at)")
                        }
                    }
                    guard transition.action != .unspecified else { throw TimerctlError("sync file: \(at).action is missing") }
                    guard transition.at != nil else { throw TimerctlError("sync file: \(at).at is missing") }
                    timer.transitions.append(transition)
                }
            default:
                throw TimerctlError("sync file: \(path): unknown field \"\(HumanText.sanitized(member.key))\"")
            }
        }
        try complete(&timer, path: path)
        return timer
    }

    package static let timeHelp = "times are RFC 3339 (2026-05-01T10:00:00Z), now, or a span before now (-15m, -1h30m, -2d)"

    private static func string(_ value: JSONValue, _ field: String) throws(TimerctlError) -> String {
        guard let text = value.stringValue else { throw TimerctlError("sync file: \(field) must be a string, not \(value.kindName)") }
        return text
    }

    private static func optionalInteger(_ value: JSONValue, _ field: String) throws(TimerctlError) -> Int64? {
        if value.isNull { return nil }
        guard let number = value.integerValue else { throw TimerctlError("sync file: \(field) must be a whole number, not \(value.kindName)") }
        return number
    }

    private static func time(_ value: JSONValue, _ field: String, now: Timestamp) throws(TimerctlError) -> Timestamp? {
        if value.isNull { return nil }
        let text = try string(value, field)
        guard let time = Time.parseDeviceTime(text, now: now) else {
            throw TimerctlError("sync file: \(field) \(quoted(text)): \(timeHelp)")
        }
        return time
    }

    static func action(_ text: String) -> TimerAction? {
        switch text.lowercased() {
        case "pause": .pause
        case "resume": .resume
        case "stop": .stop
        default: nil
        }
    }

    static func status(_ text: String) -> TimerStatus? {
        switch text.lowercased() {
        case "running": .running
        case "paused": .paused
        case "stopped": .stopped
        default: nil
        }
    }

    static func quoted(_ text: String) -> String {
        "\"" + HumanText.sanitized(String(text.prefix(80))) + "\""
    }
}
