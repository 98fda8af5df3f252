import Testing
@testable import TimerDomain

@Suite("Input validation")
struct ValidationTests {
    func message<T>(_ body: () throws(TimerDomainError) -> T) -> String? {
        caught(body)?.message
    }

    @Test("descriptions are trimmed and must keep 1 to 1000 characters")
    func descriptionLength() throws {
        #expect(try Validation.description("Fix login bug") == "Fix login bug")
        #expect(try Validation.description("  Fix login bug \n") == "Fix login bug")
        #expect(try Validation.description("line one\nline two\tdone") == "line one\nline two\tdone")
        let thousand = String(repeating: "é", count: 1_000)
        #expect(try Validation.description(thousand) == thousand)

        let empty = caught { () throws(TimerDomainError) in try Validation.description("") }
        #expect(empty == TimerDomainError(
            code: .invalidArgument, message: "description must be 1 to 1000 characters, got 0", field: "description"
        ))
        #expect(empty?.code.grpcStatusCode == 3)
        var got = message { () throws(TimerDomainError) in try Validation.description(" \n\t ") }
        #expect(got == "description must be 1 to 1000 characters, got 0")
        got = message { () throws(TimerDomainError) in try Validation.description(thousand + "x") }
        #expect(got == "description must be 1 to 1000 characters, got 1001")
    }

    @Test("characters are Unicode scalars")
    func scalarsCount() throws {
        // 👩‍💻 is three scalars: woman, zero-width joiner, laptop.
        let coder = String(repeating: "👩‍💻", count: 333)
        #expect(try Validation.description(coder + "a") == coder + "a")
        let got = message { () throws(TimerDomainError) in try Validation.description(coder + "ab") }
        #expect(got == "description must be 1 to 1000 characters, got 1001")
    }

    @Test("control characters other than tab and line breaks are refused")
    func controlCharacters() {
        var got = message { () throws(TimerDomainError) in try Validation.description("a\u{0}b") }
        #expect(got == "description must not contain control characters, found U+0000 at character 2")
        got = message { () throws(TimerDomainError) in try Validation.description("bell\u{7}") }
        #expect(got == "description must not contain control characters, found U+0007 at character 5")
        got = message { () throws(TimerDomainError) in try Validation.description("\u{7F}") }
        #expect(got == "description must not contain control characters, found U+007F at character 1")
        got = message { () throws(TimerDomainError) in try Validation.description("next\u{85}line") }
        #expect(got == "description must not contain control characters, found U+0085 at character 5")
        got = message { () throws(TimerDomainError) in try Validation.description("", field: "timers[3].description") }
        #expect(got == "timers[3].description must be 1 to 1000 characters, got 0")
    }

    @Test("device ids are kept as given, up to 200 characters, required only by sync")
    func deviceIDs() throws {
        #expect(try Validation.deviceID("") == "")
        #expect(try Validation.deviceID(" web_browser_v1.0 ") == " web_browser_v1.0 ")
        var got = message { () throws(TimerDomainError) in try Validation.deviceID("", required: true) }
        #expect(got == "device_id must be 1 to 200 characters, got 0")
        got = message { () throws(TimerDomainError) in try Validation.deviceID(String(repeating: "d", count: 201)) }
        #expect(got == "device_id must be 0 to 200 characters, got 201")
        got = message { () throws(TimerDomainError) in try Validation.deviceID("tab\there") }
        #expect(got == "device_id must not contain control characters, found U+0009 at character 4")
    }

    @Test("admin reasons may be empty, up to 1000 characters")
    func reasons() throws {
        #expect(try Validation.reason("") == "")
        #expect(try Validation.reason(" left running ") == "left running")
        let got = message { () throws(TimerDomainError) in try Validation.reason(String(repeating: "r", count: 1_001)) }
        #expect(got == "reason must be at most 1000 characters, got 1001")
    }

    @Test("client_ref is a UUID, lower-cased; empty means none")
    func clientRefs() throws {
        #expect(try Validation.clientRef("") == nil)
        #expect(try Validation.clientRef("123E4567-E89B-12D3-A456-426614174000") == "123e4567-e89b-12d3-a456-426614174000")
        var got = message { () throws(TimerDomainError) in try Validation.clientRef("abc") }
        #expect(got == "client_ref must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, got \"abc\"")
        got = message { () throws(TimerDomainError) in try Validation.clientRef("123e4567e-89b-12d3-a456-426614174000") }
        #expect(got != nil)
        got = message { () throws(TimerDomainError) in try Validation.clientRef("123e4567-e89b-12d3-a456-42661417400g") }
        #expect(got != nil)
        got = message { () throws(TimerDomainError) in try Validation.clientRef("", required: true) }
        #expect(got == "client_ref must be a UUID such as 123e4567-e89b-12d3-a456-426614174000, got \"\"")
    }

    @Test("ids are positive")
    func ids() throws {
        #expect(try Validation.id(7) == 7)
        #expect(try Validation.optionalID(nil, field: "project_id") == nil)
        var got = message { () throws(TimerDomainError) in try Validation.id(0) }
        #expect(got == "id must be positive, got 0")
        got = message { () throws(TimerDomainError) in try Validation.optionalID(-5, field: "project_id") }
        #expect(got == "project_id must be positive, got -5")
    }

    @Test("page sizes: 0 is the default, then 1 to the maximum")
    func pageSizes() throws {
        #expect(try Validation.pageSize(0, .timers) == 50)
        #expect(try Validation.pageSize(1, .timers) == 1)
        #expect(try Validation.pageSize(500, .timers) == 500)
        #expect(try Validation.pageSize(0, .sessions) == 100)
        #expect(try Validation.pageSize(1_000, .sessions) == 1_000)
        var got = message { () throws(TimerDomainError) in try Validation.pageSize(501, .timers) }
        #expect(got == "page_size must be 1 to 500 (or 0 for the default 50), got 501")
        got = message { () throws(TimerDomainError) in try Validation.pageSize(-1, .timers) }
        #expect(got == "page_size must be 1 to 500 (or 0 for the default 50), got -1")
        got = message { () throws(TimerDomainError) in try Validation.pageSize(1_001, .sessions) }
        #expect(got == "page_size must be 1 to 1000 (or 0 for the default 100), got 1001")
        #expect(try Validation.heartbeatInterval(0) == 15)
        got = message { () throws(TimerDomainError) in try Validation.heartbeatInterval(301) }
        #expect(got == "heartbeat_interval_seconds must be 1 to 300 (or 0 for the default 15), got 301")
    }

    @Test("bulk targets: ids or all_active, 1 to 500 distinct positive ids")
    func bulkTargets() throws {
        #expect(try Validation.bulkTargets(ids: [], allActive: true) == .allActive)
        #expect(try Validation.bulkTargets(ids: [3, 1, 2], allActive: false) == .ids([3, 1, 2]))
        var got = message { () throws(TimerDomainError) in try Validation.bulkTargets(ids: [1], allActive: true) }
        #expect(got == "give either ids or all_active, not both")
        got = message { () throws(TimerDomainError) in try Validation.bulkTargets(ids: [], allActive: false) }
        #expect(got == "ids must list 1 to 500 timers (or set all_active), got 0")
        let tooMany = (1...501).map { Int64($0) }
        got = message { () throws(TimerDomainError) in try Validation.bulkTargets(ids: tooMany, allActive: false) }
        #expect(got == "ids must list 1 to 500 timers (or set all_active), got 501")
        got = message { () throws(TimerDomainError) in try Validation.bulkTargets(ids: [1, 2, 1], allActive: false) }
        #expect(got == "ids must be distinct, 1 appears twice")
        got = message { () throws(TimerDomainError) in try Validation.bulkTargets(ids: [3, 0], allActive: false) }
        #expect(got == "ids must be positive, got 0 at position 1")
    }

    @Test("an account's maximum running time is 1 second to 366 days")
    func maxRunning() throws {
        #expect(try Validation.maxRunningSeconds(1) == 1)
        #expect(try Validation.maxRunningSeconds(31_622_400) == 31_622_400)
        var got = message { () throws(TimerDomainError) in try Validation.maxRunningSeconds(0) }
        #expect(got == "max_running_seconds must be 1 to 31622400 (366 days), got 0")
        got = message { () throws(TimerDomainError) in try Validation.maxRunningSeconds(31_622_401) }
        #expect(got != nil)
    }

    @Test("a created range must not be empty")
    func createdRange() {
        let ordered = caught { () throws(TimerDomainError) in try Validation.createdRange(after: at(9), before: at(10)) }
        #expect(ordered == nil)
        let open = caught { () throws(TimerDomainError) in try Validation.createdRange(after: nil, before: at(10)) }
        #expect(open == nil)
        let empty = message { () throws(TimerDomainError) in try Validation.createdRange(after: at(10), before: at(10)) }
        #expect(empty == "created_after must be before created_before, got 2024-12-01T10:00:00.000000Z and 2024-12-01T10:00:00.000000Z")
    }
}
