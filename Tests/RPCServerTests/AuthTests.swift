import RPC
import Testing
import VaultCrypto
@testable import RPCServer

@Suite("API tokens and abilities", .timeLimit(.minutes(1)))
struct AuthTests {
    @Test("a generated token has the documented shape, parses back, and hashes with SHA-256")
    func generated() throws {
        let token = try APIToken.generate()
        #expect(token.text.hasPrefix("svt_"))
        #expect(token.text.count == 4 + 43)
        let parsed = try APIToken(parsing: token.text)
        #expect(parsed == token)
        #expect(token.hash == VaultCrypto.sha256(Array(token.text.utf8)))
        let other = try APIToken.generate()
        #expect(other != token)
        #expect(!"\(token)".contains(String(token.text.dropFirst(4))))
    }

    @Test("base64url: RFC 4648 test vectors, unpadded")
    func base64url() {
        let vectors: [(String, String)] = [("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
                                           ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy")]
        for (input, expected) in vectors {
            let encoded = Base64URL.encode(Array(input.utf8))
            #expect(encoded == expected)
        }
        let special = Base64URL.encode([0xfb, 0xff, 0xbf])
        #expect(special == "-_-_")
    }

    @Test("authorization metadata: missing, not Bearer, malformed token → UNAUTHENTICATED with the reason")
    func bearer() throws {
        let token = try APIToken.generate()
        var good = Metadata()
        good.add("authorization", "Bearer \(token.text)")
        let parsed = try APIToken.bearer(in: good)
        #expect(parsed == token)

        var lowercase = Metadata()
        lowercase.add("authorization", "bearer  \(token.text) ")
        let parsedLowercase = try APIToken.bearer(in: lowercase)
        #expect(parsedLowercase == token)

        let cases: [(String?, String)] = [
            (nil, "missing 'authorization: Bearer <token>'"),
            ("Basic dXNlcjpwYXNz", "not 'Bearer <token>'"),
            ("Bearer", "not 'Bearer <token>'"),
            ("Bearer   ", "not 'Bearer <token>'"),
            ("Bearersvt_" + String(repeating: "A", count: 43), "not 'Bearer <token>'"),
            ("Bear svt_" + String(repeating: "A", count: 43), "not 'Bearer <token>'"),
            ("Bearer abc", "does not start with 'svt_'"),
            ("Bearer svt_short", "43 base64url characters"),
            ("Bearer svt_" + String(repeating: "+", count: 43), "43 base64url characters"),
        ]
        for (header, reason) in cases {
            var metadata = Metadata()
            if let header { metadata.add("authorization", header) }
            var failure: RPCError?
            do { _ = try APIToken.bearer(in: metadata) } catch { failure = error }
            #expect(failure?.code == .unauthenticated, "\(header ?? "no header")")
            #expect(failure?.message.contains(reason) == true, "\(failure?.message ?? "no error") should say \(reason)")
        }
    }

    @Test("abilities: lists parse, unknown names are refused by name, and a missing ability is PERMISSION_DENIED")
    func abilities() throws {
        let parsed = try Ability.parseList("timers:read, timers:write,timers:read")
        #expect(parsed == [.read, .write])
        var unknown: AuthError?
        do { _ = try Ability.parseList("timers:read,timers:fly") } catch { unknown = error }
        #expect(unknown?.message.hasPrefix("unknown ability 'timers:fly'") == true)
        var empty: AuthError?
        do { _ = try Ability.parseList("") } catch { empty = error }
        #expect(empty != nil)

        let principal = Principal(userID: 7, tokenID: 1, abilities: [.read])
        try principal.require(.read, for: "GetTimer")
        var denied: RPCError?
        do { try principal.require(.write, for: "PauseTimer") } catch { denied = error }
        #expect(denied?.code == .permissionDenied)
        #expect(denied?.message == "PauseTimer needs the ability 'timers:write', which this token does not have")
    }
}
