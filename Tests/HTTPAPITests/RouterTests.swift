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
import TestSupport

/// The demo, with a cheap password hash (cost 4) so signing in costs the tests nothing.
let demo = SwitchboardConfiguration.demo(passwordHash: PasswordHash.make("switchboard", cost: 4))

/// The REST API through Hummingbird's router, in process: the application `buildApplication` makes,
/// over an in-memory (or controlled) store, the simulator and a manual clock.
@Suite("HTTP API")
struct RouterTests {
    static func server(store: any EventStore = InMemoryEventStore(), clock: ManualClock = ManualClock()) async throws
        -> SwitchboardServer
    {
        var options = ServerOptions()
        options.clock = clock
        return try await buildApplication(
            configuration: demo, store: store, telephony: SimulatedTelephony(), options: options)
    }

    @Test func everyV1RouteButSignInAsksForAToken() async throws {
        try await Self.server().application.test(.router) { client in
            for (method, uri) in [(HTTPRequest.Method.get, "/v1/me"), (.get, "/v1/tasks"), (.get, "/v1/tasks/t1/history"),
                                  (.post, "/v1/tasks/t1/accept"), (.get, "/v1/agents"), (.post, "/v1/sim/calls"),
                                  (.get, "/v1/notifications")] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .unauthorized, "\(method) \(uri)")
                #expect(try error(response).code == "unauthorized")
            }
            #expect(try await client.execute(uri: "/health", method: .get).status == .ok)
        }
    }

    @Test func anOversizedBodyIs413WithTheErrorBodyNotA500() async throws {
        try await Self.server().application.test(.router) { client in
            let big = ByteBuffer(repeating: UInt8(ascii: "a"), count: 2 * 1024 * 1024)
            let agent1 = try await signIn(client, "agent1")
            for (uri, headers) in [("/v1/auth/login", HTTPFields()), ("/v1/sim/calls", agent1),
                                   ("/v1/tasks/t1/wrapup", agent1), ("/v1/tasks/t1/accept", agent1)] {
                let response = try await client.execute(uri: uri, method: .post, headers: headers, body: big)
                #expect(response.status == .contentTooLarge, "\(uri)")
                let body = try error(response)
                #expect(body.code == "payloadTooLarge")
                #expect(!body.message.contains("NIO"), "no internals in the message")
            }
        }
    }

    @Test func anUnknownRouteAnswersWithTheErrorBody() async throws {
        try await Self.server().application.test(.router) { client in
            let response = try await client.execute(uri: "/v2/nothing", method: .get)
            #expect(response.status == .notFound)
            #expect(try error(response).code == "noSuchRoute")
        }
    }

    @Test func aFinishedTasksHistoryStaysReadableByItsAgentsAndSupervisorsOnly() async throws {
        try await Self.server().application.test(.router) { client in
            let (agent1, agent2) = (try await signIn(client, "agent1"), try await signIn(client, "agent2"))
            let agent3 = try await signIn(client, "agent3")
            let supervisor = try await signIn(client, "supervisor1")
            let task = try await conferenceEndedAndWrappedUp(client, agent1, agent2)
            #expect(try await client.execute(uri: "/v1/tasks/\(task)", method: .get, headers: agent1).status == .notFound)
            for reader in [agent1, agent2, supervisor] {
                let response = try await client.execute(uri: "/v1/tasks/\(task)/history", method: .get, headers: reader)
                #expect(response.status == .ok)
                let names = try JSONDecoder().decode([HistoryEvent].self, from: Data(buffer: response.body)).map(\.event)
                #expect(names.first == "arrived")
                #expect(names.last == "wrapUpApplied")
                #expect(names.contains("conferenceStarted"))
            }
            let stranger = try await client.execute(uri: "/v1/tasks/\(task)/history", method: .get, headers: agent3)
            #expect(stranger.status == .notFound)
        }
    }

    @Test func aSecondWrapUpWithoutItsKeyAnswers409AlreadyWrappedUp() async throws {
        try await Self.server().application.test(.router) { client in
            let (agent1, agent2) = (try await signIn(client, "agent1"), try await signIn(client, "agent2"))
            let task = try await conferenceEndedAndWrappedUp(client, agent1, agent2)
            let again = try await client.execute(
                uri: "/v1/tasks/\(task)/wrapup", method: .post, headers: agent1, body: json(["wrapUpCodeId": "resolved"]))
            #expect(again.status == .conflict)
            #expect(try error(again).code == "alreadyWrappedUp")
            // Someone who never owed one still hears that the task is not theirs.
            let agent3 = try await signIn(client, "agent3")
            let stranger = try await client.execute(
                uri: "/v1/tasks/\(task)/wrapup", method: .post, headers: agent3, body: json(["wrapUpCodeId": "resolved"]))
            #expect(stranger.status == .notFound)
        }
    }

    @Test func aFailedWriteAnswers503UntilARestartAndTheLogKeepsWhatWasAnswered() async throws {
        let store = ControlledStore()
        try await Self.server(store: store).application.test(.router) { client in
            let agent1 = try await signIn(client, "agent1")
            #expect(try await available(client, agent1).status == .ok)
            store.failWrites()
            for _ in 0..<2 {
                let response = try await client.execute(
                    uri: "/v1/sim/calls", method: .post, headers: agent1,
                    body: json(["queueId": "sales", "from": "+15550100"]))
                #expect(response.status == .serviceUnavailable)
                #expect(try error(response).code == "storeUnavailable")
            }
            #expect(try await client.execute(uri: "/v1/me/state", method: .put, headers: agent1,
                                             body: json(["state": "idle", "idleCodeId": "break"])).status == .serviceUnavailable)
        }
        try await Self.server(store: store.inner).application.test(.router) { client in
            let agent1 = try await signIn(client, "agent1")
            let me = try await client.execute(uri: "/v1/me", method: .get, headers: agent1)
            #expect(try JSONSerialization.jsonObject(with: Data(buffer: me.body)) as? [String: Any]? != nil)
            #expect(String(buffer: me.body).contains(#""state":"available""#))
            let tasks = try await client.execute(uri: "/v1/tasks", method: .get, headers: agent1)
            #expect(String(buffer: tasks.body) == "[]")
        }
    }

    @Test func overRealHTTPOnAFreePortTheSpecsConferenceRunsToItsWrapUp() async throws {
        var options = ServerOptions()
        options.clock = ManualClock()
        options.port = 0
        let server = try await buildApplication(
            configuration: demo, store: InMemoryEventStore(), telephony: SimulatedTelephony(), options: options)
        try await server.application.test(.live) { client in
            let (agent1, agent2) = (try await signIn(client, "agent1"), try await signIn(client, "agent2"))
            let task = try await conferenceEndedAndWrappedUp(client, agent1, agent2)
            let history = try await client.execute(uri: "/v1/tasks/\(task)/history", method: .get, headers: agent2)
            #expect(history.status == .ok)
            let metrics = try await client.execute(uri: "/metrics", method: .get)
            #expect(String(buffer: metrics.body).contains(#"switchboard_commands_total{command="wrapup",outcome="accepted"} 1"#))
        }
    }

    @Test func aTaskSnapshotSaysWhenTheCallArrivedAndWhenTheCustomerLeft() async throws {
        try await Self.server().application.test(.router) { client in
            let agent1 = try await signIn(client, "agent1")
            _ = try await available(client, agent1)
            let task = try await placeCall(client, agent1)
            _ = try await client.execute(uri: "/v1/tasks/\(task)/accept", method: .post, headers: agent1)
            _ = try await client.execute(uri: "/v1/sim/calls/\(task)/hangup", method: .post, headers: agent1)
            let snapshot = try await client.execute(uri: "/v1/tasks/\(task)", method: .get, headers: agent1)
            let body = try #require(try JSONSerialization.jsonObject(with: Data(buffer: snapshot.body)) as? [String: Any])
            let customer = try #require(body["customer"] as? [String: Any])
            #expect(body["arrivedAt"] as? Int64 == 1_800_000_000_000)
            #expect(customer["leftAt"] as? Int64 == 1_800_000_000_000)
            #expect(body["wrapUpRequired"] as? Bool == true)
        }
    }
}

// MARK: - Helpers

struct ErrorBody: Decodable {
    struct Inner: Decodable { var code: String; var message: String }
    var error: Inner
}

struct HistoryEvent: Decodable { var event: String }

struct Token: Decodable { var token: String }

func error(_ response: TestResponse) throws -> ErrorBody.Inner {
    try JSONDecoder().decode(ErrorBody.self, from: Data(buffer: response.body)).error
}

func json(_ value: [String: String]) -> ByteBuffer {
    ByteBuffer(bytes: try! JSONEncoder().encode(value))
}

/// Signs in; returns the headers that carry the token.
func signIn(_ client: some TestClientProtocol, _ user: String) async throws -> HTTPFields {
    let response = try await client.execute(
        uri: "/v1/auth/login", method: .post, body: json(["username": user, "password": "switchboard"]))
    #expect(response.status == .ok)
    let token = try JSONDecoder().decode(Token.self, from: Data(buffer: response.body)).token
    return [.authorization: "Bearer \(token)", .contentType: "application/json"]
}

func available(_ client: some TestClientProtocol, _ headers: HTTPFields) async throws -> TestResponse {
    try await client.execute(uri: "/v1/me/state", method: .put, headers: headers, body: json(["state": "available"]))
}

func placeCall(_ client: some TestClientProtocol, _ headers: HTTPFields) async throws -> String {
    let response = try await client.execute(
        uri: "/v1/sim/calls", method: .post, headers: headers, body: json(["queueId": "sales", "from": "+15550100"]))
    #expect(response.status == .created)
    return try #require(try JSONDecoder().decode([String: String].self, from: Data(buffer: response.body))["taskId"])
}

/// The spec's conference, ended by Agent 1, who then wraps up: the task is over and forgotten.
func conferenceEndedAndWrappedUp(_ client: some TestClientProtocol, _ agent1: HTTPFields, _ agent2: HTTPFields)
    async throws -> String
{
    _ = try await available(client, agent1)
    let task = try await placeCall(client, agent1)
    func command(_ name: String, _ who: HTTPFields, _ body: [String: String]? = nil) async throws {
        let response = try await client.execute(
            uri: "/v1/tasks/\(task)/\(name)", method: .post, headers: who, body: body.map(json))
        #expect(response.status == .ok, "\(name): \(String(buffer: response.body))")
    }
    try await command("accept", agent1)
    _ = try await available(client, agent2)
    try await command("consult", agent1, ["destinationType": "agent", "to": "agent2"])
    try await command("consult/accept", agent2)
    try await command("consult/conference", agent1)
    try await command("conference/end", agent1)
    try await command("wrapup", agent1, ["wrapUpCodeId": "resolved"])
    return task
}

@Suite("HTTP API: past interactions")
struct PastInteractionRouteTests {
    @Test func supervisorsListEveryPastInteractionAndAgentsTheirOwnPaged() async throws {
        let clock = ManualClock()
        try await RouterTests.server(clock: clock).application.test(.router) { client in
            let (agent1, agent2) = (try await signIn(client, "agent1"), try await signIn(client, "agent2"))
            let supervisor = try await signIn(client, "supervisor1")
            let conference = try await conferenceEndedAndWrappedUp(client, agent1, agent2)
            clock.advance(by: 1_000)  // the second call ends later
            let alone = try await placeCall(client, agent1)
            for (name, body) in [("accept", nil), ("end", nil), ("wrapup", ["wrapUpCodeId": "sale"])] as [(String, [String: String]?)] {
                _ = try await client.execute(uri: "/v1/tasks/\(alone)/\(name)", method: .post, headers: agent1, body: body.map(json))
            }
            func page(_ who: HTTPFields, _ query: String = "") async throws -> PastPage {
                let response = try await client.execute(uri: "/v1/interactions\(query)", method: .get, headers: who)
                #expect(response.status == .ok)
                return try JSONDecoder().decode(PastPage.self, from: Data(buffer: response.body))
            }
            // Past interactions are recorded off the command's path: wait (boundedly) for both.
            var tries = 0
            while try await page(supervisor).interactions.count < 2, tries < 10_000 {
                tries += 1
                await Task.yield()
            }
            #expect(try await page(supervisor).interactions.map(\.id) == [alone, conference])
            #expect(try await page(agent2).interactions.map(\.id) == [conference])
            #expect(try await page(supervisor, "?wrapUpCode=sale").interactions.map(\.id) == [alone])
            let first = try await page(supervisor, "?limit=1")
            #expect(first.interactions.map(\.id) == [alone])
            let second = try await page(supervisor, "?limit=1&before=\(try #require(first.next))")
            #expect(second.interactions.map(\.id) == [conference])
            let bad = try await client.execute(uri: "/v1/interactions?limit=0", method: .get, headers: supervisor)
            #expect(bad.status == .badRequest)
            let badTime = try await client.execute(uri: "/v1/interactions?from=yesterday", method: .get, headers: supervisor)
            #expect(badTime.status == .badRequest)
        }
    }

    @Test func theHistoryOfACallOlderThanTheRetentionSaysItIsNoLongerKept() async throws {
        try await RouterTests.server().application.test(.router) { client in
            let supervisor = try await signIn(client, "supervisor1")
            let old = InteractionID.make(at: Timestamp(milliseconds: 1_800_000_000_000 - 91 * 86_400_000))
            let response = try await client.execute(uri: "/v1/tasks/\(old)/history", method: .get, headers: supervisor)
            #expect(response.status == .notFound)
            #expect(try error(response).code == "historyNotKept")
            let unknown = try await client.execute(uri: "/v1/tasks/t1/history", method: .get, headers: supervisor)
            #expect(try error(unknown).code == "notFound")
        }
    }
}

struct PastPage: Decodable {
    struct Item: Decodable { var id: String; var queue: String }
    var interactions: [Item]
    var next: String?
}
