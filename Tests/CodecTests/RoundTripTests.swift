import CProtobufC
import Testing
@testable import Codec

/// Every message type, through thousands of random encodings: the Swift value
/// must carry every field both ways, so encoding what was decoded gives exactly
/// the bytes protobuf-c itself produces for the same input, and decoding those
/// bytes gives the same value again.
@Suite("Round trip of every message")
struct RoundTripTests {
    static let seed: UInt64 = 0x5EED_7133

    @Test("random encodings", arguments: MessageTypes.all.map { $0.protoMessageName })
    func randomEncodings(name: String) async throws {
        let type = try #require(MessageTypes.named(name))
        try await check(type, name: name)
    }

    func check<M: ProtoMessage>(_ type: M.Type, name: String) async throws {
        let descriptor = cDescriptor(of: type)
        // A stable per-type seed (FNV-1a of the name), so each type gets its own cases.
        let nameHash = name.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
        var generator = RandomMessages(rng: SplitMix64(seed: Self.seed ^ nameHash))
        for i in 0..<300 {
            // Seconds of work in all: other tests' tasks, waiting on the
            // same few threads, get their turns between slices of it.
            if i % 25 == 0 { await Task.yield() }
            let wire = generator.message(descriptor)
            let canonical = try #require(protobufCRepack(wire, descriptor: descriptor),
                                         "protobuf-c rejected generated input \(i) of \(name)")
            let (value, encoded, again) = try swiftRoundTrip(type, wire)
            #expect(encoded == canonical, "\(name) case \(i): Swift encoding differs from protobuf-c's")
            #expect(again == value, "\(name) case \(i): value changed through encode/decode")
            // With room in front (a gRPC message header's 5 bytes): zeros, then the same encoding.
            let roomy = try value.serializedBytes(headroom: 5)
            #expect(roomy == [0, 0, 0, 0, 0] + encoded, "\(name) case \(i): encoding after headroom differs")
            if encoded != canonical || again != value || roomy.count != encoded.count + 5 { return }
        }
    }

    @Test("the default message encodes to nothing and decodes from nothing", arguments: MessageTypes.all.map { $0.protoMessageName })
    func defaults(name: String) throws {
        let type = try #require(MessageTypes.named(name))
        func check<M: ProtoMessage>(_: M.Type) throws {
            #expect(try M().serializedBytes() == [])
            #expect(try M(serializedBytes: []) == M())
            // Decoding takes no bytes for the default without asking protobuf-c:
            // protobuf-c makes the same of them.
            if let cType = M.self as? any CMessage.Type {
                #expect(try viaProtobufC(cType) as? M == M())
            }
        }
        func viaProtobufC<C: CMessage>(_: C.Type) throws -> C {
            try C.unpackWithProtobufC(UnsafeRawBufferPointer(start: nil, count: 0))
        }
        try check(type)
    }

    @Test("protoMessageName matches the descriptor", arguments: MessageTypes.all.map { $0.protoMessageName })
    func names(name: String) throws {
        let type = try #require(MessageTypes.named(name))
        #expect(String(cString: cDescriptor(of: type).pointee.name) == name)
    }

    @Test("absent and zero optionals stay distinct")
    func optionalPresence() throws {
        var request = UpdateTimerRequest()
        request.id = 42
        #expect(try UpdateTimerRequest(serializedBytes: request.serializedBytes()).projectID == nil)
        request.projectID = 0
        request.description = ""
        request.expectedSyncVersion = 0
        let decoded = try UpdateTimerRequest(serializedBytes: request.serializedBytes())
        #expect(decoded.projectID == 0)
        #expect(decoded.description == "")
        #expect(decoded.expectedSyncVersion == 0)
        #expect(decoded.billingRateID == nil)
        #expect(decoded == request)

        var create = CreateTimerRequest()
        #expect(try CreateTimerRequest(serializedBytes: create.serializedBytes()).start == nil)
        create.start = false
        #expect(try CreateTimerRequest(serializedBytes: create.serializedBytes()).start == false)
    }

    @Test("unknown enum numbers survive")
    func unknownEnums() throws {
        var timer = VaultTimer()
        timer.status = TimerStatus(rawValue: 77)
        #expect(timer.status == .unrecognized(77))
        let decoded = try VaultTimer(serializedBytes: timer.serializedBytes())
        #expect(decoded.status == .unrecognized(77))
        #expect(decoded.status.rawValue == 77)
        var filter = ListTimersRequest()
        filter.statuses = [.running, .unrecognized(-3), .paused]
        #expect(try ListTimersRequest(serializedBytes: filter.serializedBytes()).statuses == filter.statuses)
    }

    @Test("unknown fields are kept and written back")
    func unknownFields() throws {
        var w = WireWriter()
        w.tag(1, 0); w.varint(9)              // id = 9
        w.tag(4000, 2); w.lengthDelimited(Array("future".utf8))
        w.tag(4001, 0); w.varint(300)
        let timer = try VaultTimer(serializedBytes: w.bytes)
        #expect(timer.id == 9)
        #expect(timer.unknownFields.fields.map(\.number) == [4000, 4001])
        #expect(timer.unknownFields.fields[0].payload == [6] + Array("future".utf8))  // length prefix kept
        #expect(try timer.serializedBytes() == w.bytes)
    }

    @Test("Timestamp and Duration convert exactly")
    func wellKnownTypes() throws {
        let d = ProtoDuration(.seconds(-1) - .milliseconds(500))
        #expect(d.seconds == -1 && d.nanos == -500_000_000)
        #expect(d.duration == .milliseconds(-1_500))
        #expect(ProtoDuration(.milliseconds(2_250)) == ProtoDuration(seconds: 2, nanos: 250_000_000))
        #expect(Timestamp(seconds: 253_402_300_799, nanos: 999_999_999).isValid)
        #expect(!Timestamp(seconds: 253_402_300_800).isValid)
        #expect(!Timestamp(seconds: 0, nanos: -1).isValid)
        #expect(Timestamp(seconds: 1) < Timestamp(seconds: 1, nanos: 1))
    }
}
