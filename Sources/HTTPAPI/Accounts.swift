import CallControl
import Center
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdBcrypt
import Store
import Synchronization

/// Failed sign-ins counted per user name and per client address (`FailureThrottle`): 5 in a row
/// for a name, or 20 from an address, and attempts wait. A value; the caller keeps it behind a lock.
struct SignInThrottle {
    typealias Rule = FailureThrottle<String>.Rule
    private var names: FailureThrottle<String>
    private var addresses: FailureThrottle<String>

    init(perName: Rule = Rule(threshold: 5), perAddress: Rule = Rule(threshold: 20)) {
        names = FailureThrottle(perName)
        addresses = FailureThrottle(perAddress)
    }

    /// How many milliseconds the attempt must wait, or nil if it may go ahead.
    func wait(name: String, address: String, at now: Timestamp) -> Int64? {
        [names.wait(name, at: now), addresses.wait(address, at: now)].compactMap { $0 }.max()
    }

    mutating func failed(name: String, address: String, at now: Timestamp) {
        names.failed(name, at: now)
        addresses.failed(address, at: now)
    }

    mutating func succeeded(name: String) { names.succeeded(name) }
}

/// Signing in and out, supervisors acting on agents, and sessions running out: what the
/// sessions, the center and the audit trail do together.
final class Accounts: Sendable {
    let center: ContactCenter
    let sessions: Sessions
    let throttle: Mutex<SignInThrottle>
    /// A bcrypt hash of nothing, at the configuration's cost: a sign-in for a name that does not
    /// exist is checked against it, so it takes as long as one that does. Made at the first such
    /// sign-in, not at start (at cost 12 it takes a quarter of a second).
    private let decoy = Mutex<String?>(nil)
    private let decoyCost: UInt8

    init(center: ContactCenter, sessions: Sessions, throttle: SignInThrottle = SignInThrottle()) {
        self.center = center
        self.sessions = sessions
        self.throttle = Mutex(throttle)
        let hashes = center.configuration.agents.map(\.passwordHash) + center.configuration.supervisors.map(\.passwordHash)
        let cost = hashes.first.flatMap { hash -> UInt8? in
            let parts = hash.split(separator: "$")
            return parts.count >= 2 ? UInt8(parts[1]) : nil
        } ?? 4
        decoyCost = cost
    }

    var configuration: SwitchboardConfiguration { center.configuration }

    private func decoyHash() -> String {
        decoy.withLock { decoy in
            if let decoy { return decoy }
            let made = Bcrypt.hash(UUID().uuidString, cost: decoyCost)
            decoy = made
            return made
        }
    }

    func displayName(of user: String) -> String {
        configuration.agents.first { $0.id == user }?.displayName
            ?? configuration.supervisors.first { $0.id == user }?.displayName ?? user
    }

    struct SignedIn: Encodable {
        var token: String
        var agentId: String
        var role: String
        var displayName: String
        var expiresAt: Int64
    }

    func login(username: String, password: String, address: String) async throws -> SignedIn {
        let now = center.now()
        if let wait = throttle.withLock({ $0.wait(name: username, address: address, at: now) }) {
            throw APIError.tooManyAttempts(retryAfterSeconds: Int((wait + 999) / 1000))
        }
        let role: Sessions.Role?
        let hash: String
        if let agent = configuration.agents.first(where: { $0.id == username }) {
            (role, hash) = (.agent, agent.passwordHash)
        } else if let supervisor = configuration.supervisors.first(where: { $0.id == username }) {
            (role, hash) = (.supervisor, supervisor.passwordHash)
        } else {
            (role, hash) = (nil, decoyHash())
        }
        // Checked whether or not the user exists: the answer takes the same time either way.
        let matches = Bcrypt.verify(password, hash: hash)
        guard let role, matches else {
            throttle.withLock { $0.failed(name: username, address: address, at: center.now()) }
            throw APIError.badCredentials
        }
        throttle.withLock { $0.succeeded(name: username) }
        // The session first, then the agent's return to the center: whoever hears of the agent's
        // new state (a supervisor's view) and asks who is signed in finds the session already.
        let (token, expiresAt) = try await sessions.open(user: username, role: role)
        await center.record(AuditEntry(at: center.now(), subject: username, action: "signedIn"))
        let agent = AgentID(username)
        if role == .agent, await center.agent(agent)?.status == .loggedOut {
            let (outcome, _) = try await center.execute(.agent(agent, .login))
            if let rejection = outcome.rejection { throw APIError(rejection) }
        }
        return SignedIn(
            token: token, agentId: username, role: role.rawValue, displayName: displayName(of: username),
            expiresAt: expiresAt.milliseconds)
    }

    /// Why an agent cannot leave the center now, as the API says it; nil if they can.
    func busyRefusal(_ agent: AgentID, supervisor: Bool) async -> APIError? {
        switch await center.agent(agent)?.status {
        case .reserved, .engaged:
            return APIError(
                status: .conflict, code: "callInProgress",
                message: supervisor
                    ? "the agent is on a call: they can be signed out once it is over"
                    : "you are on a call: finish it before signing out")
        case .wrapUp:
            return APIError(
                status: .conflict, code: "wrapUpOwed",
                message: supervisor
                    ? "the agent owes a wrap-up reason: they can be signed out once it is chosen"
                    : "choose a wrap-up reason before signing out")
        case .loggedOut, .idle, .available, nil:
            return nil
        }
    }

    struct SignedOut: Encodable {
        var signedOut = true
        var leftCenter: Bool
    }

    /// Ends this session; an agent's last also takes them out of the center, refused while they
    /// have a call or owe a wrap-up (the session then stays).
    func logout(_ session: Sessions.Session) async throws -> SignedOut {
        let last = session.agent != nil && sessions.live(of: session.user).allSatisfy { $0.id == session.id }
        if last, let agent = session.agent, let refusal = await busyRefusal(agent, supervisor: false) { throw refusal }
        // The session ends before the agent's state changes (see `login`).
        try await sessions.end([session.id], .signedOut)
        await center.record(AuditEntry(at: center.now(), subject: session.user, action: "signedOut"))
        var leftCenter = false
        if last, let agent = session.agent { leftCenter = try await leaveCenter(agent) }
        return SignedOut(leftCenter: leftCenter)
    }

    /// Logs the agent out of the center if they are in it; whether they were.
    private func leaveCenter(_ agent: AgentID) async throws -> Bool {
        guard let status = await center.agent(agent)?.status, status != .loggedOut else { return false }
        let (outcome, _) = try await center.execute(.agent(agent, .logout))
        if let rejection = outcome.rejection { throw APIError(rejection) }
        return true
    }

    func requireSupervisor(_ session: Sessions.Session) throws {
        guard session.role == .supervisor else {
            throw APIError(status: .forbidden, code: "notASupervisor", message: "only supervisors may do this")
        }
    }

    func requireAgent(_ id: AgentID) async throws {
        guard await center.agent(id) != nil else {
            throw APIError(status: .notFound, code: "unknownAgent", message: "there is no agent '\(id.rawValue)'")
        }
    }

    /// A supervisor signs the agent out of the center and ends every session of theirs.
    func signOut(_ agent: AgentID, by supervisor: Sessions.Session) async throws {
        try requireSupervisor(supervisor)
        try await requireAgent(agent)
        if let refusal = await busyRefusal(agent, supervisor: true) { throw refusal }
        try await sessions.end(sessions.live(of: agent.rawValue).map(\.id), .signedOutBySupervisor, by: supervisor.user)
        await center.record(AuditEntry(at: center.now(), subject: agent.rawValue, action: "signedOutBySupervisor", by: supervisor.user))
        _ = try await leaveCenter(agent)
    }

    /// A supervisor sets the agent idle (after their call, if they are on one); their desktop is told who did.
    func setIdle(_ agent: AgentID, code: IdleCodeID, by supervisor: Sessions.Session) async throws {
        try requireSupervisor(supervisor)
        try await requireAgent(agent)
        let (outcome, _) = try await center.execute(.agent(agent, .setIdle(code)))
        if let rejection = outcome.rejection {
            guard rejection.code != "alreadyInState" else {
                throw APIError(status: .conflict, code: rejection.code, message: "the agent is already idle for that reason")
            }
            throw APIError(rejection)
        }
        await center.notify(
            agent.rawValue, type: "notice",
            fields: [("notice", "setIdleBySupervisor"), ("by", displayName(of: supervisor.user)), ("idleCodeId", code.rawValue)])
        await center.record(AuditEntry(
            at: center.now(), subject: agent.rawValue, action: "setIdleBySupervisor", by: supervisor.user, detail: code.rawValue))
    }

    /// Ends the sessions that ran out; an agent whose last session it was, and who is not on a
    /// call, leaves the center.
    func sweep() async throws {
        let expired = try await sessions.sweep()
        guard !expired.isEmpty else { return }
        let ended = try await sessions.end(expired.map(\.tokenHash), .sessionExpired)
        for record in ended {
            await center.record(AuditEntry(at: center.now(), subject: record.user, action: "sessionExpired"))
            guard record.role == Sessions.Role.agent.rawValue, sessions.live(of: record.user).isEmpty else { continue }
            let agent = AgentID(record.user)
            if await busyRefusal(agent, supervisor: false) == nil { _ = try? await leaveCenter(agent) }
        }
    }
}
