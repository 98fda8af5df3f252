import Testing
import RPC

@Suite("HTTP status to gRPC status, for responses without grpc-status")
struct WireHTTPStatusMappingTests {
    @Test("the mapping table", arguments: [
        (400, StatusCode.internalError), (401, .unauthenticated), (403, .permissionDenied), (404, .unimplemented),
        (429, .unavailable), (431, .internalError), (502, .unavailable), (503, .unavailable), (504, .unavailable),
        (200, .unknown), (204, .unknown), (301, .unknown), (405, .unknown), (415, .unknown), (500, .unknown), (599, .unknown),
    ])
    func table(status: Int, code: StatusCode) {
        #expect(HTTPStatusMapping.code(forHTTPStatus: status) == code)
        #expect(HTTPStatusMapping.error(forHTTPStatus: status) == RPCError(code: code, message: "HTTP status \(status) (no grpc-status)"))
    }

    @Test(":status values parse", arguments: [
        ("200", 200 as Int?), ("503", 503), ("100", 100), ("999", 999),
        ("", nil), ("20", nil), ("2000", nil), ("099", nil), ("2O0", nil), (" 200", nil), ("-20", nil),
    ])
    func parseStatus(value: String, expected: Int?) {
        #expect(HTTPStatusMapping.parseStatus(value.utf8) == expected)
    }
}
