import CallControl
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdWebSocket
import Logging
import NIOCore
import Synchronization

/// Who is signed in, and answers already given to retried commands. Behind a lock rather than
/// an actor: every request reads it, and a lookup is too short to be worth a suspension.
public final class Sessions: Sendable {
    public enum Role: String, Codable, Sendable { case agent, supervisor }

    public struct Session: Sendable {
        public var user: String
        public var role: Role
        public var agent: AgentID? { role == .agent ? AgentID(user) : nil }
    }

    private struct State {
        var byToken: [String: Session] = [:]
        /// Answers to commands sent with an Idempotency-Key, in two generations: when the newer
        /// one holds `keptAnswers`, it becomes the older and the oldest is dropped. So memory
        /// stays bounded and a key is remembered for at least the next `keptAnswers` keyed commands.
        var answered: [String: (HTTPResponse.Status, Data)] = [:]
        var answeredBefore: [String: (HTTPResponse.Status, Data)] = [:]
    }

    private let state = Mutex(State())
    static let keptAnswers = 10_000

    public init() {}

    func open(_ session: Session) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
        state.withLock { $0.byToken[token] = session }
        return token
    }

    func session(for token: String) -> Session? { state.withLock { $0.byToken[token] } }

    func answer(for key: String) -> (HTTPResponse.Status, Data)? {
        state.withLock { $0.answered[key] ?? $0.answeredBefore[key] }
    }

    func remember(_ answer: (HTTPResponse.Status, Data), for key: String) {
        state.withLock { state in
            if state.answered.count >= Self.keptAnswers {
                state.answeredBefore = state.answered
                state.answered = [:]
            }
            state.answered[key] = answer
        }
    }
}

/// A refusal the API answers with `{"error": {"code", "message"}}`.
struct APIError: Error {
    var status: HTTPResponse.Status
    var code: String
    var message: String

    static let storeUnavailable = APIError(
        status: .serviceUnavailable, code: "storeUnavailable", message: "the event store refused a write; restart the server")
    static let draining = APIError(
        status: .serviceUnavailable, code: "draining", message: "the server is shutting down and takes no new calls")
    static let unauthorized = APIError(status: .unauthorized, code: "unauthorized", message: "sign in first: no or bad bearer token")
    static let notFound = APIError(status: .notFound, code: "notFound", message: "no such task for you")
    static let badCredentials = APIError(status: .unauthorized, code: "badCredentials", message: "unknown user or wrong password")
    static func badRequest(_ message: String) -> APIError { APIError(status: .badRequest, code: "badRequest", message: message) }

    /// The answer's body: `{"error": {"code", "message"}}`.
    var body: Data { encodeJSON(["error": ["code": code, "message": message]]) }

    init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    init(_ rejection: Rejection) {
        switch rejection.kind {
        case .role: status = .forbidden
        case .state: status = .conflict
        case .notFound: status = .notFound
        case .invalid: status = .badRequest
        }
        code = rejection.code
        message = Self.explain(rejection)
    }

    /// Every refusal in words a desktop can show as it is.
    static func explain(_ rejection: Rejection) -> String {
        switch rejection {
        case .notOwner: "only the agent who owns the call may do that"
        case .ownerCannotExitConference: "you own this conference: end it, or transfer it, rather than exit"
        case .actorNotPermitted: "that line may not do this"
        case .useAgentDesktop: "transfers and conferences are made from the Agent Desktop, not the phone"
        case .notAParticipant: "you are not on this call"
        case .holdNotAllowedInConference: "the customer cannot be put on hold during a conference"
        case .notAllowedInConference: "not possible during a conference"
        case .notAllowedInWrapUpAssist: "no hold, resume or consult once the customer has left"
        case .consultInProgress: "a consult is already in progress"
        case .noActiveConsult: "there is no consult in progress"
        case .consultNotAnswered: "the consulted party has not answered yet"
        case .conferenceFull: "the conference is full"
        case .notInConference: "the call is not a conference"
        case .notOffered: "this call is not being offered to you"
        case .notConnected: "you are not connected to this call"
        case .alreadyHeld: "the customer is already on hold"
        case .notHeld: "the customer is not on hold"
        case .interactionEnded: "the call has ended"
        case .wrapUpNotRequired: "no wrap-up is owed for this task"
        case .noAgentToTransferTo: "there is no one to transfer the call to"
        case .timerNotActive: "that timer is no longer running"
        case .agentLoggedOut: "that agent is signed out"
        case .agentBusy: "that agent is busy with another call"
        case .alreadyInState: "you are already in that state"
        case .agentUnavailable: "that agent is not available"
        case .cannotTargetSelf: "you cannot consult or transfer to yourself"
        case .unknownInteraction: "no such call"
        case .interactionExists: "a call with that id already exists"
        case .unknownAgent: "no such agent"
        case .unknownQueue: "no such queue"
        case .unknownWrapUpCode: "no such wrap-up reason"
        case .unknownIdleCode: "no such idle reason"
        case .invalidDialNumber: "not a dial number: up to 15 digits, optionally after a +"
        case .invalidIdentifier: "an id is at most 15 bytes"
        }
    }
}

struct LoginRequest: Decodable { var username: String; var password: String }
struct StateRequest: Decodable { var state: String; var idleCodeId: String? }
struct DestinationRequest: Decodable { var destinationType: String; var to: String }
struct WrapUpRequest: Decodable { var wrapUpCodeId: String; var notes: String? }
struct SimCallRequest: Decodable { var queueId: String; var from: String }

/// Builds the HTTP application: the REST API over a `ContactCenter`.
/// With `desktop`, the Agent Desktop's files (HTML, CSS, JS modules) are served from that folder at `/`.
public func buildRouter(center: ContactCenter, sessions: Sessions, simulator: Bool, desktop: String? = nil)
    -> Router<BasicRequestContext>
{
    let router = Router(context: BasicRequestContext.self)
    if let desktop { router.add(middleware: FileMiddleware(desktop, searchForIndexHtml: true)) }
    let api = API(center: center, sessions: sessions)

    // The desktop shows its simulator panel when the simulator is on.
    struct Health: Encodable { var status = "ok"; var simulator: Bool }
    router.get("/health") { _, _ in api.json(Health(simulator: simulator)) }

    router.get("/metrics") { _, _ in
        center.metrics.setGauges(await center.liveFigures())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: center.metrics.registry.emitToBuffer())))
    }
    router.post("/v1/auth/login") { request, _ in
        await api.respond { try await api.login(request) }
    }
    router.get("/v1/me") { request, _ in
        await api.respond { try await api.me(try api.session(request)) }
    }
    router.put("/v1/me/state") { request, _ in
        await api.respond { try await api.changeState(request) }
    }
    router.get("/v1/tasks") { request, _ in
        await api.respond { api.json(await center.tasks(for: try api.session(request).agent)) }
    }
    router.get("/v1/tasks/:id") { request, context in
        await api.respond {
            let session = try api.session(request)
            let id = InteractionID(context.parameters.get("id") ?? "")
            guard let task = await center.snapshot(id, for: session.agent) else { throw APIError.notFound }
            return api.json(task)
        }
    }
    router.get("/v1/tasks/:id/history") { request, context in
        await api.respond {
            let session = try api.session(request)
            let id = InteractionID(context.parameters.get("id") ?? "")
            guard await center.sees(id, session.agent) else { throw APIError.notFound }
            return api.json(try await center.history(id).map(HistoryEntry.init))
        }
    }
    for path in ["/v1/tasks/:id/:action", "/v1/tasks/:id/:action/:subaction"] {
        router.post(RouterPath(path)) { request, context in
            await api.respond {
                let name = [context.parameters.get("action"), context.parameters.get("subaction")].compactMap { $0 }
                    .joined(separator: "/")
                guard let action = TaskAction(rawValue: name) else {
                    throw APIError(status: .notFound, code: "unknownCommand", message: "no command '\(name)'")
                }
                return try await api.command(action, on: InteractionID(context.parameters.get("id") ?? ""), request)
            }
        }
    }
    router.get("/v1/agents") { request, _ in
        await api.respond {
            _ = try api.session(request)
            return api.json(await center.agentViews())
        }
    }
    router.get("/v1/queues") { request, _ in
        await api.respond {
            _ = try api.session(request)
            var queues: [QueueView] = []
            for queue in center.configuration.queues {
                let waiting = await center.waiting(in: QueueID(queue.id))
                queues.append(QueueView(id: queue.id, name: queue.name, waiting: waiting.count,
                                        longestWaitSince: waiting.map(\.since.milliseconds).min()))
            }
            return api.json(queues)
        }
    }
    router.get("/v1/wrapup-codes") { request, _ in
        await api.respond { _ = try api.session(request); return api.json(center.configuration.wrapUpCodes) }
    }
    router.get("/v1/stats/wrapups") { request, _ in
        await api.respond {
            _ = try api.session(request)
            return api.json(["today": await center.wrapUpsToday()])
        }
    }
    router.get("/v1/idle-codes") { request, _ in
        await api.respond { _ = try api.session(request); return api.json(center.configuration.idleCodes) }
    }

    if simulator {
        router.post("/v1/sim/calls") { request, _ in
            await api.respond {
                _ = try api.session(request)
                let body = try await api.decode(SimCallRequest.self, request)
                let id = InteractionID(API.newTaskID())
                try await api.run(.customerCall(id, queue: QueueID(body.queueId), from: DialNumber(body.from)), .customer)
                return api.json(["taskId": id.rawValue], status: .created)
            }
        }
        router.post("/v1/sim/calls/:id/hangup") { request, context in
            await api.respond {
                _ = try api.session(request)
                let id = InteractionID(context.parameters.get("id") ?? "")
                try await api.run(.customerHungUp(id), .customer)
                return api.json(["taskId": id.rawValue])
            }
        }
        router.post("/v1/sim/agents/:agentId/hangup") { request, context in
            await api.respond {
                _ = try api.session(request)
                let agent = AgentID(context.parameters.get("agentId") ?? "")
                guard let task = await center.task(of: agent) else {
                    throw APIError(status: .conflict, code: "notConnected", message: "that agent's phone is not on a call")
                }
                try await api.run(.agentPhoneHungUp(task), .phone(agent))
                return api.json(["taskId": task.rawValue])
            }
        }
    }
    return router
}

struct AgentView: Encodable {
    var id: String
    var displayName: String
    var team: String
    var state: String
    var idleCodeId: String?
    /// Idle chosen during a call: applied once the agent is free.
    var pendingIdleCodeId: String?
    var since: Int64

    init(_ agent: CallControl.Agent, displayName: String) {
        id = agent.id.rawValue
        self.displayName = displayName
        team = agent.team.rawValue
        state = agent.status.name
        if case .idle(let code) = agent.status { idleCodeId = code.rawValue }
        pendingIdleCodeId = agent.pendingIdle?.rawValue
        since = agent.since.milliseconds
    }
}

/// One event of a task's timeline: when, what, and its details as the log keeps them.
struct HistoryEntry: Encodable {
    var at: Int64
    var event: String
    var detail: String

    init(_ event: Event) {
        at = event.at.milliseconds
        if case .interaction(_, let change) = event.subject {
            let text = String(describing: change)
            self.event = String(text.prefix { $0 != "(" })
            detail = text
        } else {
            self.event = "agent"
            detail = String(describing: event.subject)
        }
    }
}

struct QueueView: Encodable {
    var id: String
    var name: String
    var waiting: Int
    var longestWaitSince: Int64?
}

struct API: Sendable {
    let center: ContactCenter
    let sessions: Sessions

    static func newTaskID() -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnpqrstuvwxyz23456789")
        return "t" + String((0..<12).map { _ in alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))] })
    }

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        raw(encodeJSON(value), status: status)
    }

    func raw(_ data: Data, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Runs a handler and turns its refusals into the API's error answers.
    func respond(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as APIError {
            return raw(error.body, status: error.status)
        } catch is ContactCenter.StoreUnavailable {
            return raw(APIError.storeUnavailable.body, status: .serviceUnavailable)
        } catch is ContactCenter.Draining {
            return raw(APIError.draining.body, status: .serviceUnavailable)
        } catch {
            return raw(APIError(status: .internalServerError, code: "internal", message: "\(error)").body,
                       status: .internalServerError)
        }
    }

    func session(_ request: Request) throws -> Sessions.Session {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let session = sessions.session(for: String(header.dropFirst(7)))
        else { throw APIError.unauthorized }
        return session
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: 64 * 1024)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not the JSON this route takes")
        }
    }

    @discardableResult
    func run(_ command: Command, _ actor: CallControl.Actor, viewer: AgentID? = nil) async throws -> TaskSnapshot? {
        let (outcome, snapshot): (Outcome, TaskSnapshot?)
        do {
            (outcome, snapshot) = try await center.execute(command, from: actor, viewer: viewer)
        } catch is ContactCenter.NotOnTask {
            throw APIError.notFound
        }
        if let rejection = outcome.rejection { throw APIError(rejection) }
        return snapshot
    }

    func login(_ request: Request) async throws -> Response {
        let body = try await decode(LoginRequest.self, request)
        let configuration = center.configuration
        let role: Sessions.Role
        let hash: String
        if let agent = configuration.agents.first(where: { $0.id == body.username }) {
            role = .agent
            hash = agent.passwordHash
        } else if let supervisor = configuration.supervisors.first(where: { $0.id == body.username }) {
            role = .supervisor
            hash = supervisor.passwordHash
        } else {
            throw APIError.badCredentials
        }
        guard Bcrypt.verify(body.password, hash: hash) else { throw APIError.badCredentials }
        if role == .agent, await center.agent(AgentID(body.username))?.status == .loggedOut {
            try await run(.login, .agent(AgentID(body.username)))
        }
        let token = sessions.open(Sessions.Session(user: body.username, role: role))
        return json(["token": token, "agentId": body.username, "role": role.rawValue])
    }

    func me(_ session: Sessions.Session) async throws -> Response {
        guard let id = session.agent, let (view, task) = await center.agentViewAndTask(id) else {
            return json(["id": session.user, "role": session.role.rawValue])
        }
        /// The agent as the directory shows them, plus the role and the task their phone is on.
        struct Me: Encodable {
            enum Keys: String, CodingKey { case role, taskId }
            var view: AgentView
            var taskId: String?

            func encode(to encoder: any Encoder) throws {
                try view.encode(to: encoder)
                var container = encoder.container(keyedBy: Keys.self)
                try container.encode("agent", forKey: .role)
                try container.encodeIfPresent(taskId, forKey: .taskId)
            }
        }
        return json(Me(view: view, taskId: task?.rawValue))
    }

    func changeState(_ request: Request) async throws -> Response {
        let session = try session(request)
        guard let agent = session.agent else {
            throw APIError(status: .forbidden, code: "notAnAgent", message: "only agents have a state")
        }
        let body = try await decode(StateRequest.self, request)
        switch body.state {
        case "available": try await run(.setAvailable, .agent(agent))
        case "idle":
            guard let code = body.idleCodeId else { throw APIError.badRequest("idle needs an idleCodeId") }
            try await run(.setIdle(IdleCodeID(code)), .agent(agent))
        default: throw APIError.badRequest("state is 'available' or 'idle'")
        }
        return try await me(session)
    }

    func command(_ action: TaskAction, on id: InteractionID, _ request: Request) async throws -> Response {
        let session = try session(request)
        guard let agent = session.agent else {
            throw APIError(status: .forbidden, code: "notAnAgent", message: "only agents control calls")
        }
        // A retried command (same Idempotency-Key) gets the first answer, not a second run.
        let key = request.headers[HTTPField.Name("Idempotency-Key")!].map { "\(session.user)|\($0)" }
        if let key, let (status, data) = sessions.answer(for: key) { return raw(data, status: status) }

        let command: Command
        switch action {
        case .accept: command = .accept(id)
        case .hold: command = .hold(id)
        case .resume: command = .resume(id)
        case .consult: command = .consult(id, to: try await destination(request))
        case .consultAccept: command = .consultAccept(id)
        case .consultEnd: command = .consultEnd(id)
        case .conference: command = .conference(id)
        case .consultTransfer: command = .consultTransfer(id)
        case .conferenceTransfer: command = .conferenceTransfer(id)
        case .exitConference: command = .exitConference(id)
        case .endConference: command = .endConference(id)
        case .transfer: command = .transfer(id, to: try await destination(request))
        case .end: command = .end(id)
        case .wrapUp:
            let body = try await decode(WrapUpRequest.self, request)
            command = .wrapUp(id, code: WrapUpCodeID(body.wrapUpCodeId), notes: body.notes ?? "")
        }
        let answer: (HTTPResponse.Status, Data)
        do {
            // The task as the agent sees it right after the command (or, once the agent has left
            // it, as it was left): the same version as the event-stream message.
            let snapshot = try await run(command, .agent(agent), viewer: agent)
            answer = (.ok, snapshot.map { Data($0.jsonBytes) } ?? Data("null".utf8))
        } catch let error as APIError {
            answer = (error.status, error.body)
        }
        if let key { sessions.remember(answer, for: key) }
        return raw(answer.1, status: answer.0)
    }

    func destination(_ request: Request) async throws -> Destination {
        let body = try await decode(DestinationRequest.self, request)
        switch body.destinationType {
        case "agent": return .agent(AgentID(body.to))
        case "queue": return .queue(QueueID(body.to))
        case "dialNumber": return .dialNumber(DialNumber(body.to))
        default: throw APIError.badRequest("destinationType is agent, queue or dialNumber")
        }
    }
}

/// `GET /v1/notifications?token=…&since=SEQ` upgrades to a WebSocket carrying the user's event
/// stream (the token may also come as a bearer header).
public func notificationUpgrade(center: ContactCenter, sessions: Sessions)
    -> @Sendable (HTTPRequest, any Channel, Logger) async throws -> ShouldUpgradeResult<
        WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>
    >
{
    { request, _, _ in
        let parts = (request.path ?? "").split(separator: "?", maxSplits: 1)
        guard parts.first == "/v1/notifications" else { return .dontUpgrade }
        var query: [String: String] = [:]
        for pair in (parts.count > 1 ? parts[1] : "").split(separator: "&") {
            let keyValue = pair.split(separator: "=", maxSplits: 1)
            if keyValue.count == 2 { query[String(keyValue[0])] = String(keyValue[1]).removingPercentEncoding }
        }
        let bearer = request.headerFields[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let token = query["token"] ?? bearer, let session = sessions.session(for: token) else {
            return .dontUpgrade
        }
        let since = query["since"].flatMap { Int($0) }
        return .upgrade([:]) { inbound, outbound, _ in
            let (id, missed, position, stream) = await center.subscribe(session.user, since: since)
            if missed == nil {
                // Too far behind: the client must reload its tasks.
                try? await outbound.write(.text(#"{"type":"resync"}"#))
            }
            for message in missed ?? [] { try? await outbound.write(.text(message)) }
            // From here on nothing is missed: a client that fetches its tasks now (not on the
            // socket's open, which comes before this subscription) sees every change after it.
            try? await outbound.write(.text(#"{"seq":\#(position),"type":"ready"}"#))
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await message in stream { try? await outbound.write(.text(message)) }
                }
                group.addTask {
                    // Reading until the client goes away; it sends nothing we need.
                    do { for try await _ in inbound {} } catch {}
                }
                await group.next()
                group.cancelAll()
            }
            await center.unsubscribe(session.user, id)
        }
    }
}
