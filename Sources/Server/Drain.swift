import Logging
import ServiceLifecycle

/// The graceful part of a shutdown (SIGTERM, SIGINT). Listed after the HTTP server in the service
/// group, so it is shut down first, while agents can still reach the API: new customer calls are
/// refused (503 `draining`), live calls carry on until they end or `bound` passes, then timers
/// stop and event streams close, and the HTTP server shuts down after it.
public struct CallDrainService: Service {
    let center: ContactCenter
    let bound: Duration
    let logger: Logger
    /// Called once new calls are refused (the CLI prints a line scripts can wait for).
    let onDrain: @Sendable () -> Void

    public init(center: ContactCenter, bound: Duration, logger: Logger, onDrain: @escaping @Sendable () -> Void = {}) {
        self.center = center
        self.bound = bound
        self.logger = logger
        self.onDrain = onDrain
    }

    public func run() async throws {
        // Waits for the shutdown signal; a cancellation (a failed peer service) skips the drain.
        try? await gracefulShutdown()
        if !Task.isCancelled {
            await center.beginDrain()
            onDrain()
            let deadline = ContinuousClock.now + bound
            var live = await center.liveCalls()
            logger.info("draining: no new calls; waiting for live calls to end", metadata: ["live": "\(live)"])
            while live > 0, ContinuousClock.now < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                live = await center.liveCalls()
            }
            logger.info("drained", metadata: ["liveCallsLeft": "\(live)"])
        }
        await center.stop()
    }
}
