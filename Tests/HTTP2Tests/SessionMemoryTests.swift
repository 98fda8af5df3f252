import CNGHTTP2
import Testing
@testable import HTTP2

@Suite("nghttp2 session allocator")
struct SessionMemoryTests {
    @Test("sizes map to the classes 64 << n, header included, and larger ones go to malloc")
    func classes() {
        #expect(SessionMemory.sizeClass(1) == 0)
        #expect(SessionMemory.sizeClass(64) == 0)
        #expect(SessionMemory.sizeClass(65) == 1)
        #expect(SessionMemory.sizeClass(128) == 1)
        #expect(SessionMemory.sizeClass(129) == 2)
        #expect(SessionMemory.sizeClass(1_025) == 5)
        #expect(SessionMemory.sizeClass(2_048) == 5)
        #expect(SessionMemory.sizeClass(2_049) == 6)
    }

    @Test("blocks hold what is written, calloc zeroes, realloc keeps the bytes, and freed blocks come back")
    func allocations() throws {
        let memory = SessionMemory()
        defer { memory.release() }
        let allocator = memory.allocator
        let malloc = try #require(allocator.malloc), free = try #require(allocator.free)
        let calloc = try #require(allocator.calloc), realloc = try #require(allocator.realloc)
        var blocks: [UnsafeMutableRawPointer] = []
        for size in [0, 1, 48, 49, 200, 1_000, 2_032, 2_033, 100_000] {
            let block = try #require(malloc(size, allocator.mem_user_data))
            #expect(Int(bitPattern: block) % 16 == 0, "block of \(size) bytes is not 16-byte aligned")
            block.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: size), count: size)
            blocks.append(block)
        }
        for (block, size) in zip(blocks, [0, 1, 48, 49, 200, 1_000, 2_032, 2_033, 100_000]) {
            let bytes = UnsafeRawBufferPointer(start: block, count: size)
            #expect(bytes.allSatisfy { $0 == UInt8(truncatingIfNeeded: size) }, "block of \(size) bytes changed")
        }
        let zeroed = try #require(calloc(30, 10, allocator.mem_user_data)).assumingMemoryBound(to: UInt8.self)
        #expect(UnsafeBufferPointer(start: zeroed, count: 300).allSatisfy { $0 == 0 })
        // Grown across classes and into a large block: the first bytes stay.
        var grown = try #require(realloc(nil, 40, allocator.mem_user_data))
        for index in 0..<40 { grown.storeBytes(of: UInt8(index), toByteOffset: index, as: UInt8.self) }
        for size in [100, 3_000, 10_000, 20] {
            grown = try #require(realloc(grown, size, allocator.mem_user_data))
            #expect((0..<min(size, 40)).allSatisfy { grown.load(fromByteOffset: $0, as: UInt8.self) == UInt8($0) })
        }
        free(grown, allocator.mem_user_data)
        free(zeroed, allocator.mem_user_data)
        for block in blocks { free(block, allocator.mem_user_data) }
        free(nil, allocator.mem_user_data)
        // A freed block of a kept class is handed out again (not under
        // AddressSanitizer, where every block goes back to malloc).
        let first = try #require(malloc(100, allocator.mem_user_data))
        free(first, allocator.mem_user_data)
        let second = try #require(malloc(90, allocator.mem_user_data))
        if !SessionMemory.sanitized { #expect(second == first) }
        free(second, allocator.mem_user_data)
    }
}
