import CallControl
import Foundation
import Store

/// Desktops that go away, the audit trail, and notices to one user: the center's part of
/// sign-in and sessions (the tokens themselves are the HTTP layer's).
extension ContactCenter {
    /// Whether any of the user's event streams is open.
    func hasDesktop(_ agent: AgentID) -> Bool { !(feeds[agent.rawValue]?.subscribers.isEmpty ?? true) }

    /// How many event streams the user has open (their desktops, tabs included).
    public func openStreams(of user: String) -> Int { feeds[user]?.subscribers.count ?? 0 }

    func graceEnd() -> Timestamp { clock.now().adding(milliseconds: desktopGrace.milliseconds) }

    /// Every desktop of the agent stayed closed through the grace period: an available agent goes
    /// idle (the core refuses for anyone else, so live calls are never touched). The grace period
    /// runs while an agent is available with no desktop open: from the last desktop closing, from
    /// becoming available without one, and from a start (no desktop is connected yet).
    func desktopGraceEnded(_ agent: AgentID) async {
        guard !hasDesktop(agent) else { return }
        guard let (outcome, _) = try? await execute(.agent(agent, .desktopLost)), outcome.rejection == nil else { return }
        await record(AuditEntry(at: clock.now(), subject: agent.rawValue, action: "desktopDisconnected"))
    }

    /// Sends a message that belongs to no task or agent state (kept by no replay) to every open
    /// stream of the user: `{"seq", "type", …fields}`.
    /// Something an operator must know now (a recording that failed): every supervisor's stream
    /// gets an `alert` message, and the last ones are kept for a supervisor who opens the desktop later.
    public func alert(_ code: String, task: InteractionID?, message: String) {
        let at = clock.now()
        recentAlerts.append(Alert(at: at.milliseconds, code: code, taskId: task?.rawValue, message: message))
        if recentAlerts.count > 50 { recentAlerts.removeFirst(recentAlerts.count - 50) }
        var fields = [("code", code), ("message", message)]
        if let task { fields.append(("taskId", task.rawValue)) }
        for supervisor in configuration.supervisors { notify(supervisor.id, type: "alert", fields: fields) }
    }

    /// The latest alerts, newest last.
    public func alerts() -> [Alert] { recentAlerts }

    public func notify(_ user: String, type: String, fields: [(String, String)]) {
        feeds[user, default: Feed()].publish(Notice(type: type, fields: fields), at: position)
    }

    /// Appends to the audit trail; a failure is logged, never fails what it records.
    public nonisolated func record(_ entries: AuditEntry...) async {
        do {
            try await store.appendAudit(entries)
        } catch {
            metrics.auditFailures.increment()
        }
    }

    public nonisolated func auditTrail(of subject: String, limit: Int) async throws -> [AuditEntry] {
        try await store.audit(of: subject, limit: limit)
    }
}

/// An operator's alert (see `ContactCenter.alert`).
public struct Alert: Encodable, Sendable, Equatable {
    public var at: Int64
    public var code: String
    public var taskId: String?
    public var message: String
}
