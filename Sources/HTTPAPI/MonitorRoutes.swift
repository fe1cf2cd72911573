import CallControl
import Center
import Foundation
import Hummingbird
import Store

/// A supervisor's ears: `POST /v1/tasks/{id}/monitor` with `{"mode": "monitor" | "coach" | "barge",
/// "station"?: "phone" | "browser" | "desktop"}` starts listening in (ringing the station) or
/// switches the mode of a supervisor already on the call, on the same leg; `POST
/// /v1/tasks/{id}/monitor/end` leaves. The answer is the task as supervisors see it.
func addMonitorRoutes(
    v1: RouterGroup<SwitchboardContext>, api: API, accounts: Accounts, telephony: (any Telephony)?,
    stations: (any BrowserStations)?
) {
    struct MonitorRequest: Decodable {
        var mode: String
        var station: String?
    }
    let center = api.center

    v1.post("/tasks/:id/monitor") { request, context in
        let session = try context.user()
        try accounts.requireSupervisor(session)
        let id = InteractionID(context.parameters.get("id") ?? "")
        let body = try await api.decode(MonitorRequest.self, request)
        guard let mode = MonitorMode(rawValue: body.mode) else { throw APIError.badRequest("mode is 'monitor', 'coach' or 'barge'") }
        let supervisor = SupervisorID(session.user)
        let already = await center.snapshot(id, for: nil)?.supervisors.contains { $0.supervisorId == session.user } ?? false
        // A supervisor already on the call keeps their leg: the station matters only for a new one.
        let station = already ? Station.desktop : try await supervisorStation(
            body.station, user: AgentID(session.user), telephony: telephony, stations: stations)
        try await api.run(.supervisor(supervisor, id, .monitor(mode, station)))
        let view = await center.snapshot(id, for: nil)
        await audit(center, id, view, by: session.user, action: already ? "monitorModeChanged" : "monitorStarted", mode: mode.rawValue)
        return api.json(view)
    }

    v1.post("/tasks/:id/monitor/end") { _, context in
        let session = try context.user()
        try accounts.requireSupervisor(session)
        let id = InteractionID(context.parameters.get("id") ?? "")
        let before = await center.snapshot(id, for: nil)
        try await api.run(.supervisor(SupervisorID(session.user), id, .leave))
        await audit(center, id, before, by: session.user, action: "monitorEnded", mode: nil)
        return api.json(await center.snapshot(id, for: nil))
    }
}

/// Where a supervisor listens: the station asked for, if it can ring; else the browser's phone
/// when connected, else the SIP phone when registered.
private func supervisorStation(
    _ asked: String?, user: AgentID, telephony: (any Telephony)?, stations: (any BrowserStations)?
) async throws -> Station {
    let browser = await stations?.sessionConnected(of: user) ?? false
    let phone = await telephony?.phoneAvailable(for: user) ?? false
    switch asked {
    case "browser":
        guard browser else {
            throw APIError(status: .conflict, code: "browserNotConnected", message: "this browser's phone is not connected: allow the microphone first")
        }
        return .browser
    case "phone":
        guard phone else {
            throw APIError(status: .conflict, code: "phoneNotRegistered", message: "your phone is not registered: register it with your SIP account")
        }
        return .phone
    case "desktop":
        return .desktop  // no sound: a simulated station
    case nil:
        if browser { return .browser }
        if phone { return .phone }
        throw APIError(
            status: .conflict, code: "noStation",
            message: "nothing to listen on: register your SIP phone or connect this browser's phone, then try again")
    case let other?:
        throw APIError.badRequest("station is 'phone', 'browser' or 'desktop', not '\(other)'")
    }
}

/// The supervisor's trail, and the owning agent's: who listened in on them, how, and when.
private func audit(_ center: ContactCenter, _ id: InteractionID, _ view: TaskSnapshot?, by supervisor: String, action: String, mode: String?) async {
    let detail = "task \(id.rawValue)" + (mode.map { ": \($0)" } ?? "")
    var entries = [AuditEntry(at: center.now(), subject: supervisor, action: action, detail: detail)]
    if let owner = view?.participants.first(where: { $0.role == "owner" && $0.state != "left" })?.agentId {
        entries.append(AuditEntry(at: center.now(), subject: owner, action: action, by: supervisor, detail: detail))
    }
    for entry in entries { await center.record(entry) }
}
