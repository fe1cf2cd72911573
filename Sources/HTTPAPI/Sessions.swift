import CallControl
import Foundation
import HTTPTypes
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

    public func open(_ session: Session) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<4).map { _ in String(generator.next() as UInt64, radix: 16) }.joined()
        state.withLock { $0.byToken[token] = session }
        return token
    }

    public func session(for token: String) -> Session? { state.withLock { $0.byToken[token] } }

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

