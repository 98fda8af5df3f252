import Codec
import CProtobufC
import InteropProtoC

// The protobuf-c side of each grpc.testing message (Codec's CMessage bridge).

extension GRPCTesting.Empty: CMessage {
    package typealias CStruct = Grpc__Testing__Empty
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__empty__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.BoolValue: CMessage {
    package typealias CStruct = Grpc__Testing__BoolValue
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__bool_value__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.value = value ? 1 : 0
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        value = c.pointee.value != 0
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.Payload: CMessage {
    package typealias CStruct = Grpc__Testing__Payload
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__payload__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.type = type.c()
        c.pointee.body = arena.binaryData(body)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        type = .init(c: c.pointee.type)
        body = CRead.binaryData(c.pointee.body)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.EchoStatus: CMessage {
    package typealias CStruct = Grpc__Testing__EchoStatus
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__echo_status__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.code = code
        if !message.isEmpty { c.pointee.message = try arena.cString(message, path: "grpc.testing.EchoStatus.message") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        code = c.pointee.code
        message = try CRead.string(c.pointee.message, "grpc.testing.EchoStatus.message")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.TestOrcaReport: CMessage {
    package typealias CStruct = Grpc__Testing__TestOrcaReport
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__test_orca_report__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.cpu_utilization = cpuUtilization
        c.pointee.memory_utilization = memoryUtilization
        (c.pointee.n_request_cost, c.pointee.request_cost) = try Self.writeMap(
            requestCost, Grpc__Testing__TestOrcaReport__RequestCostEntry.self, "request_cost", &arena,
            initialise: { grpc__testing__test_orca_report__request_cost_entry__init($0) },
            set: { entry, key, value in entry.pointee.key = key; entry.pointee.value = value })
        (c.pointee.n_utilization, c.pointee.utilization) = try Self.writeMap(
            utilization, Grpc__Testing__TestOrcaReport__UtilizationEntry.self, "utilization", &arena,
            initialise: { grpc__testing__test_orca_report__utilization_entry__init($0) },
            set: { entry, key, value in entry.pointee.key = key; entry.pointee.value = value })
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        cpuUtilization = c.pointee.cpu_utilization
        memoryUtilization = c.pointee.memory_utilization
        requestCost = try Self.readMap(c.pointee.n_request_cost, c.pointee.request_cost, "request_cost") { ($0.pointee.key, $0.pointee.value) }
        utilization = try Self.readMap(c.pointee.n_utilization, c.pointee.utilization, "utilization") { ($0.pointee.key, $0.pointee.value) }
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }

    /// A `map<string, double>` as protobuf-c's array of entry messages, in key order.
    private static func writeMap<Entry>(
        _ map: [String: Double], _: Entry.Type, _ field: String, _ arena: inout Arena,
        initialise: (UnsafeMutablePointer<Entry>) -> Void,
        set: (UnsafeMutablePointer<Entry>, UnsafeMutablePointer<CChar>, Double) -> Void
    ) throws(CodecError) -> (Int, UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?) {
        guard !map.isEmpty else { return (0, nil) }
        let array = arena.allocate(byteCount: map.count * MemoryLayout<UnsafeMutablePointer<Entry>?>.stride)
            .bindMemory(to: UnsafeMutablePointer<Entry>?.self, capacity: map.count)
        for (i, key) in map.keys.sorted().enumerated() {
            let entry = arena.allocate(byteCount: MemoryLayout<Entry>.stride).bindMemory(to: Entry.self, capacity: 1)
            initialise(entry)
            set(entry, try arena.cString(key, path: "grpc.testing.TestOrcaReport.\(field)"), map[key]!)
            (array + i).initialize(to: entry)
        }
        return (map.count, array)
    }

    /// Reads a map; a key given twice keeps its last value, as protobuf says.
    private static func readMap<Entry>(
        _ count: Int, _ array: UnsafeMutablePointer<UnsafeMutablePointer<Entry>?>?, _ field: String,
        _ read: (UnsafeMutablePointer<Entry>) -> (UnsafeMutablePointer<CChar>?, Double)
    ) throws(CodecError) -> [String: Double] {
        guard count > 0, let array else { return [:] }
        var map: [String: Double] = [:]
        for i in 0..<count {
            guard let entry = array[i] else { continue }
            let (key, value) = read(entry)
            map[try CRead.string(key, "grpc.testing.TestOrcaReport.\(field)")] = value
        }
        return map
    }
}

extension GRPCTesting.SimpleRequest: CMessage {
    package typealias CStruct = Grpc__Testing__SimpleRequest
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__simple_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.response_type = responseType.c()
        c.pointee.response_size = responseSize
        c.pointee.payload = try arena.message(payload)
        c.pointee.fill_username = fillUsername ? 1 : 0
        c.pointee.fill_oauth_scope = fillOauthScope ? 1 : 0
        c.pointee.response_compressed = try arena.message(responseCompressed)
        c.pointee.response_status = try arena.message(responseStatus)
        c.pointee.expect_compressed = try arena.message(expectCompressed)
        c.pointee.fill_server_id = fillServerID ? 1 : 0
        c.pointee.fill_grpclb_route_type = fillGrpclbRouteType ? 1 : 0
        c.pointee.orca_per_query_report = try arena.message(orcaPerQueryReport)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        responseType = .init(c: c.pointee.response_type)
        responseSize = c.pointee.response_size
        payload = try CRead.message(c.pointee.payload)
        fillUsername = c.pointee.fill_username != 0
        fillOauthScope = c.pointee.fill_oauth_scope != 0
        responseCompressed = try CRead.message(c.pointee.response_compressed)
        responseStatus = try CRead.message(c.pointee.response_status)
        expectCompressed = try CRead.message(c.pointee.expect_compressed)
        fillServerID = c.pointee.fill_server_id != 0
        fillGrpclbRouteType = c.pointee.fill_grpclb_route_type != 0
        orcaPerQueryReport = try CRead.message(c.pointee.orca_per_query_report)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.SimpleResponse: CMessage {
    package typealias CStruct = Grpc__Testing__SimpleResponse
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__simple_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.payload = try arena.message(payload)
        if !username.isEmpty { c.pointee.username = try arena.cString(username, path: "grpc.testing.SimpleResponse.username") }
        if !oauthScope.isEmpty { c.pointee.oauth_scope = try arena.cString(oauthScope, path: "grpc.testing.SimpleResponse.oauth_scope") }
        if !serverID.isEmpty { c.pointee.server_id = try arena.cString(serverID, path: "grpc.testing.SimpleResponse.server_id") }
        c.pointee.grpclb_route_type = grpclbRouteType.c()
        if !hostname.isEmpty { c.pointee.hostname = try arena.cString(hostname, path: "grpc.testing.SimpleResponse.hostname") }
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        payload = try CRead.message(c.pointee.payload)
        username = try CRead.string(c.pointee.username, "grpc.testing.SimpleResponse.username")
        oauthScope = try CRead.string(c.pointee.oauth_scope, "grpc.testing.SimpleResponse.oauth_scope")
        serverID = try CRead.string(c.pointee.server_id, "grpc.testing.SimpleResponse.server_id")
        grpclbRouteType = .init(c: c.pointee.grpclb_route_type)
        hostname = try CRead.string(c.pointee.hostname, "grpc.testing.SimpleResponse.hostname")
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.StreamingInputCallRequest: CMessage {
    package typealias CStruct = Grpc__Testing__StreamingInputCallRequest
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__streaming_input_call_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.payload = try arena.message(payload)
        c.pointee.expect_compressed = try arena.message(expectCompressed)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        payload = try CRead.message(c.pointee.payload)
        expectCompressed = try CRead.message(c.pointee.expect_compressed)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.StreamingInputCallResponse: CMessage {
    package typealias CStruct = Grpc__Testing__StreamingInputCallResponse
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__streaming_input_call_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.aggregated_payload_size = aggregatedPayloadSize
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        aggregatedPayloadSize = c.pointee.aggregated_payload_size
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.ResponseParameters: CMessage {
    package typealias CStruct = Grpc__Testing__ResponseParameters
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__response_parameters__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.size = size
        c.pointee.interval_us = intervalUs
        c.pointee.compressed = try arena.message(compressed)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        size = c.pointee.size
        intervalUs = c.pointee.interval_us
        compressed = try CRead.message(c.pointee.compressed)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.StreamingOutputCallRequest: CMessage {
    package typealias CStruct = Grpc__Testing__StreamingOutputCallRequest
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__streaming_output_call_request__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.response_type = responseType.c()
        (c.pointee.n_response_parameters, c.pointee.response_parameters) = try arena.messages(responseParameters)
        c.pointee.payload = try arena.message(payload)
        c.pointee.response_status = try arena.message(responseStatus)
        c.pointee.orca_oob_report = try arena.message(orcaOobReport)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        responseType = .init(c: c.pointee.response_type)
        responseParameters = try CRead.messages(c.pointee.n_response_parameters, c.pointee.response_parameters)
        payload = try CRead.message(c.pointee.payload)
        responseStatus = try CRead.message(c.pointee.response_status)
        orcaOobReport = try CRead.message(c.pointee.orca_oob_report)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.StreamingOutputCallResponse: CMessage {
    package typealias CStruct = Grpc__Testing__StreamingOutputCallResponse
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__streaming_output_call_response__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.payload = try arena.message(payload)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        payload = try CRead.message(c.pointee.payload)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.ReconnectParams: CMessage {
    package typealias CStruct = Grpc__Testing__ReconnectParams
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__reconnect_params__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.max_reconnect_backoff_ms = maxReconnectBackoffMs
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        maxReconnectBackoffMs = c.pointee.max_reconnect_backoff_ms
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}

extension GRPCTesting.ReconnectInfo: CMessage {
    package typealias CStruct = Grpc__Testing__ReconnectInfo
    nonisolated(unsafe) package static let cDescriptor = descriptor(initialising: CStruct.self) { grpc__testing__reconnect_info__init($0) }

    package func write(to c: UnsafeMutablePointer<CStruct>, arena: inout Arena) throws(CodecError) {
        c.pointee.passed = passed ? 1 : 0
        (c.pointee.n_backoff_ms, c.pointee.backoff_ms) = arena.scalars(backoffMs)
        arena.writeUnknownFields(unknownFields, into: &c.pointee.base)
    }

    package init(reading c: UnsafePointer<CStruct>) throws(CodecError) {
        passed = c.pointee.passed != 0
        backoffMs = CRead.scalars(c.pointee.n_backoff_ms, c.pointee.backoff_ms)
        unknownFields = try CRead.unknownFields(c.pointee.base, Self.protoMessageName)
    }
}
