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
    public func notify(_ user: String, type: String, fields: [(String, String)]) {
        feeds[user, default: Feed()].publish(Notice(type: type, fields: fields))
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
