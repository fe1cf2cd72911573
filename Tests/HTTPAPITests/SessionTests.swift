import CallControl
import Center
import Foundation
import HTTPAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Store
import Testing

/// Sessions through the router, in process, on a manual clock (docs/sessions.md).
@Suite("HTTP API: sessions")
struct SessionTests {
    static func server(store: any EventStore = InMemoryEventStore(), clock: ManualClock, idle: Int = 3_600, maximum: Int = 43_200)
        async throws -> SwitchboardServer
    {
        var options = ServerOptions()
        options.clock = clock
        options.sessions = Sessions.Policy(idle: .seconds(idle), maximumAge: .seconds(maximum))
        return try await buildApplication(configuration: demo, store: store, telephony: SimulatedTelephony(), options: options)
    }

    func me(_ client: some TestClientProtocol, _ headers: HTTPFields) async throws -> TestResponse {
        try await client.execute(uri: "/v1/me", method: .get, headers: headers)
    }

    @Test func aSessionOutlivesARestartAndItsTokenIsStoredOnlyAsAHash() async throws {
        let (store, clock) = (InMemoryEventStore(), ManualClock())
        let agent1 = try await Self.server(store: store, clock: clock).application.test(.router) { client in
            try await signIn(client, "agent1")
        }
        let token = String(agent1[.authorization]!.dropFirst("Bearer ".count))
        let kept = try await store.sessions()
        #expect(kept.count == 1)
        #expect(kept.allSatisfy { $0.tokenHash != token && !$0.tokenHash.contains(token) })
        let status = try await Self.server(store: store, clock: clock).application.test(.router) { client in
            try await me(client, agent1).status
        }
        #expect(status == .ok)
    }

    @Test func aSessionUnusedForTheIdleTimeAnswers401SessionExpiredAndUseKeepsItAlive() async throws {
        let clock = ManualClock()
        try await Self.server(clock: clock, idle: 60).application.test(.router) { client in
            let (used, unused) = (try await signIn(client, "agent1"), try await signIn(client, "agent2"))
            for _ in 0..<3 {
                clock.advance(by: 40_000)
                #expect(try await me(client, used).status == .ok)
            }
            let response = try await me(client, unused)
            #expect(response.status == .unauthorized)
            #expect(try error(response).code == "sessionExpired")
        }
    }

    @Test func aSessionOlderThanTheMaximumAgeEndsEvenInUse() async throws {
        let clock = ManualClock()
        try await Self.server(clock: clock, idle: 60, maximum: 100).application.test(.router) { client in
            let agent1 = try await signIn(client, "agent1")
            clock.advance(by: 50_000)
            #expect(try await me(client, agent1).status == .ok)
            clock.advance(by: 50_000)
            #expect(try error(try await me(client, agent1)).code == "sessionExpired")
        }
    }

    @Test func signingOutWithALiveCallIs409CallInProgressThenWrapUpOwedThenLeavesTheCenter() async throws {
        try await Self.server(clock: ManualClock()).application.test(.router) { client in
            let agent1 = try await signIn(client, "agent1")
            _ = try await available(client, agent1)
            let task = try await placeCall(client, agent1)
            let logout = { try await client.execute(uri: "/v1/auth/logout", method: .post, headers: agent1) }
            #expect(try error(try await logout()).code == "callInProgress")
            for (name, body) in [("accept", nil), ("end", nil)] as [(String, [String: String]?)] {
                _ = try await client.execute(uri: "/v1/tasks/\(task)/\(name)", method: .post, headers: agent1, body: body.map(json))
            }
            let owed = try await logout()
            #expect(owed.status == .conflict)
            #expect(try error(owed).code == "wrapUpOwed")
            #expect(try await me(client, agent1).status == .ok, "a refused sign-out keeps the session")
            _ = try await client.execute(
                uri: "/v1/tasks/\(task)/wrapup", method: .post, headers: agent1, body: json(["wrapUpCodeId": "resolved"]))
            let out = try await logout()
            #expect(out.status == .ok)
            #expect(String(buffer: out.body).contains(#""leftCenter":true"#))
            #expect(try error(try await me(client, agent1)).code == "signedOut")
            let again = try await signIn(client, "agent1")
            #expect(String(buffer: try await me(client, again).body).contains(#""state":"idle""#))
        }
    }

    @Test func theFifthFailedSignInForANameBlocksItWith429RetryAfterUntilTheBlockPasses() async throws {
        let clock = ManualClock()
        try await Self.server(clock: clock).application.test(.router) { client in
            func attempt(_ user: String, _ password: String) async throws -> TestResponse {
                try await client.execute(uri: "/v1/auth/login", method: .post, body: json(["username": user, "password": password]))
            }
            for _ in 0..<5 { #expect(try await attempt("agent1", "guess").status == .unauthorized) }
            let blocked = try await attempt("agent1", "switchboard")
            #expect(blocked.status == .tooManyRequests)
            #expect(try error(blocked).code == "tooManyAttempts")
            #expect(blocked.headers[.retryAfter] == "30")
            #expect(try await attempt("agent2", "switchboard").status == .ok, "another name is not blocked")
            clock.advance(by: 30_000)
            #expect(try await attempt("agent1", "switchboard").status == .ok)
        }
    }

    @Test func everyAnswerCarriesTheSecurityHeaders() async throws {
        try await Self.server(clock: ManualClock()).application.test(.router) { client in
            for uri in ["/health", "/v1/me", "/nowhere"] {
                let response = try await client.execute(uri: uri, method: .get)
                let policy = try #require(response.headers[.contentSecurityPolicy])
                #expect(policy.contains("default-src 'self'") && policy.contains("frame-ancestors 'none'"))
                #expect(!policy.contains("unsafe-inline"))
                #expect(response.headers[.xContentTypeOptions] == "nosniff")
                #expect(response.headers[HTTPField.Name("X-Frame-Options")!] == "DENY")
                #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer")
            }
        }
    }

    @Test func aSupervisorSigningAnAgentOutEndsTheirSessionsAndTheAuditTrailNamesTheSupervisor() async throws {
        try await Self.server(clock: ManualClock()).application.test(.router) { client in
            let (agent1, supervisor) = (try await signIn(client, "agent1"), try await signIn(client, "supervisor1"))
            let refused = try await client.execute(uri: "/v1/agents/agent2/logout", method: .post, headers: agent1)
            #expect(try error(refused).code == "notASupervisor")
            #expect(try await client.execute(uri: "/v1/agents/agent1/logout", method: .post, headers: supervisor).status == .ok)
            let ended = try await me(client, agent1)
            #expect(try error(ended).code == "signedOutBySupervisor")
            #expect(try error(ended).message.contains("Supervisor 1"))
            let audit = try await client.execute(uri: "/v1/agents/agent1/audit", method: .get, headers: supervisor)
            struct Line: Decodable { var action: String; var by: String? }
            let lines = try JSONDecoder().decode([Line].self, from: Data(buffer: audit.body))
            #expect(lines.map(\.action) == ["signedOutBySupervisor", "signedIn"])
            #expect(lines.first?.by == "supervisor1")
        }
    }
}
