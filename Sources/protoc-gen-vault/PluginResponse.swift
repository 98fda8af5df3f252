/// What the plugin answers protoc: generated files, or an error that protoc
/// reports for the request as a whole (no file is written then).
struct PluginResponse: Sendable, Hashable {
    /// One generated file.
    struct File: Sendable, Hashable {
        /// The path under the output directory, e.g. `grpc/health/v1/health.grpc.swift`.
        var name: String
        /// The file's text.
        var content: String
    }

    /// Why nothing could be generated; nil on success.
    var error: String?
    /// The generated files (empty when `error` is set).
    var files: [File]

    /// A successful response.
    init(files: [File]) {
        self.error = nil
        self.files = files
    }

    /// A failed response: protoc prints `message` and fails.
    init(error message: String) {
        self.error = message
        self.files = []
    }
}
