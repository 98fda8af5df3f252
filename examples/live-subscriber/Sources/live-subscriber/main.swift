// live-subscriber [ACCOUNT DESCRIPTION…]: starts a timer when given an account and a
// description, then prints each change to your timers as it happens, on any device,
// across reconnections. TIMERD_ADDRESS and TIMERD_TOKEN say where and as whom.
import ClientLib

let client = try TimerClient(configuration: .fromEnvironment())
let arguments = CommandLine.arguments.dropFirst()
if let account = arguments.first.flatMap({ Int64($0) }) {
    let started = try await client.createTimer(accountID: account, description: arguments.dropFirst().joined(separator: " "))
    print("started \"\(started.timer?.description ?? "")\"")
}
for try await event in client.watchTimers() where event.type != .heartbeat {
    if let timer = event.timer {
        print("\(event.type): \(timer.description) (\(timer.status))")
    } else {
        print("\(event.type): \(event.timers.count) active, \(event.meta?.runningCount ?? 0) running")
    }
}
