import ArgumentParser
import Codec
import TimerctlCore

/// What pause, resume and stop share: a timer id, an optional expected
/// version, the device; they print the timer after the change.
struct TransitionArguments: ParsableArguments {
    @OptionGroup var options: GlobalOptions
    @Argument(help: "The timer's id.", transform: TimerID.parse) var id: Int64
    @Option(name: .customLong("expected-version"), help: ArgumentHelp(
        "Change the timer only if its sync_version is this (ABORTED otherwise): a retried command changes nothing twice.",
        valueName: "n"))
    var expectedVersion: Int64?
    @Option(help: ArgumentHelp("The device to record as making the change.", valueName: "name")) var device = "timerctl"

    /// Makes the call with a connection and prints the timer and figures it returns.
    func perform(_ body: (TimerConnection) async throws(TimerctlError) -> (VaultTimer?, Meta?)) async throws {
        let connection = try options.connect()
        defer { connection.close() }
        let (timer, meta) = try await body(connection)
        if options.json {
            Output.json(.object(["timer": .timer(timer), "meta": .meta(meta)]))
        } else if let timer {
            Output.line(TimerText.line(timer))
        }
    }
}

/// `timerctl pause ID`.
struct Pause: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Pause a running timer.")
    @OptionGroup var arguments: TransitionArguments

    func run() async throws {
        var request = PauseTimerRequest()
        request.id = arguments.id
        request.expectedSyncVersion = arguments.expectedVersion
        request.deviceID = arguments.device
        try await arguments.perform { (connection) async throws(TimerctlError) in
            let response = try await connection.pause(request)
            return (response.timer, response.meta)
        }
    }
}

/// `timerctl resume ID`.
struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Resume a paused timer.")
    @OptionGroup var arguments: TransitionArguments

    func run() async throws {
        var request = ResumeTimerRequest()
        request.id = arguments.id
        request.expectedSyncVersion = arguments.expectedVersion
        request.deviceID = arguments.device
        try await arguments.perform { (connection) async throws(TimerctlError) in
            let response = try await connection.resume(request)
            return (response.timer, response.meta)
        }
    }
}

/// `timerctl stop ID`.
struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a timer for good.")
    @OptionGroup var arguments: TransitionArguments

    func run() async throws {
        var request = StopTimerRequest()
        request.id = arguments.id
        request.expectedSyncVersion = arguments.expectedVersion
        request.deviceID = arguments.device
        try await arguments.perform { (connection) async throws(TimerctlError) in
            let response = try await connection.stop(request)
            return (response.timer, response.meta)
        }
    }
}
