#if PostgreSQL
import Foundation
import PostgresNIO
import Synchronization

/// One call's answer: the work's result or the deadline's, whichever comes first; the other is
/// dropped (and the timer cancelled once the work is done).
final class Deadline<T: Sendable>: Sendable {
    private struct State {
        var waiting: CheckedContinuation<T, any Error>?
        var timer: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) { state.withLock { $0.waiting = continuation } }

    func arm(_ timer: Task<Void, Never>) {
        let done = state.withLock { state -> Bool in
            guard state.waiting != nil else { return true }
            state.timer = timer
            return false
        }
        if done { timer.cancel() }
    }

    /// Answers the caller unless it was answered already; true if this was the answer.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (waiting, timer) = state.withLock { state in
            defer { state = State() }
            return (state.waiting, state.timer)
        }
        timer?.cancel()
        guard let waiting else { return false }
        waiting.resume(with: result)
        return true
    }
}

public enum PostgresStoreError: Error, CustomStringConvertible, Equatable {
    /// PostgreSQL did not answer in time.
    case timedOut(String)
    /// Another node took the lease: this one may not write.
    case fenced(mine: Int64, current: Int64?)
    /// The `--database` URL is not a PostgreSQL one this store can use.
    case badURL(String)

    /// Whether trying again may help (the database away or failing over), unlike a bad URL.
    public var isTransient: Bool {
        switch self {
        case .timedOut: true
        case .fenced, .badURL: false
        }
    }

    public var description: String {
        switch self {
        case .timedOut(let what): "PostgreSQL did not answer in time (\(what))"
        case .fenced(let mine, let current):
            "fenced: this node's lease epoch is \(mine), the database's \(current.map(String.init) ?? "none"); it may not write"
        case .badURL(let why): "not a PostgreSQL URL: \(why)"
        }
    }
}

/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`, or a Unix socket's folder as the host
/// (`postgres://USER@%2Ftmp%2Fpg/DATABASE`).
struct PostgresAddress {
    var user: String
    var password: String?
    var host: String
    var port: Int
    var database: String

    init(_ text: String) throws {
        guard let components = URLComponents(string: text), ["postgres", "postgresql"].contains(components.scheme ?? "") else {
            throw PostgresStoreError.badURL("it starts postgres://")
        }
        guard let user = components.user, !user.isEmpty else { throw PostgresStoreError.badURL("no user (postgres://USER@HOST/DB)") }
        guard let host = components.host, !host.isEmpty else { throw PostgresStoreError.badURL("no host") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw PostgresStoreError.badURL("no database (postgres://USER@HOST/DB)") }
        (self.user, self.password, self.host, self.port, self.database) =
            (user, components.password, host.removingPercentEncoding ?? host, components.port ?? 5432, database)
    }

    func configuration(connectTimeout: Duration) -> PostgresClient.Configuration {
        var configuration: PostgresClient.Configuration
        if host.hasPrefix("/") {
            configuration = .init(
                unixSocketPath: "\(host)/.s.PGSQL.\(port)", username: user, password: password, database: database)
        } else {
            configuration = .init(host: host, port: port, username: user, password: password, database: database, tls: .disable)
        }
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }
}
#endif
