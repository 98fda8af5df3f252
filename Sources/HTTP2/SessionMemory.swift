import CNGHTTP2
import Glibc

/// The allocator of one nghttp2 session: freed blocks of a few small sizes
/// are kept on lists of their own and handed out again, instead of going back
/// to malloc.
///
/// nghttp2 allocates several small blocks per request (the stream, each
/// queued frame, a copy of each header list) and frees them as the response
/// leaves; with many requests in flight a burst of them overflows glibc's
/// per-thread cache, and every one of them then takes malloc's slow path.
/// Here a block costs a list push and a pop.
///
/// A session is used by one thread at a time (its connection's event loop, or
/// whoever creates or deletes it), so the lists need no lock. Each block
/// carries its size class (and, for a large one, its size) in a 16-byte
/// header, which keeps the alignment malloc gives. At most ``keptPerClass``
/// blocks of a class are kept; the rest are freed. Everything kept is freed by
/// ``release()``, after the session is deleted.
///
/// Under AddressSanitizer nothing is kept, so every block goes back to malloc
/// and a use after free is still caught.
struct SessionMemory {
    /// The block sizes (header included) kept on lists: 64 << class, classes 0 to 5.
    static let classCount = 6
    static let header = 16
    static let keptPerClass = 128
    /// The class of blocks allocated directly (too large for a list).
    private static let direct = UInt(classCount)

    private struct Lists {
        var heads: (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                    UnsafeMutableRawPointer?, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
        var counts: (Int, Int, Int, Int, Int, Int)
        /// Blocks kept per class: ``keptPerClass``, or 0 under AddressSanitizer.
        var limit: Int
    }

    /// Whether the process runs under AddressSanitizer.
    static let sanitized = dlsym(nil, "__asan_init") != nil

    private let lists: UnsafeMutablePointer<Lists>

    init() {
        assert(MemoryLayout<Lists>.offset(of: \Lists.counts) == Self.countsOffset, "the counts follow the heads")
        lists = .allocate(capacity: 1)
        lists.initialize(to: Lists(heads: (nil, nil, nil, nil, nil, nil), counts: (0, 0, 0, 0, 0, 0),
                                   limit: Self.sanitized ? 0 : Self.keptPerClass))
    }

    /// The allocator to give nghttp2 (it copies the struct).
    var allocator: nghttp2_mem {
        nghttp2_mem(mem_user_data: UnsafeMutableRawPointer(lists), malloc: sessionMalloc, free: sessionFree,
                    calloc: sessionCalloc, realloc: sessionRealloc)
    }

    /// Frees the kept blocks and the lists. Only once no session uses them.
    func release() {
        withUnsafeMutableBytes(of: &lists.pointee.heads) { heads in
            for index in 0..<SessionMemory.classCount {
                var block = heads.load(fromByteOffset: index * MemoryLayout<UnsafeMutableRawPointer?>.stride, as: UnsafeMutableRawPointer?.self)
                while let current = block {
                    block = current.load(as: UnsafeMutableRawPointer?.self)
                    Glibc.free(current)
                }
            }
        }
        lists.deallocate()
    }

    // MARK: The allocator's parts (C function pointers: no captures)

    @inline(__always)
    static func sizeClass(_ total: Int) -> UInt {
        if total <= 64 { return 0 }
        if total > 2_048 { return direct }
        // 65...128 → 1, 129...256 → 2, …, 1025...2048 → 5.
        return UInt(Int.bitWidth - (total - 1).leadingZeroBitCount - 6)
    }

    @inline(__always)
    static func allocate(_ size: Int, _ userData: UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        let total = size + header
        let sizeClass = sizeClass(total)
        let block: UnsafeMutableRawPointer
        if sizeClass == direct {
            guard let allocated = Glibc.malloc(total) else { return nil }
            block = allocated
        } else {
            let lists = userData!.assumingMemoryBound(to: Lists.self)
            let index = Int(sizeClass)
            if let head = head(lists, index) {
                setHead(lists, index, head.load(as: UnsafeMutableRawPointer?.self))
                setCount(lists, index, count(lists, index) - 1)
                block = head
            } else {
                guard let allocated = Glibc.malloc(64 << index) else { return nil }
                block = allocated
            }
        }
        block.storeBytes(of: sizeClass, as: UInt.self)
        block.storeBytes(of: size, toByteOffset: MemoryLayout<UInt>.stride, as: Int.self)
        return block + header
    }

    @inline(__always)
    static func release(_ pointer: UnsafeMutableRawPointer?, _ userData: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        let block = pointer - header
        let sizeClass = block.load(as: UInt.self)
        let lists = userData!.assumingMemoryBound(to: Lists.self)
        let index = Int(sizeClass)
        guard sizeClass != direct, count(lists, index) < lists.pointee.limit else {
            Glibc.free(block)
            return
        }
        block.storeBytes(of: head(lists, index), as: UnsafeMutableRawPointer?.self)
        setHead(lists, index, block)
        setCount(lists, index, count(lists, index) + 1)
    }

    /// The bytes a block can hold, after its header.
    @inline(__always)
    static func capacity(_ pointer: UnsafeMutableRawPointer) -> Int {
        let block = pointer - header
        let sizeClass = block.load(as: UInt.self)
        return sizeClass == direct ? block.load(fromByteOffset: MemoryLayout<UInt>.stride, as: Int.self) : (64 << Int(sizeClass)) - header
    }

    @inline(__always)
    private static func head(_ lists: UnsafeMutablePointer<Lists>, _ index: Int) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(lists).load(fromByteOffset: index * MemoryLayout<UnsafeMutableRawPointer?>.stride, as: UnsafeMutableRawPointer?.self)
    }

    @inline(__always)
    private static func setHead(_ lists: UnsafeMutablePointer<Lists>, _ index: Int, _ block: UnsafeMutableRawPointer?) {
        UnsafeMutableRawPointer(lists).storeBytes(of: block, toByteOffset: index * MemoryLayout<UnsafeMutableRawPointer?>.stride,
                                                  as: UnsafeMutableRawPointer?.self)
    }

    /// Where the counts begin: after the heads (a constant, so no lazy global on each block).
    private static var countsOffset: Int { classCount * MemoryLayout<UnsafeMutableRawPointer?>.stride }

    @inline(__always)
    private static func count(_ lists: UnsafeMutablePointer<Lists>, _ index: Int) -> Int {
        UnsafeMutableRawPointer(lists).load(fromByteOffset: countsOffset + index * MemoryLayout<Int>.stride, as: Int.self)
    }

    @inline(__always)
    private static func setCount(_ lists: UnsafeMutablePointer<Lists>, _ index: Int, _ count: Int) {
        UnsafeMutableRawPointer(lists).storeBytes(of: count, toByteOffset: countsOffset + index * MemoryLayout<Int>.stride, as: Int.self)
    }
}

private let sessionMalloc: nghttp2_malloc = { size, userData in
    SessionMemory.allocate(size, userData)
}

private let sessionFree: nghttp2_free = { pointer, userData in
    SessionMemory.release(pointer, userData)
}

private let sessionCalloc: nghttp2_calloc = { count, size, userData in
    let (total, overflow) = count.multipliedReportingOverflow(by: size)
    guard !overflow, let pointer = SessionMemory.allocate(total, userData) else { return nil }
    pointer.initializeMemory(as: UInt8.self, repeating: 0, count: total)
    return pointer
}

private let sessionRealloc: nghttp2_realloc = { pointer, size, userData in
    guard let pointer else { return SessionMemory.allocate(size, userData) }
    if size == 0 {
        SessionMemory.release(pointer, userData)
        return nil
    }
    let capacity = SessionMemory.capacity(pointer)
    if size <= capacity { return pointer }
    guard let grown = SessionMemory.allocate(size, userData) else { return nil }
    grown.copyMemory(from: pointer, byteCount: min(capacity, size))
    SessionMemory.release(pointer, userData)
    return grown
}
