#if canImport(Glibc)
import Glibc
#endif

/// Statement parameters laid out for `PQexecParams` in text format: every
/// non-nil value NUL-terminated in one contiguous buffer, `nil` passed as a
/// null pointer (SQL `NULL`).
struct TextParameters {
    /// PostgreSQL's protocol limit on the number of parameters of one statement.
    static let maximumCount = 65_535

    private var storage: [UInt8] = []
    private var offsets: [Int?] = []

    /// Lays out `values`, rejecting what text format cannot carry.
    init(_ values: [String?]) throws(StorageError) {
        guard values.count <= Self.maximumCount else {
            throw StorageError(
                code: .invalidArgument,
                message: "\(values.count) parameters given; PostgreSQL allows at most \(Self.maximumCount)"
            )
        }
        offsets.reserveCapacity(values.count)
        for (index, value) in values.enumerated() {
            guard let value else {
                offsets.append(nil)
                continue
            }
            let hasNUL = value.utf8.withContiguousStorageIfAvailable { bytes in
                guard let base = bytes.baseAddress, !bytes.isEmpty else { return false }
                return memchr(base, 0, bytes.count) != nil
            } ?? value.utf8.contains(0)
            guard !hasNUL else {
                throw StorageError(
                    code: .invalidArgument,
                    message: "parameter $\(index + 1) contains a NUL byte, which text parameters cannot carry"
                )
            }
            offsets.append(storage.count)
            storage.append(contentsOf: value.utf8)
            storage.append(0)
        }
    }

    /// The number of parameters.
    var count: Int32 { Int32(offsets.count) }

    /// Calls `body` with the `paramValues` array libpq expects (nil when there
    /// are no parameters). The pointers are valid only during the call.
    func withValuePointers<Result>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result
    ) -> Result {
        if offsets.isEmpty {
            return body(nil)
        }
        return storage.withUnsafeBytes { bytes in
            let base = bytes.baseAddress?.assumingMemoryBound(to: CChar.self)
            let pointers: [UnsafePointer<CChar>?] = offsets.map { offset in
                guard let offset, let base else { return nil }
                return UnsafePointer(base + offset)
            }
            return pointers.withUnsafeBufferPointer { buffer in
                body(buffer.baseAddress)
            }
        }
    }
}
