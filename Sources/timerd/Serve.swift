import ArgumentParser
import CoreMetrics
import HTTP2
import LiveState
import Logging
import RPC
import RPCServer
import Storage
import Synchronization
import TimerDomain
import VaultMetrics

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

    @OptionGroup var partitioning: PartitionOptions

    @Option(name: .customLong("redis-url"), help: ArgumentHelp(
        "Redis for live timer state: redis://host:port/db for one server, redis-cluster://host:port,host:port,… for a Redis Cluster (its seeds). Variable: TIMERD_REDIS_URL.", valueName: "url"))
    var redisURL: String?

    @Option(name: .customLong("tls-cert"), help: ArgumentHelp(
        "PEM certificate chain; with --tls-key, serve TLS (ALPN h2). Variable: TIMERD_TLS_CERT.", valueName: "file"))
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp(
        "PEM private key for --tls-cert. Variable: TIMERD_TLS_KEY.", valueName: "file"))
    var tlsKey: String?

    @Option(name: .customLong("state-key"), help: ArgumentHelp(
        """
        AES-256 key(s) sealing what is kept in Redis: 64 hex digits or base64, optionally ID:KEY; several \
        comma-separated to rotate (the first seals, all open). Required with Redis; make one with \
        `timerd admin new-state-key`. Variable: TIMERD_STATE_KEY (preferred: a flag shows in ps).
        """,
        valueName: "keys"))
    var stateKey: String?

    @Option(name: .customLong("event-log-length"), help: ArgumentHelp(
        "Events kept per user for WatchTimers resumes; older resumes get a snapshot. Variable: TIMERD_EVENT_LOG_LENGTH. Default: 1000.",
        valueName: "count"))
    var eventLogLength: Int?

    @Option(name: .customLong("sync-rate-limit"), help: ArgumentHelp(
        "SyncTimers calls allowed per user per minute, across all instances. Variable: TIMERD_SYNC_RATE_LIMIT. Default: 120.",
        valueName: "count"))
    var syncRateLimit: Int?

    @Option(name: .customLong("log-level"), help: ArgumentHelp(
        "trace, debug, info, notice, warning, error or critical. Variable: TIMERD_LOG_LEVEL. Default: info.",
        valueName: "level"))
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: ArgumentHelp(
        "text (one line per entry, key=value metadata) or json (one JSON object per line, for log shippers). Variable: TIMERD_LOG_FORMAT. Default: text.",
        valueName: "format"))
    var logFormat: String?

    @Option(name: .customLong("event-loops"), help: ArgumentHelp(
        "I/O threads (0: one per core). Variable: TIMERD_EVENT_LOOPS. Default: 0.", valueName: "count"))
    var eventLoops: Int?

    @Option(name: .customLong("metrics-listen"), help: ArgumentHelp(
        "Serve Prometheus metrics over plain HTTP/1.1 (GET /metrics) on HOST:PORT, from the same event loops. Variable: TIMERD_METRICS_LISTEN. Default: off.",
        valueName: "host:port"))
    var metricsListen: String?

    @Option(name: .customLong("max-database-connections"), help: ArgumentHelp(
        "Most PostgreSQL connections open at once. Variable: TIMERD_MAX_DATABASE_CONNECTIONS. Default: 10.",
        valueName: "count"))
    var maxDatabaseConnections: Int?

    /// The settings after flags and variables are combined and checked.
    struct Settings {
        var listen: String
        var tls: (certificateChain: String, privateKey: String)?
        var logLevel: Logger.Level
        var logFormat: LogFormat
        var eventLoops: Int
        var maxDatabaseConnections: Int
        var redisURL: String?
        var stateKey: String?
        var eventLogLength: Int
        var syncRateLimit: Int
        var metricsListen: String?
    }

    func settings() throws -> Settings {
        let listen = self.listen ?? environment("TIMERD_LISTEN") ?? "127.0.0.1:50051"
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]),
              (0...65_535).contains(port), colon != listen.startIndex else {
            throw CommandFailure("--listen must be HOST:PORT such as 127.0.0.1:50051, got '\(listen)'")
        }
        let metrics = (metricsListen ?? environment("TIMERD_METRICS_LISTEN")).flatMap { $0.isEmpty ? nil : $0 }
        if let metrics {
            guard let colon = metrics.lastIndex(of: ":"), let port = Int(metrics[metrics.index(after: colon)...]),
                  (0...65_535).contains(port), colon != metrics.startIndex else {
                throw CommandFailure("--metrics-listen must be HOST:PORT such as 127.0.0.1:9464, got '\(metrics)'")
            }
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
        let formatText = logFormat ?? environment("TIMERD_LOG_FORMAT") ?? "text"
        guard let format = LogFormat(rawValue: formatText.lowercased()) else {
            throw CommandFailure("--log-format must be text or json, got '\(formatText)'")
        }
        let loopsText = eventLoops.map(String.init) ?? environment("TIMERD_EVENT_LOOPS") ?? "0"
        guard let loops = Int(loopsText), (0...1_024).contains(loops) else {
            throw CommandFailure("--event-loops must be 0 to 1024, got '\(loopsText)'")
        }
        let connectionsText = maxDatabaseConnections.map(String.init) ?? environment("TIMERD_MAX_DATABASE_CONNECTIONS") ?? "10"
        guard let connections = Int(connectionsText), (1...1_000).contains(connections) else {
            throw CommandFailure("--max-database-connections must be 1 to 1000, got '\(connectionsText)'")
        }
        let logText = eventLogLength.map(String.init) ?? environment("TIMERD_EVENT_LOG_LENGTH") ?? "1000"
        guard let logLength = Int(logText), (1...1_000_000).contains(logLength) else {
            throw CommandFailure("--event-log-length must be 1 to 1000000, got '\(logText)'")
        }
        let limitText = syncRateLimit.map(String.init) ?? environment("TIMERD_SYNC_RATE_LIMIT") ?? "120"
        guard let limit = Int(limitText), (1...100_000).contains(limit) else {
            throw CommandFailure("--sync-rate-limit must be 1 to 100000, got '\(limitText)'")
        }
        let redis = (redisURL ?? environment("TIMERD_REDIS_URL")).flatMap { $0.isEmpty ? nil : $0 }
        let sealingKey = (stateKey ?? environment("TIMERD_STATE_KEY")).flatMap { $0.isEmpty ? nil : $0 }
        if redis != nil && sealingKey == nil {
            throw CommandFailure(
                "a state key is required with Redis (--state-key or TIMERD_STATE_KEY): what is kept in Redis is sealed with it; make one with `timerd admin new-state-key`")
        }
        return Settings(
            listen: listen, tls: tls, logLevel: level, logFormat: format, eventLoops: loops, maxDatabaseConnections: connections,
            redisURL: redis, stateKey: sealingKey, eventLogLength: logLength, syncRateLimit: limit, metricsListen: metrics)
    }

    /// The process's metrics (swift-metrics' factory from the start of
    /// `serve`), rendered for `--metrics-listen`.
    static let metrics: PrometheusRegistry = {
        let registry = PrometheusRegistry()
        for (name, help) in [
            ("grpc_server_started_total", "gRPC calls started, by type, service and method"),
            ("grpc_server_handled_total", "gRPC calls ended, by type, service, method and status code"),
            ("grpc_server_handling_seconds", "Time from a call's headers to its status, by type, service and method"),
            ("grpc_server_connections", "HTTP/2 connections open"),
            ("grpc_server_connections_accepted_total", "HTTP/2 connections accepted"),
            ("grpc_server_streams", "HTTP/2 request streams open (calls in progress, answers still being sent)"),
            ("grpc_server_goaways_sent_total", "Connections told to go away (GOAWAY), by reason, once per connection and reason"),
            ("grpc_server_connection_errors_total", "Connections closed by a failure: TLS handshake, handshake or keepalive timeout, socket error"),
            ("timerd_syncs_total", "SyncTimers calls answered"),
            ("timerd_sync_items_total", "Device timers carried by the SyncTimers calls answered"),
            ("timerd_sync_conflicts_total", "Conflicts reported to devices by SyncTimers, by type"),
            ("timerd_syncs_refused_total", "SyncTimers calls refused by the per-user rate limit"),
            ("timerd_timers_auto_paused_total", "Timers paused by the forgotten-timer sweep at their account's limit"),
            ("timerd_active_timers", "Timers running and paused now across all users, by status (read from PostgreSQL every 15 s and by GetSystemHealth)"),
            ("timerd_active_users", "Users with a running or paused timer (read with timerd_active_timers)"),
            ("timerd_live_pending_writes", "Committed changes whose Redis write is under way (GetSystemHealth's sync_queue_size)"),
            ("timerd_events_published_total", "Committed changes published: via Redis to every instance, or locally when Redis could not take them"),
            ("timerd_redis_publish_failures_total", "Publishes Redis did not take (the change is in PostgreSQL; watchers here still get it)"),
            ("timerd_events_received_total", "Events heard on Redis pub/sub for users watched on this instance"),
            ("timerd_events_undecodable_total", "Pub/sub messages that could not be opened or read"),
            ("timerd_events_delivered_total", "Events queued to WatchTimers streams, one per stream"),
            ("timerd_watch_overflows_total", "Items dropped from WatchTimers streams that did not keep up (each then gets a snapshot)"),
            ("timerd_event_delivery_lag_seconds", "Time from a change's commit to its arrival on this instance"),
            ("timerd_watch_subscribers", "WatchTimers streams open on this instance"),
            ("timerd_response_time_average_seconds", "Mean server time per TimerService call over the last minute (GetSystemHealth's average_response_time)"),
            ("timerd_database_pool_connections", "PostgreSQL pool: connections by state, and calls waiting for one"),
            ("timerd_redis_pool_connections", "Redis pool (summed over a cluster's masters): connections by state, and calls waiting for one"),
            ("timerd_database_pool_waits_total", "Calls that had to queue for a PostgreSQL connection"),
            ("timerd_database_pool_failures_total", "Failed PostgreSQL connects and connections found broken"),
            ("timerd_database_pool_refused_total", "Calls failed without a PostgreSQL connection: their deadline passed in the queue, or the database was down"),
            ("timerd_redis_pool_failures_total", "Failed Redis connects and connections lost (summed over a cluster's masters)"),
            ("timerd_redis_degraded", "1 while Redis is not trusted (unreachable, or being rebuilt from PostgreSQL): reads go to PostgreSQL"),
            ("timerd_redis_pubsub_connected", "1 while the Redis pub/sub connection is up"),
        ] {
            registry.describe(name, help)
        }
        return registry
    }()

    func run() async throws {
        // Before anything else, so that a signal sent as soon as READY is read
        // is not lost.
        let signals = SignalWatcher(signals: [SIGTERM, SIGINT])

        try await reportingFailures("serve") {
            let settings = try settings()
            MetricsSystem.bootstrap(Self.metrics)
            let layout = try partitioning.layout()
            LoggingSystem.bootstrap { label in
                switch settings.logFormat {
                case .text:
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = settings.logLevel
                    return handler
                case .json:
                    var handler = JSONLogHandler.standardError(label: label)
                    handler.logLevel = settings.logLevel
                    return handler
                }
            }
            let logger = Logger(label: "timerd")

            let pool = PostgresPool(configuration: .init(
                url: try database.url(), maximumConnections: settings.maxDatabaseConnections,
                defaultTimeout: try database.timeout()))
            let server: GRPCServer
            let health = HealthService()
            let redis: RedisParts?
            do {
                redis = try settings.redisURL.map { url in try RedisParts(url: url, stateKey: settings.stateKey ?? "", logger: logger) }
            } catch {
                await pool.shutdown()
                throw error
            }
            var liveConfiguration = LiveTimers.Configuration()
            liveConfiguration.syncLimit = settings.syncRateLimit
            let live = LiveTimers(
                store: redis.map { LiveStore(redis: $0.runner, keyring: $0.keyring, eventLogLength: settings.eventLogLength) },
                subscriber: redis?.subscriber, timers: TimerRepository(pool: pool), clock: SystemWallClock(),
                configuration: liveConfiguration
            ) { message in logger.warning("\(message)") }
            redis?.connect(to: live)
            let service = TimerServiceImplementation(pool: pool, live: live)
            Self.collectMetrics(pool: pool, redis: redis, live: live, service: service)
            do {
                let applied = try await Migrator(layout: layout).migrate(using: pool)
                logger.info("database schema up to date", metadata: [
                    "applied": .string(applied.isEmpty ? "none" : applied.map { "\($0.version) \($0.name)" }.joined(separator: ", ")),
                ])
                if settings.redisURL == nil {
                    logger.notice("no Redis URL given (--redis-url, TIMERD_REDIS_URL): no live state, events reach this instance's watchers only")
                }
                live.start()

                let configuration = GRPCServer.Configuration(
                    address: settings.listen, eventLoops: settings.eventLoops, tls: settings.tls)
                server = GRPCServer(configuration: configuration,
                                    services: try Self.makeServices(service: service, health: health))
                try server.start()
            } catch {
                await live.close()
                await redis?.shutdown()
                await pool.shutdown()
                throw error
            }
            logger.info("listening", metadata: [
                "address": .string(settings.listen), "port": .stringConvertible(server.port),
                "tls": .stringConvertible(settings.tls != nil),
            ])
            var metricsServer: MetricsHTTPServer?
            if let metricsListen = settings.metricsListen, let loop = server.eventLoops.first {
                do {
                    let registry = Self.metrics
                    metricsServer = try MetricsHTTPServer(address: Socket.Address(parsing: metricsListen), loop: loop) {
                        Array(registry.render().utf8)
                    }
                } catch {
                    await server.shutdown(grace: .zero)
                    await live.close()
                    await redis?.shutdown()
                    await pool.shutdown()
                    throw CommandFailure("--metrics-listen \(metricsListen): \(error)")
                }
                logger.info("serving metrics", metadata: ["address": .string(metricsListen), "port": .stringConvertible(metricsServer?.port ?? 0)])
                writeLine("METRICS \(metricsServer?.port ?? 0)")
            }
            writeLine("READY \(server.port)")

            // Forgotten timers are paused at their account's limit.
            let sweeperLogger = logger
            let sweeper = Task {
                await ForgottenTimers(pool: pool) { record, transition in
                    await service.publishAutoPause(record, transition)
                }.run(every: .seconds(30)) { error in
                    sweeperLogger.warning("auto-pause sweep failed", metadata: ["error": .string(LoggableError.summary(error))])
                }
            }
            // The active figures for the metrics, as GetSystemHealth reads them.
            let figures = Task {
                while !Task.isCancelled {
                    _ = try? await service.refreshActiveFigures(deadline: .now + .seconds(5))
                    try? await Task.sleep(for: .seconds(15))
                }
            }
            // NOT_SERVING while PostgreSQL is unreachable.
            let monitor = Task {
                await DependencyMonitor(pool: pool, live: live, health: health, services: [TimerServiceMethods.serviceName])
                    .run(every: .seconds(2))
            }

            let received = await signals.next()
            logger.info("shutting down", metadata: ["signal": .stringConvertible(received)])
            monitor.cancel()
            await monitor.value
            figures.cancel()
            await figures.value
            health.enterShutdown()
            sweeper.cancel()
            await sweeper.value
            // Watch streams end with UNAVAILABLE, so their clients reconnect elsewhere.
            await live.close()
            await metricsServer?.shutdown()
            await server.shutdown(grace: .seconds(10))
            await redis?.shutdown()
            await pool.shutdown()
            logger.info("stopped")
        }
    }

    /// Gauges read at each scrape from the parts that keep them: the
    /// PostgreSQL and Redis pools' connections, the watchers, and whether
    /// Redis is trusted and its pub/sub connected.
    static func collectMetrics(pool: PostgresPool, redis: RedisParts?, live: LiveTimers, service: TimerServiceImplementation) {
        func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> Meter {
            Meter(label: label, dimensions: dimensions, factory: metrics)
        }
        let database = ["idle", "leased", "connecting", "backing_off", "waiting"].map { gauge("timerd_database_pool_connections", [("state", $0)]) }
        let redisPool = ["idle", "leased", "connecting", "backing_off", "waiting"].map { gauge("timerd_redis_pool_connections", [("state", $0)]) }
        let databaseWaits = FollowedCounter(Counter(label: "timerd_database_pool_waits_total", factory: metrics))
        let databaseFailures = FollowedCounter(Counter(label: "timerd_database_pool_failures_total", factory: metrics))
        let databaseRefused = FollowedCounter(Counter(label: "timerd_database_pool_refused_total", factory: metrics))
        let redisFailures = FollowedCounter(Counter(label: "timerd_redis_pool_failures_total", factory: metrics))
        let watchers = gauge("timerd_watch_subscribers")
        let meanResponse = gauge("timerd_response_time_average_seconds")
        let degraded = gauge("timerd_redis_degraded")
        let subscribed = gauge("timerd_redis_pubsub_connected")
        metrics.addCollector {
            let counts = pool.statistics
            for (meter, value) in zip(database, [counts.idle, counts.leased, counts.connecting, counts.backingOff, counts.waiting]) {
                meter.set(value)
            }
            databaseWaits.follow(counts.waited)
            databaseFailures.follow(counts.failures)
            databaseRefused.follow(counts.refused)
            if let redis {
                let counts = redis.statistics()
                for (meter, value) in zip(redisPool, [counts.idle, counts.leased, counts.connecting, counts.backingOff, counts.waiting]) {
                    meter.set(value)
                }
                redisFailures.follow(redis.failures())
                // Not trusted: reads go to PostgreSQL until a rebuild succeeds.
                degraded.set(live.isTrusted ? 0 : 1)
                subscribed.set(live.hub.isSubscriberConnected == true ? 1 : 0)
            } else {
                degraded.set(1)
                subscribed.set(0)
            }
            watchers.set(live.hub.watcherCount)
            meanResponse.set(service.averageResponseSeconds)
        }
    }

    /// The services `timerd` serves: every one is built here. The
    /// TimerService over `pool`, health (SERVING for the server and the
    /// TimerService), and reflection of what is registered.
    static func makeServices(service: TimerServiceImplementation, health: HealthService) throws -> [any RPCService] {
        var services: [any RPCService] = [health, service]
        health.setStatus(.serving, for: TimerServiceMethods.serviceName)

        // Only for the names reflection lists: its calls are never counted.
        var router = MethodRouter(metricsFactory: NOOPMetricsHandler.instance)
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

/// How `timerd serve` writes its log (`--log-format`).
enum LogFormat: String {
    /// swift-log's stream format: `TIME LEVEL LABEL : key=value … MESSAGE`.
    case text
    /// One JSON object per line (`JSONLogHandler`).
    case json
}

/// The Redis connections of one server: the command runner (a pool, or a
/// pool per master of a Redis Cluster) and the pub/sub subscriber feeding
/// the event hub.
final class RedisParts: Sendable {
    let runner: any RedisCommandRunner
    let subscriber: RedisSubscriber
    let keyring: StateKeyring
    /// The connections of the runner's pools, summed over a cluster's masters.
    let statistics: @Sendable () -> RedisPool.Statistics
    /// Failed connects and lost connections so far, summed likewise.
    let failures: @Sendable () -> Int
    private let hub: LiveTimersBox
    private let closeRunner: @Sendable () async -> Void

    init(url: String, stateKey: String, logger: Logger) throws {
        let endpoint: RedisEndpoint
        do {
            endpoint = try RedisEndpoint(url)
            keyring = try StateKeyring(parsing: stateKey)
        } catch {
            throw CommandFailure(error.message)
        }
        switch endpoint {
        case .single(let parsed):
            let pool = RedisPool(configuration: .init(url: parsed))
            runner = pool
            statistics = { pool.statistics }
            failures = { pool.failureCount }
            closeRunner = { await pool.shutdown() }
        case .cluster(let seeds):
            let pool = RedisClusterPool(configuration: .init(seeds: seeds))
            runner = pool
            statistics = { pool.poolStatistics }
            failures = { pool.failureCount }
            closeRunner = { await pool.shutdown() }
        }
        let box = LiveTimersBox()
        hub = box
        let log = logger
        subscriber = RedisSubscriber(urls: endpoint.subscriberURLs) { event in
            guard let live = box.live else { return }
            switch event {
            case .message(let channel, let payload):
                live.hub.receive(channel: channel, payload: payload)
            case .connected:
                live.subscriberConnected()
            case .disconnected(let error):
                log.warning("Redis pub/sub connection lost", metadata: ["error": .string(error.message)])
                live.subscriberDisconnected()
            }
        }
    }

    /// Routes pub/sub events to `live` from now on.
    func connect(to live: LiveTimers) {
        hub.live = live
    }

    func shutdown() async {
        subscriber.shutdown()
        await closeRunner()
    }
}

/// Holds the live half for the subscriber's handler, which exists before it.
private final class LiveTimersBox: Sendable {
    private let value = Mutex<LiveTimers?>(nil)
    var live: LiveTimers? {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}

extension RedisSubscriber: EventChannelSubscriber {}
extension RedisPool: RedisCommandRunner {}
extension RedisClusterPool: RedisCommandRunner {}
