/// A command's arguments laid out for `redisCommandArgv`: the bytes of all
/// arguments in one buffer, with a pointer and a length per argument.
struct CommandArguments {
    private var storage: [UInt8] = []
    private var offsets: [Int] = []
    private var lengths: [Int] = []

    /// Lays out `arguments`; an empty command is rejected.
    init(_ arguments: [[UInt8]]) throws(LiveStateError) {
        guard !arguments.isEmpty else {
            throw LiveStateError(code: .invalidArgument, message: "a command needs at least its name")
        }
        guard arguments.count <= Int(Int32.max) else {
            throw LiveStateError(code: .invalidArgument, message: "too many arguments: \(arguments.count)")
        }
        storage.reserveCapacity(arguments.reduce(1) { $0 + $1.count })
        offsets.reserveCapacity(arguments.count)
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            offsets.append(storage.count)
            lengths.append(argument.count)
            storage.append(contentsOf: argument)
        }
        // Keeps the buffer non-empty, so every pointer is a real address even
        // when every argument is empty.
        storage.append(0)
    }

    /// The number of arguments.
    var count: Int32 { Int32(offsets.count) }

    /// Calls `body` with the `argv` and `argvlen` arrays hiredis expects. The
    /// pointers are valid only during the call.
    func withArgv<Result>(
        _ body: (UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> Result
    ) -> Result {
        storage.withUnsafeBytes { bytes in
            // Never nil: `storage` holds at least the trailing byte.
            let base = bytes.baseAddress!.assumingMemoryBound(to: CChar.self)
            var pointers: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    body(argv.baseAddress!, argvlen.baseAddress!)
                }
            }
        }
    }
}
