// offline-device ACCOUNT PROJECT RATE SENIOR_RATE: a laptop that keeps working offline.
//
// It starts a timer while online (synced by itself), goes offline, pauses that timer
// and records two pieces of work done on a flight hours ago, while a phone stops the
// first timer on the server. Back online, one sync settles everything: the work done
// offline is created on the server, and the paused-versus-stopped disagreement comes
// back as a conflict, which the server wins. TIMERD_ADDRESS and TIMERD_TOKEN say where
// and as whom; the ids are the account's, a project's and two billing rates'.
import ClientLib
import Foundation

let ids = CommandLine.arguments.dropFirst().compactMap { Int64($0) }
guard ids.count == 4 else {
    FileHandle.standardError.write(Data("usage: offline-device ACCOUNT PROJECT RATE SENIOR_RATE\n".utf8))
    exit(2)
}
let (account, project, rate, seniorRate) = (ids[0], ids[1], ids[2], ids[3])

func hours(_ seconds: Int64) -> String {
    let minutes = seconds / 60 % 60
    return "\(seconds / 3600)h \(minutes < 10 ? "0" : "")\(minutes)m"
}

func money(_ value: Money) -> String {
    var scale: Int64 = 1
    for _ in 0..<value.minorUnitDigits { scale *= 10 }
    guard scale > 1 else { return "\(value.amountMinor) \(value.currencyCode)" }
    let fraction = String(value.amountMinor % scale)
    let padding = String(repeating: "0", count: Int(value.minorUnitDigits) - fraction.count)
    return "\(value.amountMinor / scale).\(padding)\(fraction) \(value.currencyCode)"
}

func show(_ report: SyncReport) {
    for item in report.items {
        var line = "  \"\(item.description)\": "
        switch item.resolution {
        case .createOnServer: line += "created on the server"
        case .updateServer: line += "the device's changes were applied"
        case .updateClient: line += "the server's version was kept and adopted"
        case .inSync: line += "already in sync"
        case .rejected: line += "rejected: \(item.status?.message ?? "")"
        default: line += "\(item.resolution)"
        }
        if let timer = item.timer, timer.status == .stopped, let value = timer.currentValue {
            line += ", \(hours(timer.totalDuration)), \(money(value))"
        }
        print(line)
    }
    for item in report.items {
        guard let conflict = item.conflict else { continue }
        let kind = switch conflict.conflictType {
        case .statusMismatch: "status mismatch"
        case .concurrentChange: "both changed it"
        case .deletedOnServer: "deleted on the server"
        default: "\(conflict.conflictType)"
        }
        let outcome = conflict.resolution == .serverWins ? "the server's state wins" : "\(conflict.resolution)"
        print("  conflict on \"\(item.description)\" (\(kind)): this device had it \(conflict.localStatus), "
            + "the server has it \(conflict.serverStatus); \(outcome)")
    }
    for timer in report.learned {
        print("  also on the server: \"\(timer.description)\" (\(timer.status))")
    }
}

let client = try TimerClient(configuration: .fromEnvironment())
let device = OfflineSync(client: client, configuration: .init(deviceID: "laptop"))

/// What the device does, step by step.
func run() async throws {
    var events = device.events.makeAsyncIterator()

    /// The outcome of the next sync the device makes by itself.
    func nextSync() async -> SyncReport {
        while let event = await events.next() {
            switch event {
            case .synced(let report): return report
            case .failed(let error): print("sync failed (\(error)); the changes stay queued and are tried again")
            }
        }
        fatalError("the device was closed")
    }

    // Online: a change syncs by itself, at once.
    let call = await device.start(accountID: account, description: "Client call")
    print("online: started \"Client call\"")
    print("sync:")
    show(await nextSync())

    // Offline: changes stay on the device.
    await device.setOnline(false)
    print("offline:")
    try await device.pause(call.key)
    print("  paused \"Client call\"")
    let now = Timestamp.now
    let slides = await device.start(accountID: account, description: "Workshop slides", projectID: project,
                                    billingRateID: rate, at: now.advanced(bySeconds: -3 * 3_600))
    try await device.stop(slides.key, at: now.advanced(bySeconds: -1 * 3_600))
    print("  \"Workshop slides\" ran from 3 hours ago to 1 hour ago, on the flight")
    let review = await device.start(accountID: account, description: "Code review", billingRateID: seniorRate,
                                    at: now.advanced(bySeconds: -5 * 3_600))
    try await device.stop(review.key, at: now.advanced(bySeconds: -5 * 3_600 + 1_800))
    print("  \"Code review\" ran for 30 minutes, 5 hours ago")

    // Meanwhile another device of the same user stops the first timer on the server.
    if let id = await device.timer(call.key)?.serverID {
        _ = try await client.stop(id, deviceID: "phone")
        print("meanwhile the phone stopped \"Client call\" on the server")
    }

    // Online again: what waits goes in one sync, at most one every 5 seconds.
    await device.setOnline(true)
    print("online again, \(await device.pendingCount) timers to sync:")
    show(await nextSync())
    print("left on the device: \(await device.timers.map { "\"\($0.description)\" (\($0.status))" }.joined(separator: ", "))")
    await device.close()
    client.close()
}

try await run()
