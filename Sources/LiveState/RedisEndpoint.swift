/// Which Redis the server uses: one server, or a Redis Cluster found from
/// seed nodes.
///
/// ```
/// redis://[[username]:password@]host[:port][/database]                 one server (RedisURL)
/// redis-cluster://[[username]:password@]host[:port][,host[:port]…]     a cluster, by its seeds
/// ```
/// A cluster's seeds are where its topology is first asked for; the client
/// learns every node from them (`CLUSTER SLOTS`) and follows the cluster as
/// it changes. One seed is enough, more survive one being down at start.
/// A cluster has only database 0, so a cluster URL names none.
package enum RedisEndpoint: Sendable, Hashable {
    case single(RedisURL)
    case cluster(seeds: [RedisURL])

    /// The scheme of a cluster URL.
    package static let clusterScheme = "redis-cluster://"

    /// Parses `url`.
    ///
    /// - Throws: `invalidURL`, with a message that says which part is wrong.
    package init(_ url: String) throws(LiveStateError) {
        guard url.hasPrefix(Self.clusterScheme) else {
            self = .single(try RedisURL(url))
            return
        }
        var rest = Substring(url.dropFirst(Self.clusterScheme.count))
        var userInfo: Substring = ""
        if let at = rest.lastIndex(of: "@") {
            userInfo = rest[...at]
            rest = rest[rest.index(after: at)...]
        }
        if let slash = rest.firstIndex(of: "/") {
            let path = rest[rest.index(after: slash)...]
            guard path.isEmpty || path == "0" else {
                throw LiveStateError(code: .invalidURL, message: "invalid Redis URL: a Redis Cluster has only database 0, not '\(path)'")
            }
            rest = rest[..<slash]
        }
        guard !rest.isEmpty else {
            throw LiveStateError(code: .invalidURL, message: "invalid Redis URL: \(Self.clusterScheme) needs at least one host")
        }
        var seeds: [RedisURL] = []
        for (index, node) in rest.split(separator: ",", omittingEmptySubsequences: false).enumerated() {
            guard !node.isEmpty else {
                throw LiveStateError(code: .invalidURL, message: "invalid Redis URL: seed \(index + 1) of \(Self.clusterScheme) is empty")
            }
            do {
                seeds.append(try RedisURL("redis://\(userInfo)\(node)"))
            } catch {
                throw LiveStateError(code: .invalidURL, message: "\(error.message) (seed \(index + 1), '\(node)')")
            }
        }
        self = .cluster(seeds: seeds)
    }

    /// Every address to try for pub/sub, which a cluster carries on every
    /// node.
    package var subscriberURLs: [RedisURL] {
        switch self {
        case .single(let url): [url]
        case .cluster(let seeds): seeds
        }
    }
}
