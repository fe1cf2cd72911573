import Logging
import ServiceLifecycle
import Store

/// The server's long-lived parts as swift-service-lifecycle services, run in one group in this
/// order and shut down in reverse (see `SwitchboardServer`):
///
///   1. `StoreService`       closes the event store last, after everything that writes to it;
///   2. `CenterService`      runs the center's timers; on shutdown stops them and waits for the
///                           commands already taken to be durable;
///   3. `PeriodicService`s   snapshots of the live state on a schedule and once more on shutdown;
///                           retention, removing finished calls older than it;
///   4. the HTTP server      (Hummingbird's `Application`);
///   5. `CallDrainService`   shut down first, while agents can still reach the API: refuses new
///                           calls, waits (bounded) for the live ones, closes the event streams.

/// Keeps the event store open while the server runs; closes it when the group shuts down.
public struct StoreService: Service {
    let store: any InteractionLog

    public init(store: any InteractionLog) { self.store = store }

    public func run() async throws {
        try? await gracefulShutdown()
        try await store.close()
    }
}

/// Runs the center's timers (re-armed from the log at start) until shutdown.
public struct CenterService: Service {
    let center: ContactCenter

    public init(center: ContactCenter) { self.center = center }

    public func run() async throws {
        await center.start()
        try? await gracefulShutdown()
        await center.stop()
    }
}

/// Work done every `interval` on the center's clock until the service group shuts down, and
/// optionally once more then: snapshots and retention.
public struct PeriodicService: Service {
    let clock: any CenterClock
    let interval: Duration
    let work: @Sendable () async -> Void
    let atShutdown: Bool

    /// Runs `work` every `interval` on the clock (and once more at shutdown if asked).
    public init(clock: any CenterClock, every interval: Duration, atShutdown: Bool = false, work: @escaping @Sendable () async -> Void) {
        (self.clock, self.interval, self.atShutdown, self.work) = (clock, interval, atShutdown, work)
    }

    public func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while true {
                try await clock.sleep(until: clock.now().adding(milliseconds: interval.milliseconds))
                await work()
            }
        }
        if atShutdown { await work() }
    }

    /// Snapshots the live state when events were stored since the last one, and once more at
    /// shutdown (the next start then replays nothing). A failed snapshot is logged and tried again
    /// next time: the log is the truth, a snapshot only saves time.
    public static func snapshots(center: ContactCenter, clock: any CenterClock, every interval: Duration, logger: Logger)
        -> PeriodicService
    {
        PeriodicService(clock: clock, every: interval, atShutdown: true, work: {
            guard await center.hasEventsSinceSnapshot() else { return }
            do {
                try await center.writeSnapshot()
            } catch {
                logger.warning("snapshot failed; the log replays in full until the next one", metadata: ["error": "\(error)"])
            }
        })
    }

    /// Removes the finished calls older than the center's retention, with their events, and gives
    /// the space back (see `EventStore.purge`).
    public static func retention(center: ContactCenter, clock: any CenterClock, every interval: Duration, logger: Logger)
        -> PeriodicService
    {
        PeriodicService(clock: clock, every: interval, atShutdown: false, work: {
            do {
                let removed = try await center.applyRetention()
                if removed > 0 { logger.info("retention: removed finished calls", metadata: ["calls": "\(removed)"]) }
            } catch {
                logger.warning("retention failed; tried again next time", metadata: ["error": "\(error)"])
            }
        })
    }
}

/// The graceful part of a shutdown (SIGTERM, SIGINT): new customer calls are refused (503
/// `draining`), live calls carry on until the last one ends or `bound` passes (on the center's
/// clock), then the event streams close so the HTTP server can stop.
public struct CallDrainService: Service {
    let center: ContactCenter
    let clock: any CenterClock
    let bound: Duration
    let logger: Logger
    /// Called once new calls are refused (the CLI prints a line scripts can wait for).
    let onDrain: @Sendable () -> Void

    public init(
        center: ContactCenter, clock: any CenterClock, bound: Duration, logger: Logger,
        onDrain: @escaping @Sendable () -> Void = {}
    ) {
        self.center = center
        self.clock = clock
        self.bound = bound
        self.logger = logger
        self.onDrain = onDrain
    }

    public func run() async throws {
        // Waits for the shutdown signal; a cancellation (a failed peer service) skips the drain.
        try? await gracefulShutdown()
        if !Task.isCancelled {
            await drain()
        }
        await center.closeStreams()
    }

    /// Refuses new calls and returns when the last live call has ended, or when `bound` has passed.
    public func drain() async {
        await center.beginDrain()
        onDrain()
        let live = await center.liveCalls()
        logger.info("draining: no new calls; waiting for live calls to end", metadata: ["live": "\(live)"])
        let deadline = clock.now().adding(milliseconds: bound.milliseconds)
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await center.noLiveCalls() }
            group.addTask { [clock] in try? await clock.sleep(until: deadline) }
            await group.next()
            group.cancelAll()
        }
        let left = await center.liveCalls()
        logger.info("drained", metadata: ["liveCallsLeft": "\(left)"])
    }
}
