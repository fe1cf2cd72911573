import CallControl
import Center
import Foundation
import Cryptography
import HTTPTypes
import Store
import Synchronization

/// Who is signed in: sessions by the SHA-256 of their token (the token itself is never kept),
/// written to the store so a restart signs no one out, ended by sign-out, a supervisor, or
/// expiry. Also the answers already given to retried commands. Behind a lock rather than an
/// actor: every request reads it, and a lookup is too short to be worth a suspension.
public final class Sessions: Sendable {
    public enum Role: String, Codable, Sendable { case agent, supervisor }

    public struct Session: Sendable {
        public var user: String
        public var role: Role
        /// The SHA-256 of the session's token, in hex: how the store and the streams know it.
        public var id: String
        public var agent: AgentID? { role == .agent ? AgentID(user) : nil }
    }

    /// Why a session ended: also the 401's code for its token, and a stream's `sessionEnded` reason.
    public enum Ending: String, Sendable {
        case signedOut, sessionExpired, signedOutBySupervisor
    }

    public struct Policy: Sendable {
        /// A session unused this long ends (an open event stream counts as use).
        public var idle: Duration = .seconds(3_600)
        /// A session this old ends, used or not.
        public var maximumAge: Duration = .seconds(43_200)

        public init(idle: Duration = .seconds(3_600), maximumAge: Duration = .seconds(43_200)) {
            (self.idle, self.maximumAge) = (idle, maximumAge)
        }

        /// How often the server looks for sessions that ran out (and writes when each was last used).
        var sweepInterval: Duration { max(.milliseconds(250), min(.seconds(30), min(idle, maximumAge) / 4)) }
    }

    /// What a token stands for.
    public enum Lookup: Sendable {
        case live(Session)
        case ended(Ending, by: String?)
        case unknown
    }

    private struct Entry {
        var record: SessionRecord
        /// Open event streams on this session: while any is open the session is in use.
        var streams = 0
        /// `lastSeenAt` changed since it was last written.
        var dirty = false
        /// The `lastSeenAt` the store has.
        var written: Timestamp

        init(record: SessionRecord) {
            self.record = record
            written = record.lastSeenAt
        }
    }

    private struct State {
        var byID: [String: Entry] = [:]
        /// Streams waiting to hear that their session ended, by session.
        var waiters: [String: [UUID: CheckedContinuation<SessionRecord?, Never>]] = [:]
        /// Answers to commands sent with an Idempotency-Key, in two generations: when the newer
        /// one holds `keptAnswers`, it becomes the older and the oldest is dropped. So memory
        /// stays bounded and a key is remembered for at least the next `keptAnswers` keyed commands.
        var answered: [String: (HTTPResponse.Status, Data)] = [:]
        var answeredBefore: [String: (HTTPResponse.Status, Data)] = [:]
    }

    private let state = Mutex(State())
    static let keptAnswers = 10_000
    let store: any SessionRecords
    let clock: any CenterClock
    public let policy: Policy

    public init(store: any SessionRecords, clock: any CenterClock, policy: Policy = Policy()) {
        self.store = store
        self.clock = clock
        self.policy = policy
    }

    static func id(of token: String) -> String { Hash.hex(Hash.sha256(Array(token.utf8))) }

    private var now: Timestamp { clock.now() }

    /// Reads the sessions the store kept (at start).
    func load() async throws {
        let records = try await store.sessions()
        state.withLock { state in
            for record in records { state.byID[record.tokenHash] = Entry(record: record) }
        }
    }

    /// A new session: 256 random bits, stored (as their hash) before the token is handed out.
    public func open(user: String, role: Role) async throws -> (token: String, expiresAt: Timestamp) {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
        let at = now
        let record = SessionRecord(tokenHash: Self.id(of: token), user: user, role: role.rawValue, createdAt: at, lastSeenAt: at)
        try await store.writeSessions([.put(record)])
        state.withLock { $0.byID[record.tokenHash] = Entry(record: record) }
        return (token, at.adding(milliseconds: policy.maximumAge.milliseconds))
    }

    /// What the token stands for now; a live session's use is noted. A session found run out is
    /// reported `ended(.sessionExpired)` at once (the next sweep writes it down and tells its streams).
    public func lookup(_ token: String) -> Lookup {
        let id = Self.id(of: token)
        let at = now
        return state.withLock { state in
            guard var entry = state.byID[id] else { return .unknown }
            if let ended = entry.record.ended {
                return .ended(Ending(rawValue: ended) ?? .signedOut, by: entry.record.endedBy)
            }
            if expired(entry, at: at) { return .ended(.sessionExpired, by: nil) }
            entry.record.lastSeenAt = at
            entry.dirty = true
            state.byID[id] = entry
            guard let role = Role(rawValue: entry.record.role) else { return .unknown }
            return .live(Session(user: entry.record.user, role: role, id: id))
        }
    }

    private func expired(_ entry: Entry, at: Timestamp) -> Bool {
        let age = at.milliseconds - entry.record.createdAt.milliseconds
        let unused = entry.streams > 0 ? 0 : at.milliseconds - entry.record.lastSeenAt.milliseconds
        return age >= policy.maximumAge.milliseconds || unused >= policy.idle.milliseconds
    }

    /// The live sessions of a user.
    public func live(of user: String) -> [Session] {
        let at = now
        return state.withLock { state in
            state.byID.values.filter { $0.record.user == user && $0.record.ended == nil && !expired($0, at: at) }
                .compactMap { entry in
                    Role(rawValue: entry.record.role).map { Session(user: user, role: $0, id: entry.record.tokenHash) }
                }
        }
    }

    public struct Summary: Sendable {
        public var user: String
        public var role: Role
        public var sessions: Int
        public var streams: Int
        public var signedInAt: Timestamp
        public var lastSeenAt: Timestamp
    }

    /// Everyone with a live session.
    public func signedIn() -> [Summary] {
        let at = now
        return state.withLock { state in
            var found: [String: Summary] = [:]
            for entry in state.byID.values where entry.record.ended == nil && !expired(entry, at: at) {
                guard let role = Role(rawValue: entry.record.role) else { continue }
                let seen = entry.streams > 0 ? at : entry.record.lastSeenAt
                var summary = found[entry.record.user] ?? Summary(
                    user: entry.record.user, role: role, sessions: 0, streams: 0, signedInAt: entry.record.createdAt,
                    lastSeenAt: seen)
                summary.sessions += 1
                summary.streams += entry.streams
                summary.signedInAt = min(summary.signedInAt, entry.record.createdAt)
                summary.lastSeenAt = max(summary.lastSeenAt, seen)
                found[entry.record.user] = summary
            }
            return found.values.sorted { $0.user < $1.user }
        }
    }

    /// Ends these sessions (those still live), writes them down and tells their open streams.
    /// Returns the records it ended.
    @discardableResult
    public func end(_ ids: [String], _ ending: Ending, by: String? = nil) async throws -> [SessionRecord] {
        let at = now
        let (ended, waiters) = state.withLock { state in
            var ended: [SessionRecord] = []
            var waiters: [(CheckedContinuation<SessionRecord?, Never>, SessionRecord)] = []
            for id in ids {
                guard var entry = state.byID[id], entry.record.ended == nil else { continue }
                entry.record.ended = ending.rawValue
                entry.record.endedBy = by
                // From now on `lastSeenAt` says when it ended: ended records are forgotten a while after.
                entry.record.lastSeenAt = at
                entry.dirty = false
                state.byID[id] = entry
                ended.append(entry.record)
                for waiter in state.waiters.removeValue(forKey: id)?.values.map({ $0 }) ?? [] {
                    waiters.append((waiter, entry.record))
                }
            }
            return (ended, waiters)
        }
        for (waiter, record) in waiters { waiter.resume(returning: record) }
        try await store.writeSessions(ended.map { .put($0) })
        return ended
    }

    /// Returns when the session ends (its record), or nil when the caller is cancelled.
    func waitForEnd(of id: String) async -> SessionRecord? {
        let key = UUID()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (waiter: CheckedContinuation<SessionRecord?, Never>) in
                let endedAlready = state.withLock { state -> SessionRecord?? in
                    guard let entry = state.byID[id] else { return .some(nil) }
                    if entry.record.ended != nil { return .some(entry.record) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id, default: [:]][key] = waiter
                    return .none
                }
                if let endedAlready { waiter.resume(returning: endedAlready) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters[id]?.removeValue(forKey: key) }
            waiter?.resume(returning: nil)
        }
    }

    /// An event stream opened or closed on the session (an open stream keeps it in use).
    func streamOpened(_ id: String) { state.withLock { $0.byID[id]?.streams += 1 } }

    func streamClosed(_ id: String) {
        let at = now
        state.withLock { state in
            guard var entry = state.byID[id] else { return }
            entry.streams -= 1
            if entry.record.ended == nil {
                entry.record.lastSeenAt = at
                entry.dirty = true
            }
            state.byID[id] = entry
        }
    }

    /// Finds the live sessions that ran out (returned, for the caller to end), writes down when
    /// the others were last used, and forgets ended ones older than the maximum age.
    func sweep() async throws -> [SessionRecord] {
        let at = now
        let forgetBefore = at.milliseconds - policy.maximumAge.milliseconds
        let (expired, changes) = state.withLock { state -> ([SessionRecord], [SessionChange]) in
            var expired: [SessionRecord] = []
            var changes: [SessionChange] = []
            for (id, var entry) in state.byID {
                if entry.record.ended != nil {
                    if entry.record.lastSeenAt.milliseconds < forgetBefore, entry.streams == 0 {
                        state.byID[id] = nil
                        changes.append(.remove(tokenHash: id))
                    }
                    continue
                }
                if self.expired(entry, at: at) {
                    expired.append(entry.record)
                    continue
                }
                if entry.streams > 0 {
                    entry.record.lastSeenAt = at
                    entry.dirty = true
                }
                // When a session was last used is written only when it has moved on by an eighth of
                // the idle time: after a restart a session may then end that much early, and a busy
                // floor does not rewrite every session at every sweep.
                if entry.dirty, entry.record.lastSeenAt.milliseconds - entry.written.milliseconds >= policy.idle.milliseconds / 8 {
                    entry.dirty = false
                    entry.written = entry.record.lastSeenAt
                    changes.append(.put(entry.record))
                }
                state.byID[id] = entry
            }
            return (expired, changes)
        }
        try await store.writeSessions(changes)
        return expired
    }

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
