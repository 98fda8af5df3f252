// billing-service ACCOUNT [DAYS]: an invoice of one account's finished work.
//
// Reads the account's timers created in the last DAYS days (30 by default) with
// ListTimers, page after page, and bills the stopped ones by project and billing rate,
// with the values the server computed (duration × hourly rate, exact, in minor units).
// Running and paused timers wait for a later invoice; timers without a rate are not
// billed. TIMERD_ADDRESS and TIMERD_TOKEN say where and as whom.
import ClientLib
import Foundation

let arguments = CommandLine.arguments.dropFirst().map { Int64($0) }
guard (1...2).contains(arguments.count), !arguments.contains(nil), let account = arguments[0] else {
    FileHandle.standardError.write(Data("usage: billing-service ACCOUNT [DAYS]\n".utf8))
    exit(2)
}
let days = arguments.count == 2 ? arguments[1]! : 30

let client = try TimerClient(configuration: .fromEnvironment())
let since = Timestamp.now.advanced(bySeconds: -days * 86_400)
let timers = try await client.allTimers(accountID: account, createdAfter: since)

/// One invoice line: the timers of one project (or none) at one rate.
struct LineKey: Hashable, Comparable {
    var project: Int64?
    var rate: Int64

    static func < (a: LineKey, b: LineKey) -> Bool {
        (a.project ?? .max, a.rate) < (b.project ?? .max, b.rate)
    }
}

struct Line {
    var hourly: Money
    var count = 0
    var seconds: Int64 = 0
    var amount: Int64 = 0
}

var lines: [LineKey: Line] = [:]
var unrated = 0
var open = 0
for timer in timers {
    guard timer.status == .stopped else {
        open += 1
        continue
    }
    guard let rate = timer.billingRateID, let hourly = timer.hourlyRate, let value = timer.currentValue else {
        unrated += 1
        continue
    }
    let key = LineKey(project: timer.projectID, rate: rate)
    var line = lines[key] ?? Line(hourly: hourly)
    line.count += 1
    line.seconds += timer.totalDuration
    line.amount += value.amountMinor
    lines[key] = line
}

func duration(_ seconds: Int64) -> String {
    func two(_ n: Int64) -> String { n < 10 ? "0\(n)" : "\(n)" }
    return "\(seconds / 3600)h \(two(seconds / 60 % 60))m \(two(seconds % 60))s"
}

func money(_ minor: Int64, _ like: Money) -> String {
    var scale: Int64 = 1
    for _ in 0..<like.minorUnitDigits { scale *= 10 }
    guard scale > 1 else { return "\(minor) \(like.currencyCode)" }
    let fraction = String(minor % scale)
    return "\(minor / scale).\(String(repeating: "0", count: Int(like.minorUnitDigits) - fraction.count))\(fraction) \(like.currencyCode)"
}

func padded(_ text: String, _ width: Int, right: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(0, width - text.count))
    return right ? padding + text : text + padding
}

print("Invoice: account \(account), timers created in the last \(days) days")
print("")
var totals: [String: (seconds: Int64, minor: Int64, like: Money)] = [:]
for (key, line) in lines.sorted(by: { $0.key < $1.key }) {
    let project = key.project.map { "project \($0)" } ?? "no project"
    let rate = "rate \(key.rate) at \(money(line.hourly.amountMinor, line.hourly))/h"
    print("  " + padded(project, 12) + padded(rate, 26) + padded("\(line.count) timer\(line.count == 1 ? "" : "s")", 10)
        + padded(duration(line.seconds), 12, right: true) + padded(money(line.amount, line.hourly), 14, right: true))
    let currency = line.hourly.currencyCode
    let total = totals[currency] ?? (0, 0, line.hourly)
    totals[currency] = (total.seconds + line.seconds, total.minor + line.amount, line.hourly)
}
if lines.isEmpty { print("  nothing to bill") }
print("")
for (_, total) in totals.sorted(by: { $0.key < $1.key }) {
    print("  " + padded("total", 48) + padded(duration(total.seconds), 12, right: true)
        + padded(money(total.minor, total.like), 14, right: true))
}
print("")
print("not billed: \(unrated) stopped timer\(unrated == 1 ? "" : "s") without a billing rate, "
    + "\(open) timer\(open == 1 ? "" : "s") still running or paused")
client.close()
