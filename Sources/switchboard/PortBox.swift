import ArgumentParser
import Synchronization

/// A server's port once it listens (it may be asked for port 0): read at once (`port`, nil
/// before), or waited for (`wait`).
final class PortBox: Sendable {
    private let latest = Mutex<Int?>(nil)
    private let stream: AsyncStream<Int>
    private let continuation: AsyncStream<Int>.Continuation

    init() { (stream, continuation) = AsyncStream.makeStream(of: Int.self) }

    func set(_ port: Int) {
        latest.withLock { $0 = port }
        continuation.yield(port)
    }

    var port: Int? { latest.withLock { $0 } }

    func wait() async throws -> Int {
        for await port in stream { return port }
        throw ValidationError("the server never listened")
    }
}
