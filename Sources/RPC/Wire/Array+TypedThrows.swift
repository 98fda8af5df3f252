extension Array where Element == UInt8 {
    /// `withUnsafeBytes` for a body that throws ``RPCError`` only (the
    /// standard one rethrows as `any Error`).
    func withUnsafeBytesTyped<Result>(_ body: (UnsafeRawBufferPointer) throws(RPCError) -> Result) throws(RPCError) -> Result {
        let outcome = withUnsafeBytes { bytes in Swift.Result { () throws(RPCError) in try body(bytes) } }
        return try outcome.get()
    }
}
