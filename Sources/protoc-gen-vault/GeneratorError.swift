/// Why the stubs for a request cannot be generated: a bad `--vault_opt`
/// parameter, or a proto construct the generator does not support. The
/// message goes back to protoc in the response's `error` field, and protoc
/// prints it and fails; no file is written.
struct GeneratorError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, naming the file, service, method or parameter.
    var message: String

    /// An error saying `message`.
    init(_ message: String) {
        self.message = message
    }

    /// The message.
    var description: String { message }
}
