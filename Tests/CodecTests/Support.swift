import CProtobufC
import Foundation
import TimerProtoC
@testable import Codec

/// A small, seedable generator so a failing case can be replayed exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The repository root, from this file's path.
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The protobuf-c descriptor behind a Swift message type.
func cDescriptor(of type: any ProtoMessage.Type) -> UnsafePointer<ProtobufCMessageDescriptor> {
    (type as! any CMessage.Type).cDescriptor
}

/// Unpacks and repacks with protobuf-c alone: the canonical bytes protobuf-c
/// produces for `input`, or nil when it rejects the input.
func protobufCRepack(_ input: [UInt8], descriptor: UnsafePointer<ProtobufCMessageDescriptor>) -> [UInt8]? {
    input.withUnsafeBufferPointer { buffer -> [UInt8]? in
        var empty: UInt8 = 0
        let base = buffer.baseAddress ?? withUnsafePointer(to: &empty) { $0 }
        guard let message = protobuf_c_message_unpack(descriptor, nil, buffer.count, base) else { return nil }
        defer { protobuf_c_message_free_unpacked(message, nil) }
        let size = protobuf_c_message_get_packed_size(message)
        return [UInt8](unsafeUninitializedCapacity: size) { out, count in
            count = size == 0 ? 0 : protobuf_c_message_pack(message, out.baseAddress)
        }
    }
}

/// Runs a command and returns its standard output; fails the caller on a
/// non-zero exit with the command's standard error.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String
}

func run(_ executable: String, _ arguments: [String], input: [UInt8] = [], in directory: URL = repositoryRoot,
         environment: [String: String] = [:]) throws -> [UInt8] {
    let process = Process()
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [executable] + arguments
    process.currentDirectoryURL = directory
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    // Feed stdin on another thread so a large output cannot deadlock the pipes.
    let writer = Thread {
        stdin.fileHandleForWriting.write(Data(input))
        try? stdin.fileHandleForWriting.close()
    }
    writer.start()
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    let errors = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw CommandFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(process.terminationStatus): \(String(decoding: errors, as: UTF8.self))")
    }
    return [UInt8](output)
}

/// Decodes with the Swift type, re-encodes, and returns both.
func swiftRoundTrip<M: ProtoMessage>(_: M.Type, _ bytes: [UInt8]) throws -> (value: M, bytes: [UInt8], again: M) {
    let value = try M(serializedBytes: bytes)
    let encoded = try value.serializedBytes()
    let again = try M(serializedBytes: encoded)
    return (value, encoded, again)
}

/// The protoc plugin built beside this test bundle (the same build folder).
var builtPlugin: String {
    URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("protoc-gen-vault").path
}
