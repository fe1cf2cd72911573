import CallControl
import Center
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import HummingbirdWebSocket
import Logging
import NIOCore
import Recordings
import Store

struct LoginRequest: Decodable { var username: String; var password: String }
struct StateRequest: Decodable { var state: String; var idleCodeId: String? }
struct DestinationRequest: Decodable { var destinationType: String; var to: String }
struct WrapUpRequest: Decodable { var wrapUpCodeId: String; var notes: String? }
/// A simulated customer's call: from a number, a SIP address (`from` either way), a display name,
/// or withheld (no `from`, or `withheld: true`).
struct SimCallRequest: Decodable {
    var queueId: String
    var from: String?
    var callerName: String?
    var withheld: Bool?

    var caller: Caller {
        if withheld == true { return .withheld }
        guard let from else { return callerName.map { Caller(name: $0) } ?? .withheld }
        if from.contains("@") { return Caller(address: from, name: callerName) }
        return Caller(number: DialNumber(from), name: callerName)
    }
}

struct QueueView: Encodable {
    var id: String
    var name: String
    var waiting: Int
    var longestWaitSince: Int64?
    /// Since midnight (the server's time zone): offered, answered, abandoned, the service level
    /// (0–1; null while nothing has left the queue), for the supervisor's tiles.
    var offeredToday = 0
    var answeredToday = 0
    var abandonedToday = 0
    var serviceLevelToday: Double?
    /// The agents of the queue's teams now: available, on calls (ringing included), in wrap-up, idle.
    var agents: QueueStaffing
    /// When the supervisor's tile turns amber or red (the configuration's `reports.tiles`).
    var thresholds: SwitchboardConfiguration.TileThresholds
}

/// The REST API and the event stream over a `ContactCenter`. Open routes: `/health`, `/metrics`,
/// sign-in; everything else under `/v1` passes `Authenticator`. With `simulator`, the `/v1/sim`
/// routes drive it; with `desktop`, the Agent Desktop's files are served at `/`.
public func buildRouter(
    center: ContactCenter, sessions: Sessions, simulator: SimulatedTelephony?, telephony: (any Telephony)? = nil,
    desktop: String? = nil, logger: Logger = Logger(label: "Switchboard")
) -> Router<SwitchboardContext> {
    buildRouter(
        accounts: Accounts(center: center, sessions: sessions), simulator: simulator, telephony: telephony, desktop: desktop,
        webCallsPerMinute: 6, recordings: nil, logger: logger)
}

func buildRouter(
    accounts: Accounts, simulator: SimulatedTelephony?, telephony: (any Telephony)?, desktop: String?, webCallsPerMinute: Int,
    recordings: RecordingDirectory?, logger: Logger
) -> Router<SwitchboardContext> {
    let center = accounts.center, sessions = accounts.sessions
    let router = Router(context: SwitchboardContext.self)
    router.add(middleware: SecurityHeaders())
    router.add(middleware: ErrorMiddleware(logger: logger))
    if let desktop { router.add(middleware: FileMiddleware(desktop, searchForIndexHtml: true)) }
    let api = API(center: center, sessions: sessions)

    // The desktop shows its simulator panel when the simulator is on.
    /// `role`: "active" — the node that holds the lease (a single node always does); a standby
    /// answers `/health` from `buildStandbyApplication`, with "standby".
    struct Health: Encodable { var status = "ok"; var role = "active"; var simulator: Bool }
    router.get("/health") { _, _ in api.json(Health(simulator: simulator != nil)) }

    router.get("/metrics") { _, _ in
        center.metrics.setGauges(await center.liveFigures())
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: .init(byteBuffer: ByteBuffer(bytes: center.metrics.registry.emitToBuffer())))
    }
    router.post("/v1/auth/login") { request, context in
        let body = try await api.decode(LoginRequest.self, request)
        let address = context.remoteAddress?.ipAddress ?? "unknown"
        return api.json(try await accounts.login(username: body.username, password: body.password, address: address))
    }

    let v1 = router.group("/v1").add(middleware: Authenticator(sessions: sessions, displayName: accounts.displayName))
    v1.post("/auth/logout") { _, context in api.json(try await accounts.logout(try context.user())) }
    v1.get("/sessions") { _, context in
        try accounts.requireSupervisor(try context.user())
        var found: [SignedInView] = []
        for summary in sessions.signedIn() {
            found.append(SignedInView(summary, displayName: accounts.displayName(of: summary.user)))
        }
        return api.json(found)
    }
    v1.post("/agents/:agentId/logout") { _, context in
        let agent = AgentID(context.parameters.get("agentId") ?? "")
        try await accounts.signOut(agent, by: try context.user())
        guard let view = await center.agentView(agent) else { throw APIError.notFound }
        return api.json(view)
    }
    v1.put("/agents/:agentId/state") { request, context in
        let agent = AgentID(context.parameters.get("agentId") ?? "")
        let supervisor = try context.user()
        try accounts.requireSupervisor(supervisor)
        let body = try await api.decode(StateRequest.self, request)
        guard body.state == "idle", let code = body.idleCodeId else {
            throw APIError.badRequest("a supervisor sets an agent 'idle', with an idleCodeId")
        }
        try await accounts.setIdle(agent, code: IdleCodeID(code), by: supervisor)
        guard let view = await center.agentView(agent) else { throw APIError.notFound }
        return api.json(view)
    }
    v1.get("/agents/:agentId/audit") { request, context in
        let subject = context.parameters.get("agentId") ?? ""
        let user = try context.user()
        guard user.role == .supervisor || user.user == subject else {
            throw APIError(status: .forbidden, code: "notASupervisor", message: "only supervisors may read another's history")
        }
        try await accounts.requireAgent(AgentID(subject))
        var limit = 50
        if let text = request.uri.queryParameters.get("limit") {
            guard let value = Int(text), (1...500).contains(value) else { throw APIError.badRequest("limit is 1 to 500") }
            limit = value
        }
        let entries = try await center.auditTrail(of: subject, limit: limit)
        return api.json(entries.map { AuditView($0, byName: $0.by.map(accounts.displayName)) })
    }
    v1.get("/me") { _, context in try await api.me(try context.user()) }
    v1.put("/me/state") { request, context in try await api.changeState(request, try context.user()) }
    let stations = telephony as? any BrowserStations
    v1.put("/me/station") { request, context in
        try await api.changeStation(
            request, try context.user(), telephony: telephony ?? simulator.map { $0 as any Telephony }, stations: stations)
    }
    addWebRTCRoutes(
        router: router, v1: v1, stations: stations, api: api, limiter: WebCallLimiter(perMinute: webCallsPerMinute), desktop: desktop)
    addMonitorRoutes(
        v1: v1, api: api, accounts: accounts, telephony: telephony ?? simulator.map { $0 as any Telephony }, stations: stations)
    addRecordingRoutes(v1: v1, api: api, accounts: accounts, recordings: recordings)
    addReportRoutes(v1: v1, api: api, accounts: accounts)
    v1.get("/tasks") { _, context in api.json(await center.tasks(for: try context.user().agent)) }
    v1.get("/tasks/:id") { _, context in
        let id = InteractionID(context.parameters.get("id") ?? "")
        guard let task = await center.snapshot(id, for: try context.user().agent) else { throw APIError.notFound }
        return api.json(task)
    }
    v1.get("/tasks/:id/history") { _, context in
        let id = InteractionID(context.parameters.get("id") ?? "")
        // Readable by whoever was on the call, also once it is over; by supervisors always.
        guard let events = try await center.history(id, for: try context.user().agent) else {
            if await center.isPastRetention(id) {
                throw APIError(status: .notFound, code: "historyNotKept",
                               message: "this call is older than the \(center.retentionMilliseconds / 86_400_000) days its history is kept")
            }
            throw APIError.notFound
        }
        return api.json(events.map(HistoryEntry.init))
    }
    // Past interactions, newest first: supervisors any, agents their own.
    v1.get("/interactions") { request, context in
        let query = try api.finishedQuery(request)
        let found = try await center.finishedInteractions(query, viewer: try context.user().agent)
        let next = found.count == query.limit ? found.last.map { "\($0.endedAt.milliseconds)-\($0.id)" } : nil
        let listed = found.map { finished in
            var past = PastInteraction(finished)
            past.recording = recordings?.state(of: finished.id) == .finished
            return past
        }
        return api.json(PastInteractions(interactions: listed, next: next))
    }
    for path in ["/tasks/:id/:action", "/tasks/:id/:action/:subaction"] {
        v1.post(RouterPath(path)) { request, context in
            let name = [context.parameters.get("action"), context.parameters.get("subaction")].compactMap { $0 }
                .joined(separator: "/")
            guard let action = TaskAction(rawValue: name) else {
                throw APIError(status: .notFound, code: "unknownCommand", message: "no command '\(name)'")
            }
            let id = InteractionID(context.parameters.get("id") ?? "")
            return try await api.command(action, on: id, request, try context.user())
        }
    }
    v1.get("/agents") { _, _ in api.json(await center.agentViews()) }
    v1.get("/queues") { _, _ in
        var queues: [QueueView] = []
        let today = await center.queuesToday()
        let treatment = await center.reportSettings.abandons
        let thresholds = (center.configuration.reports?.tiles ?? .standard).resolved
        for queue in center.configuration.queues {
            let waiting = await center.waiting(in: QueueID(queue.id))
            var view = QueueView(id: queue.id, name: queue.name, waiting: waiting.count,
                                 longestWaitSince: waiting.map(\.since.milliseconds).min(),
                                 agents: await center.staffingByState(of: QueueID(queue.id)), thresholds: thresholds)
            if let figures = today[queue.id] {
                (view.offeredToday, view.answeredToday, view.abandonedToday) = (figures.offered, figures.answered, figures.abandoned)
                view.serviceLevelToday = figures.serviceLevel(treatment)
            }
            queues.append(view)
        }
        return api.json(queues)
    }
    v1.get("/wrapup-codes") { _, _ in api.json(center.configuration.wrapUpCodes) }
    v1.get("/stats/wrapups") { _, _ in api.json(["today": await center.wrapUpsToday()]) }
    v1.get("/idle-codes") { _, _ in api.json(center.configuration.idleCodes) }

    // `GET /v1/notifications?token=…&since=SEQ` upgrades to a WebSocket carrying the user's event stream.
    v1.ws("/notifications") { inbound, outbound, context in
        guard let session = context.requestContext.session else { return }
        let since = context.request.uri.queryParameters.get("since").flatMap { Int($0) }
        await streamEvents(
            accounts: accounts, session: session, since: since, inbound: inbound, outbound: outbound)
    }

    if center.testClock != nil {
        // Only on a server started with `--test-clock`: tests move time here instead of waiting.
        struct Advance: Decodable { var milliseconds: Int64 }
        v1.get("/test/clock") { _, context in
            try accounts.requireSupervisor(try context.user())
            return api.json(await center.testClockView())
        }
        v1.post("/test/clock") { request, context in
            try accounts.requireSupervisor(try context.user())
            let body = try await api.decode(Advance.self, request)
            guard (1...86_400_000).contains(body.milliseconds) else {
                throw APIError(status: .badRequest, code: "invalidAdvance", message: "milliseconds: from 1 to 86400000 (a day)")
            }
            let moved = await center.advanceTestClock(by: body.milliseconds)
            try await accounts.sweep()  // sessions that ran out end now, not at the next sweep
            return api.json(moved)
        }
    }

    if let simulator {
        v1.post("/sim/calls") { request, _ in
            let body = try await api.decode(SimCallRequest.self, request)
            let (id, outcome) = try await simulator.placeCall(queue: QueueID(body.queueId), from: body.caller)
            if let rejection = outcome.rejection { throw APIError(rejection) }
            return api.json(["taskId": id.rawValue], status: .created)
        }
        v1.post("/sim/calls/:id/hangup") { _, context in
            let id = InteractionID(context.parameters.get("id") ?? "")
            if let rejection = try await simulator.hangUpCustomer(id).rejection { throw APIError(rejection) }
            return api.json(["taskId": id.rawValue])
        }
        v1.post("/sim/agents/:agentId/hangup") { _, context in
            let agent = AgentID(context.parameters.get("agentId") ?? "")
            guard let (task, outcome) = try await simulator.hangUpPhone(of: agent) else {
                throw APIError(status: .conflict, code: "notConnected", message: "that agent's phone is not on a call")
            }
            if let rejection = outcome.rejection { throw APIError(rejection) }
            return api.json(["taskId": task.rawValue])
        }
    }
    return router
}

/// Sends the user's event stream on a WebSocket: what was missed after `since` (or `resync` when it
/// is no longer all kept), then `ready`, then every new message until either side closes, or the
/// session ends (`sessionEnded`, then the server closes).
func streamEvents(
    accounts: Accounts, session: Sessions.Session, since: Int?, inbound: WebSocketInboundStream,
    outbound: WebSocketOutboundWriter
) async {
    let center = accounts.center, user = session.user
    accounts.sessions.streamOpened(session.id)
    defer { accounts.sessions.streamClosed(session.id) }
    let (id, missed, position, stream) = await center.subscribe(user, since: since)
    if missed == nil {
        // Too far behind: the client must reload its tasks.
        try? await outbound.write(.text(#"{"type":"resync"}"#))
    }
    for message in missed ?? [] { try? await outbound.write(.text(message)) }
    // From here on nothing is missed: a client that fetches its tasks now (not on the socket's
    // open, which comes before this subscription) sees every change after it.
    try? await outbound.write(.text(#"{"seq":\#(position),"type":"ready"}"#))
    await withTaskGroup(of: Void.self) { group in
        group.addTask {
            for await message in stream { try? await outbound.write(.text(message)) }
        }
        group.addTask {
            // Reading until the client goes away; it sends nothing we need.
            do { for try await _ in inbound {} } catch {}
        }
        group.addTask {
            guard let ended = await accounts.sessions.waitForEnd(of: session.id) else { return }
            var json = JSONText()
            json.object { json in
                if let by = ended.endedBy { json.member("by", accounts.displayName(of: by)) }
                json.member("reason", ended.ended ?? Sessions.Ending.signedOut.rawValue)
                json.member("type", "sessionEnded")
            }
            try? await outbound.write(.text(String(decoding: json.bytes, as: UTF8.self)))
        }
        await group.next()
        group.cancelAll()
    }
    await center.unsubscribe(user, id)
}

struct PastInteraction: Encodable {
    struct Handling: Encodable { var agentId: String; var wrapUpCodeId: String? }
    var id: String
    var queue: String
    /// Who called: each part when known, and how to show it.
    var customerNumber: String?
    var customerName: String?
    var customerAddress: String?
    var customerWithheld: Bool
    var customerLabel: String
    var arrivedAt: Int64
    var endedAt: Int64
    var agents: [Handling]
    /// The call has a recording (`GET /v1/interactions/{id}/recording`, for who may hear it).
    var recording = false

    init(_ finished: FinishedInteraction) {
        id = finished.id.rawValue
        queue = finished.queue.rawValue
        customerNumber = finished.caller.number?.rawValue
        customerName = finished.caller.name
        customerAddress = finished.caller.address
        customerWithheld = finished.caller.withheld
        customerLabel = finished.caller.label
        arrivedAt = finished.arrivedAt.milliseconds
        endedAt = finished.endedAt.milliseconds
        agents = finished.agents.map { Handling(agentId: $0.agent.rawValue, wrapUpCodeId: $0.wrapUpCode?.rawValue) }
    }
}

/// Someone signed in, as `GET /v1/sessions` lists them.
struct SignedInView: Encodable {
    var user: String
    var role: String
    var displayName: String
    var sessions: Int
    var desktops: Int
    var signedInAt: Int64
    var lastSeenAt: Int64

    init(_ summary: Sessions.Summary, displayName: String) {
        user = summary.user
        role = summary.role.rawValue
        self.displayName = displayName
        sessions = summary.sessions
        desktops = summary.streams
        signedInAt = summary.signedInAt.milliseconds
        lastSeenAt = summary.lastSeenAt.milliseconds
    }
}

/// A line of an agent's audit trail, as the API shows it.
struct AuditView: Encodable {
    var at: Int64
    var action: String
    var by: String?
    var byName: String?
    var detail: String?

    init(_ entry: AuditEntry, byName: String?) {
        (at, action, by, detail) = (entry.at.milliseconds, entry.action, entry.by, entry.detail)
        self.byName = byName
    }
}

struct PastInteractions: Encodable {
    var interactions: [PastInteraction]
    /// Give as `before` for the next page; absent on the last.
    var next: String?
}

struct API: Sendable {
    let center: ContactCenter
    let sessions: Sessions
    /// The largest request body read (64 KiB): the API's bodies are a few hundred bytes.
    static let maxBody = 64 * 1024

    func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        raw(encodeJSON(value), status: status)
    }

    func raw(_ data: Data, status: HTTPResponse.Status) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: Request) async throws -> T {
        let buffer = try await request.body.collect(upTo: Self.maxBody)
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer.readableBytesView))
        } catch {
            throw APIError.badRequest("the body is not the JSON this route takes")
        }
    }

    @discardableResult
    func run(_ command: Command, viewer: AgentID? = nil) async throws -> TaskSnapshot? {
        let (outcome, snapshot): (Outcome, TaskSnapshot?)
        do {
            (outcome, snapshot) = try await center.execute(command, viewer: viewer)
        } catch is ContactCenter.NotOnTask {
            throw APIError.notFound
        }
        if let rejection = outcome.rejection { throw APIError(rejection) }
        return snapshot
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

    func changeState(_ request: Request, _ session: Sessions.Session) async throws -> Response {
        guard let agent = session.agent else {
            throw APIError(status: .forbidden, code: "notAnAgent", message: "only agents have a state")
        }
        let body = try await decode(StateRequest.self, request)
        switch body.state {
        case "available": try await run(.agent(agent, .setAvailable))
        case "idle":
            guard let code = body.idleCodeId else { throw APIError.badRequest("idle needs an idleCodeId") }
            try await run(.agent(agent, .setIdle(IdleCodeID(code))))
        default: throw APIError.badRequest("state is 'available' or 'idle'")
        }
        return try await me(session)
    }

    /// The agent's station: answering offers on the desktop, on their phone (SIP: once registered),
    /// or in the browser (once its WebRTC session is connected).
    func changeStation(
        _ request: Request, _ session: Sessions.Session, telephony: (any Telephony)?, stations: (any BrowserStations)?
    ) async throws -> Response {
        guard let agent = session.agent else {
            throw APIError(status: .forbidden, code: "notAnAgent", message: "only agents have a station")
        }
        struct StationRequest: Decodable { var station: String }
        let body = try await decode(StationRequest.self, request)
        guard let mode = AnswerMode(rawValue: body.station) else { throw APIError.badRequest("station is 'desktop', 'phone' or 'browser'") }
        if mode == .browser, await !(stations?.sessionConnected(of: agent) ?? false) {
            throw APIError(
                status: .conflict, code: "browserNotConnected",
                message: "this browser's phone is not connected: allow the microphone, then choose it")
        }
        if mode == .phone, await !(telephony?.phoneAvailable(for: agent) ?? true) {
            throw APIError(
                status: .conflict, code: "phoneNotRegistered",
                message: "your phone is not registered: register it with your SIP account, then choose it")
        }
        if await center.agent(agent)?.answerMode != mode { try await run(.agent(agent, .setAnswerMode(mode))) }
        return try await me(session)
    }

    func command(_ action: TaskAction, on id: InteractionID, _ request: Request, _ session: Sessions.Session)
        async throws -> Response
    {
        guard let agent = session.agent else {
            throw APIError(status: .forbidden, code: "notAnAgent", message: "only agents control calls")
        }
        // A retried command (same Idempotency-Key) gets the first answer, not a second run.
        let key = request.headers[HTTPField.Name("Idempotency-Key")!].map { "\(session.user)|\($0)" }
        if let key, let (status, data) = sessions.answer(for: key) { return raw(data, status: status) }

        // Only what this control takes is read from the body.
        let destination = action == .consult || action == .transfer ? try await destination(request) : nil
        var wrapUp: (code: WrapUpCodeID, notes: String)?
        if action == .wrapUp {
            let body = try await decode(WrapUpRequest.self, request)
            wrapUp = (WrapUpCodeID(body.wrapUpCodeId), body.notes ?? "")
        }
        guard let control = DesktopCommand(action, to: destination, wrapUp: wrapUp) else {
            throw APIError.badRequest("the command '\(action.rawValue)' needs a body")
        }
        let answer: (HTTPResponse.Status, Data)
        do {
            // The task as the agent sees it right after the command (or, once the agent has left
            // it, as it was left): the same version as the event-stream message.
            let snapshot = try await run(.desktop(agent, id, control), viewer: agent)
            answer = (.ok, snapshot.map { Data($0.jsonBytes) } ?? Data("null".utf8))
        } catch let error as APIError {
            // A task the agent has left is out of their sight; a second wrap-up says why.
            if error.code == APIError.notFound.code, action == .wrapUp, try await center.hasWrappedUp(id, agent: agent) {
                answer = (APIError.alreadyWrappedUp.status, APIError.alreadyWrappedUp.body)
            } else {
                answer = (error.status, error.body)
            }
        }
        if let key { sessions.remember(answer, for: key) }
        return raw(answer.1, status: answer.0)
    }

    /// `from`, `to` (ms since 1970), `queue`, `agent`, `wrapUpCode`, `before` (a page's `next`), `limit` (1–200).
    func finishedQuery(_ request: Request) throws -> FinishedQuery {
        let parameters = request.uri.queryParameters
        func time(_ name: String) throws -> Timestamp? {
            guard let text = parameters.get(name) else { return nil }
            guard let value = Int64(text) else { throw APIError.badRequest("\(name) is a time in milliseconds since 1970") }
            return Timestamp(milliseconds: value)
        }
        var query = FinishedQuery(
            from: try time("from"), to: try time("to"), queue: parameters.get("queue").map(QueueID.init),
            agent: parameters.get("agent").map(AgentID.init), wrapUpCode: parameters.get("wrapUpCode").map(WrapUpCodeID.init))
        if let limit = parameters.get("limit") {
            guard let value = Int(limit), (1...200).contains(value) else { throw APIError.badRequest("limit is 1 to 200") }
            query.limit = value
        }
        if let before = parameters.get("before") {
            let parts = before.split(separator: "-", maxSplits: 1)
            guard parts.count == 2, let endedAt = Int64(parts[0]) else {
                throw APIError.badRequest("before is the 'next' of the previous page")
            }
            query.before = (Timestamp(milliseconds: endedAt), InteractionID(String(parts[1])))
        }
        return query
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
