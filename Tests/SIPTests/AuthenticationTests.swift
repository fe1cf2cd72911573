import Foundation
import Cryptography
import Testing

@testable import SIP

@Suite struct DigestAuthentication {
    let realm = "switchboard"
    var authenticator = DigestAuthenticator(realm: "switchboard", secret: Array(repeating: 7, count: 32))
    let credential = DigestCredential(username: "agent1", realm: "switchboard", password: "switchboard")

    // RFC 7616 §3.9.1: the request-digest of its example, both algorithms.
    @Test func theRequestDigestMatchesRFC7616sExample() {
        let nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"
        let credential = DigestCredential(username: "Mufasa", realm: "http-auth@example.org", password: "Circle of Life")
        let md5 = DigestAuthenticator.response(
            .md5, ha1: credential.ha1[.md5]!, nonce: nonce, qop: ("00000001", cnonce), method: "GET", uri: "/dir/index.html")
        let sha = DigestAuthenticator.response(
            .sha256, ha1: credential.ha1[.sha256]!, nonce: nonce, qop: ("00000001", cnonce), method: "GET", uri: "/dir/index.html")
        #expect(md5 == "8ca523f5e9506fed4657c9700eebdbec")
        #expect(sha == "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
    }

    @Test func theStoredFormHoldsOnlyHashes() {
        let stored = credential.stored
        #expect(!stored.contains("switchboard"))
        #expect(DigestCredential(stored: stored) == credential)
        #expect(DigestCredential(stored: "md5:xyz") == nil)
    }

    /// A REGISTER answering `challenge` the way a phone would.
    func register(
        answering challenge: String, password: String = "switchboard", algorithm: DigestAlgorithm, nc: String? = "00000001"
    ) -> SIPRequest {
        var request = Fixture.request(.register)
        let fields = DigestAuthenticator.parameters(challenge)!
        let ha1 = DigestCredential(username: "agent1", realm: realm, password: password).ha1[algorithm]!
        let response = DigestAuthenticator.response(
            algorithm, ha1: ha1, nonce: fields["nonce"]!, qop: nc.map { ($0, "c0ffee") }, method: "REGISTER",
            uri: "sip:127.0.0.1")
        request.headers.add(
            "Authorization",
            "Digest username=\"agent1\", realm=\"\(realm)\", nonce=\"\(fields["nonce"]!)\", uri=\"sip:127.0.0.1\", "
                + "response=\"\(response)\", algorithm=\(algorithm.rawValue)"
                + (nc.map { ", cnonce=\"c0ffee\", qop=auth, nc=\($0)" } ?? ""))
        return request
    }

    @Test(arguments: DigestAlgorithm.allCases)
    mutating func aPhoneAnsweringTheChallengeIsAuthenticated(algorithm: DigestAlgorithm) {
        let challenges = authenticator.challenges(now: .seconds(100))
        #expect(challenges.count == 2)
        #expect(challenges[0].contains("algorithm=MD5"), "simple phones answer the first challenge: MD5")
        #expect(challenges[1].contains("algorithm=SHA-256"))
        let challenge = challenges.first { $0.contains("algorithm=\(algorithm.rawValue)") }!
        let outcome = authenticator.verify(register(answering: challenge, algorithm: algorithm), now: .seconds(110)) { _ in credential }
        #expect(outcome == .authenticated(username: "agent1"))
    }

    @Test mutating func aWrongPasswordIsRejected() {
        let challenge = authenticator.challenges(now: .seconds(100))[0]
        let request = register(answering: challenge, password: "guess", algorithm: .sha256)
        #expect(authenticator.verify(request, now: .seconds(101)) { _ in credential } == .rejected("wrong response"))
    }

    @Test mutating func anExpiredNonceWithTheRightPasswordIsStale() {
        let challenge = authenticator.challenges(now: .seconds(100))[0]
        let request = register(answering: challenge, algorithm: .sha256)
        #expect(authenticator.verify(request, now: .seconds(100) + authenticator.nonceLifetime + .seconds(1)) { _ in credential } == .stale)
        #expect(authenticator.challenges(now: .seconds(500), stale: true)[0].hasSuffix("stale=TRUE"))
    }

    @Test mutating func aNonceAnotherServerMadeIsRejected() {
        let other = DigestAuthenticator(realm: realm, secret: Array(repeating: 8, count: 32))
        let request = register(answering: other.challenges(now: .seconds(100))[0], algorithm: .sha256)
        #expect(authenticator.verify(request, now: .seconds(101)) { _ in credential } == .rejected("not a nonce of this server"))
    }

    @Test mutating func noAuthorizationIsMissingAndAnUnknownUserIsRejected() {
        #expect(authenticator.verify(Fixture.request(.register), now: .zero) { _ in credential } == .missing)
        let request = register(answering: authenticator.challenges(now: .zero)[0], algorithm: .md5)
        #expect(authenticator.verify(request, now: .zero) { _ in nil } == .rejected("unknown user"))
    }

    @Test mutating func aCapturedAnswerSentAgainIsAReplayWhileARisingNonceCountIsAccepted() {
        let challenge = authenticator.challenges(now: .seconds(100))[0]
        let first = register(answering: challenge, algorithm: .md5, nc: "00000001")
        #expect(authenticator.verify(first, now: .seconds(101)) { _ in credential } == .authenticated(username: "agent1"))
        #expect(authenticator.verify(first, now: .seconds(102)) { _ in credential } == .replayed)
        let next = register(answering: challenge, algorithm: .md5, nc: "00000002")
        #expect(authenticator.verify(next, now: .seconds(103)) { _ in credential } == .authenticated(username: "agent1"))
        #expect(authenticator.verify(first, now: .seconds(104)) { _ in credential } == .replayed, "a lower count after a higher")
    }

    @Test mutating func anAnswerWithoutQopMayUseItsNonceOnce() {
        let challenge = authenticator.challenges(now: .seconds(100))[0]
        let request = register(answering: challenge, algorithm: .md5, nc: nil)
        #expect(authenticator.verify(request, now: .seconds(101)) { _ in credential } == .authenticated(username: "agent1"))
        #expect(authenticator.verify(request, now: .seconds(102)) { _ in credential } == .replayed)
    }

    @Test func aClientThatGivesUpOnChallengesItCannotAnswerIsOfferedMD5Alone() {
        let only = authenticator.challenges(now: .seconds(100), only: [.md5])
        #expect(only.count == 1 && only[0].contains("algorithm=MD5"))
    }
}

@Suite struct Registrations {
    let peer = SIPPeer(.udp, host: "127.0.0.1", port: 5070)

    func register(contact: String, expires: Int?, callID: String = "reg-1", cseq: UInt32 = 1) -> SIPRequest {
        var request = Fixture.request(.register)
        request.headers.set("Call-ID", callID)
        request.headers.set("CSeq", "\(cseq) REGISTER")
        request.headers.add("Contact", contact)
        if let expires { request.headers.add("Expires", String(expires)) }
        return request
    }

    @Test func aRegisterBindsTheContactAndTheOKListsItWithItsExpiry() {
        var registrar = Registrar()
        let (response, changes) = registrar.register(
            register(contact: "<sip:agent1@127.0.0.1:5070>", expires: 600), user: "agent1", from: peer, now: .seconds(10), toTag: "r")
        #expect(response.status == 200)
        #expect(response.headers.values("Contact") == ["<sip:agent1@127.0.0.1:5070>;expires=600"])
        #expect(changes == [.registered(user: "agent1")])
        #expect(registrar.contacts(of: "agent1").map(\.contact) == ["sip:agent1@127.0.0.1:5070"])
        #expect(registrar.nextExpiry == .seconds(610))
    }

    @Test func anIntervalBelowTheMinimumGets423WithMinExpires() {
        var registrar = Registrar()
        let (response, changes) = registrar.register(
            register(contact: "<sip:agent1@127.0.0.1>", expires: 5), user: "agent1", from: peer, now: .zero, toTag: "r")
        #expect(response.status == 423)
        #expect(response.headers["Min-Expires"] == "60")
        #expect(changes.isEmpty)
    }

    @Test func bindingsWrittenDownByAnotherRunAreRestoredUntilTheirOwnExpiry() throws {
        var first = Registrar()
        _ = first.register(register(contact: "<sip:agent1@127.0.0.1:5070>", expires: 600), user: "agent1", from: peer, now: .seconds(10), toTag: "r")
        let written = try JSONEncoder().encode(first.contacts(of: "agent1"))
        var next = Registrar()
        let restored = try JSONDecoder().decode([Registrar.Binding].self, from: written)
        #expect(next.restore(user: "agent1", restored, now: .seconds(300)) == [.registered(user: "agent1")])
        #expect(next.contacts(of: "agent1") == first.contacts(of: "agent1"), "the same contact, source and expiry")
        #expect(next.expire(now: .seconds(610)) == [.unregistered(user: "agent1", expired: true)], "expires when it would have")
        var late = Registrar()
        #expect(late.restore(user: "agent1", restored, now: .seconds(610)).isEmpty && late.contacts(of: "agent1").isEmpty)
    }

    @Test func aRegistrationThatRunsOutIsNoticedAsExpired() {
        var registrar = Registrar()
        _ = registrar.register(register(contact: "<sip:agent1@127.0.0.1>", expires: 60), user: "agent1", from: peer, now: .zero, toTag: "r")
        #expect(registrar.expire(now: .seconds(59)) == [])
        #expect(registrar.expire(now: .seconds(60)) == [.unregistered(user: "agent1", expired: true)])
        #expect(registrar.contacts(of: "agent1").isEmpty)
    }

    @Test func expiresZeroRemovesTheBindingAndStarRemovesThemAll() {
        var registrar = Registrar()
        _ = registrar.register(register(contact: "<sip:agent1@a.example>", expires: 600), user: "agent1", from: peer, now: .zero, toTag: "r")
        _ = registrar.register(register(contact: "<sip:agent1@b.example>", expires: 600, cseq: 2), user: "agent1", from: peer, now: .zero, toTag: "r")
        let (_, none) = registrar.register(
            register(contact: "<sip:agent1@a.example>", expires: 0, cseq: 3), user: "agent1", from: peer, now: .zero, toTag: "r")
        #expect(none.isEmpty)
        #expect(registrar.contacts(of: "agent1").map(\.contact) == ["sip:agent1@b.example"])
        let (response, changes) = registrar.register(register(contact: "*", expires: 0, cseq: 4), user: "agent1", from: peer, now: .zero, toTag: "r")
        #expect(response.status == 200)
        #expect(changes == [.unregistered(user: "agent1", expired: false)])
    }

    @Test func aLateRegisterWithAnOlderCSeqIsRefused() {
        var registrar = Registrar()
        _ = registrar.register(register(contact: "<sip:agent1@a.example>", expires: 600, cseq: 5), user: "agent1", from: peer, now: .zero, toTag: "r")
        let (response, _) = registrar.register(
            register(contact: "<sip:agent1@a.example>", expires: 0, cseq: 4), user: "agent1", from: peer, now: .zero, toTag: "r")
        #expect(response.status == 500)
        #expect(registrar.contacts(of: "agent1").count == 1)
    }

    @Test func starWithoutExpiresZeroIsABadRequest() {
        var registrar = Registrar()
        let (response, _) = registrar.register(register(contact: "*", expires: 60), user: "agent1", from: peer, now: .zero, toTag: "r")
        #expect(response.status == 400)
    }

    @Test func aBindingWhosePhoneStoppedAnsweringIsRemovedAndTheLastOneUnregistersItsUser() {
        var registrar = Registrar()
        _ = registrar.register(register(contact: "<sip:agent1@127.0.0.1:5070>", expires: 600), user: "agent1", from: peer, now: .zero, toTag: "t")
        _ = registrar.register(
            register(contact: "<sip:agent1@127.0.0.1:5072>", expires: 600, callID: "reg-2"), user: "agent1", from: peer, now: .zero, toTag: "t")
        #expect(registrar.remove(user: "agent1", contact: "sip:agent1@127.0.0.1:5070").isEmpty, "another binding is left")
        #expect(registrar.remove(user: "agent1", contact: "sip:agent1@127.0.0.1:5072") == [.unregistered(user: "agent1", expired: true)])
        #expect(registrar.contacts(of: "agent1").isEmpty)
        #expect(registrar.remove(user: "agent1", contact: "sip:agent1@127.0.0.1:5072").isEmpty)
    }
}
