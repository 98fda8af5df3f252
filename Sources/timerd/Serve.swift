import ArgumentParser
import Logging
import RPC
import RPCServer
import Storage

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// `timerd serve`: migrates the database, then serves gRPC until SIGTERM or
/// SIGINT.
///
/// Prints `READY <port>` on standard output once it accepts connections
/// (`--listen 127.0.0.1:0` picks a free port); logs go to standard error.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Serve the timer API over gRPC (with grpc.health.v1 and server reflection).",
        discussion: """
            Runs the database migrations first, prints "READY <port>" on standard output once \
            it accepts connections, and on SIGTERM or SIGINT reports NOT_SERVING, lets calls in \
            flight finish, closes the database connections and exits with status 0.
            """)

    @Option(help: ArgumentHelp(
        "Address to listen on, HOST:PORT ([::1]:PORT for IPv6; port 0 picks a free one). Variable: TIMERD_LISTEN. Default: 127.0.0.1:50051.",
        valueName: "host:port"))
    var listen: String?

    @OptionGroup var database: DatabaseOptions

    @Option(name: .customLong("redis-url"), help: ArgumentHelp(
        "Redis URL for live timer state (redis://host:port/db). Variable: TIMERD_REDIS_URL.", valueName: "url"))
    var redisURL: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "PEM certificate chain; with --tls-key, serve TLS (ALPN h2). Variable: TIMERD_TLS_CERT.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp(
        "PEM private key for --tls-cert. Variable: TIMERD_TLS_KEY.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("state-key"), help: ArgumentHelp(
        "Key that seals the live state kept in Redis. Variable: TIMERD_STATE_KEY (preferred: a flag shows in ps).",
        valueName: "key"))
    var stateKey: String?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical. Variable: TIMERD_LOG_LEVEL. Default: info.",
        valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("event-loops"), help: ArgumentHelp(
        "I/O threads (0: one per core). Variable: TIMERD_EVENT_LOOPS. Default: 0.", valueName: "count"))
    var eventLoops: Int?

    @Option(name: .customLong("max-database-connections"), help: ArgumentHelp(
        "Most PostgreSQL connections open at once. Variable: TIMERD_MAX_DATABASE_CONNECTIONS. Default: 10.",
        valueName: "count"))
    var maxDatabaseConnections: Int?

    /// The settings after flags and variables are combined and checked.
    struct Settings {
        var listen: String
        var tls: (certificateChain: String, privateKey: String)?
        var logLevel: Logger.Level
        var eventLoops: Int
        var maxDatabaseConnections: Int
        var redisURL: String?
        var hasStateKey: Bool
    }

    func settings() throws -> Settings {
        let listen = self.listen ?? environment("TIMERD_LISTEN") ?? "127.0.0.1:50051"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65_535).contains(port), colon != listen.startIndex else {
            throw CommandFailure("--listen must be HOST:PORT such as 127.0.0.1:50051, got '\(listen)'")
        }
        let cert = tlsCert ?? environment("TIMERD_TLS_CERT")
        let key = tlsKey ?? environment("TIMERD_TLS_KEY")
        let tls: (String, String)?
        switch (cert, key) {
        case let (cert?, key?): tls = (cert, key)
        case (nil, nil): tls = nil
        default: throw CommandFailure("--tls-cert and --tls-key go together: give both or neither")
        }
        let levelText = logLevel ?? environment("TIMERD_LOG_LEVEL") ?? "info"
        guard let level = Logger.Level(rawValue: levelText.lowercased()) else {
            let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw CommandFailure("--log-level must be one of \(known), got '\(levelText)'")
        }
        let loopsText = eventLoops.map(String.init) ?? environment("TIMERD_EVENT_LOOPS") ?? "0"
        guard let loops = Int(loopsText), (0...1_024).contains(loops) else {
            throw CommandFailure("--event-loops must be 0 to 1024, got '\(loopsText)'")
        }
        let connectionsText = maxDatabaseConnections.map(String.init) ?? environment("TIMERD_MAX_DATABASE_CONNECTIONS") ?? "10"
        guard let connections = Int(connectionsText), (1...1_000).contains(connections) else {
            throw CommandFailure("--max-database-connections must be 1 to 1000, got '\(connectionsText)'")
        }
        return Settings(
            listen: listen, tls: tls, logLevel: level, eventLoops: loops, maxDatabaseConnections: connections,
            redisURL: redisURL ?? environment("TIMERD_REDIS_URL"),
            hasStateKey: (stateKey ?? environment("TIMERD_STATE_KEY")) != nil)
    }

    func run() async throws {
        // Before anything else, so that a signal sent as soon as READY is read
        // is not lost.
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])

        try await reportingFailures("serve") {
            let settings = try settings()
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = settings.logLevel
                return handler
            }
            let logger = Logger(label: "timerd")

            let pool = PostgresPool(configuration: .init(
                url: try database.url(), maximumConnections: settings.maxDatabaseConnections,
                defaultTimeout: try database.timeout()))
            let server: GRPCServer
            let health = HealthService()
            do {
                let applied = try await Migrator().migrate(using: pool)
                logger.info("database schema up to date", metadata: [
                    "applied": .string(applied.isEmpty ? "none" : applied.map { "\($0.version) \($0.name)" }.joined(separator: ", ")),
                ])
                if settings.redisURL == nil {
                    logger.notice("no Redis URL given (--redis-url, TIMERD_REDIS_URL)")
                }
                if !settings.hasStateKey {
                    logger.notice("no state key given (--state-key, TIMERD_STATE_KEY)")
                }

                let configuration = GRPCServer.Configuration(
                    address: settings.listen, eventLoops: settings.eventLoops, tls: settings.tls)
                server = GRPCServer(configuration: configuration,
                                    services: try Self.makeServices(pool: pool, health: health, logger: logger))
                try server.start()
            } catch {
                await pool.shutdown()
                throw error
            }
            logger.info("listening", metadata: [
                "address": .string(settings.listen), "port": .stringConvertible(server.port),
                "tls": .stringConvertible(settings.tls != nil),
            ])
            writeLine("READY \(server.port)")

            // Forgotten timers are paused at their account's limit.
            let sweeperLogger = logger
            let sweeper = Task {
                await ForgottenTimers(pool: pool).run(every: .seconds(30)) { error in
                    sweeperLogger.warning("auto-pause sweep failed", metadata: ["error": .string("\(error)")])
                }
            }

            let received = await signals.next()
            logger.info("shutting down", metadata: ["signal": .stringConvertible(received)])
            health.enterShutdown()
            sweeper.cancel()
            await sweeper.value
            await server.shutdown(grace: .seconds(10))
            await pool.shutdown()
            logger.info("stopped")
        }
    }

    /// The services `timerd` serves: every one is built here. The
    /// TimerService over `pool`, health (SERVING for the server and the
    /// TimerService), and reflection of what is registered.
    static func makeServices(pool: PostgresPool, health: HealthService, logger: Logger) throws -> [any RPCService] {
        var services: [any RPCService] = [health, TimerServiceImplementation(pool: pool)]
        health.setStatus(.serving, for: TimerServiceMethods.serviceName)

        var router = MethodRouter()
        for service in services { router.register(service) }
        let reflected = router.serviceNames + [
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ]
        services.append(try ReflectionService(
            descriptorSets: [EmbeddedDescriptorSets.timerService, EmbeddedDescriptorSets.standardServices],
            services: reflected))
        return services
    }
}
