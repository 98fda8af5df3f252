#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension TimerClient {
    /// Where a ``TimerClient`` connects, as whom, and its defaults.
    public struct Configuration: Sendable {
        /// TLS settings: the PEM roots to trust (the system's when nil) and
        /// the name the server's certificate must carry (the address's host
        /// when nil).
        public typealias TLS = GRPCChannel.Configuration.TLS

        /// The server, `host:port`.
        public var address: String
        /// The API token, sent as `authorization: Bearer <token>`; nil sends
        /// none (every timer call then fails with `UNAUTHENTICATED`).
        public var token: String?
        /// TLS; nil speaks h2c (plaintext HTTP/2), for loopback and private
        /// networks only.
        public var tls: TLS?
        /// The deadline of a unary call that sets none (10 s). Watch streams
        /// have no default deadline.
        public var defaultTimeout: Duration
        /// Retries of calls that are safe to repeat, and reconnection pacing.
        public var retry: RetryPolicy
        /// Sent as `device_id` by the conveniences that change timers, unless
        /// a call names its own; empty by default.
        public var deviceID: String
        /// The largest response message accepted (4 MiB).
        public var maxReceiveMessageSize: Int
        /// Sent as `user-agent`.
        public var userAgent: String

        /// A configuration for the server at `address` (`host:port`).
        public init(address: String, token: String? = nil, tls: TLS? = nil, defaultTimeout: Duration = .seconds(10),
                    retry: RetryPolicy = RetryPolicy(), deviceID: String = "") {
            self.address = address
            self.token = token
            self.tls = tls
            self.defaultTimeout = defaultTimeout
            self.retry = retry
            self.deviceID = deviceID
            self.maxReceiveMessageSize = 4 << 20
            self.userAgent = "servicevault-timer-client/1"
        }

        /// The address when `TIMERD_ADDRESS` is not set.
        public static let defaultAddress = "127.0.0.1:50051"

        /// From the environment: `TIMERD_ADDRESS` (default 127.0.0.1:50051)
        /// and `TIMERD_TOKEN`; TLS when `TIMERD_TLS_ROOTS` names a PEM file of
        /// roots to trust or `TIMERD_TLS` is `1`/`true` (the system's roots),
        /// with `TIMERD_TLS_SERVER_NAME` as the expected certificate name;
        /// `TIMERD_DEVICE_ID` as ``deviceID``. Empty variables count as unset.
        public static func fromEnvironment() -> Configuration {
            fromEnvironment { name in getenv(name).map { String(cString: $0) } }
        }

        /// From `lookup` (a variable's value, or nil), as ``fromEnvironment()``.
        static func fromEnvironment(_ lookup: (String) -> String?) -> Configuration {
            func value(_ name: String) -> String? { lookup(name).flatMap { $0.isEmpty ? nil : $0 } }
            var configuration = Configuration(address: value("TIMERD_ADDRESS") ?? defaultAddress, token: value("TIMERD_TOKEN"))
            let roots = value("TIMERD_TLS_ROOTS")
            let tlsFlag = value("TIMERD_TLS").map { ["1", "true", "yes"].contains($0.lowercased()) } ?? false
            if roots != nil || tlsFlag {
                configuration.tls = TLS(trustRoots: roots, serverName: value("TIMERD_TLS_SERVER_NAME"))
            }
            if let device = value("TIMERD_DEVICE_ID") { configuration.deviceID = device }
            return configuration
        }
    }
}
