#if PostgreSQL
import CallControl
import Center
import Foundation
import HTTPAPI
import Logging
import PostgresStore
import ServiceLifecycle
import Synchronization
import UnixSignals

#if canImport(Glibc)
import Glibc
#endif

/// One node of an active/passive pair on PostgreSQL (docs/ha.md). The database decides who is
/// active: the node holding the lease row. Until it holds it, a node is the standby — it answers
/// HTTP as one (`buildStandbyApplication`) and follows the log into its center, so that taking
/// over replays nothing; once it holds it, it is fenced to its epoch, serves, and renews the lease.
/// A node that loses the lease (paused past it, cut off from the database) restarts itself as the
/// standby: it execs its own binary again, so nothing of its former state lingers.
struct PairNode {
    let store: PostgresEventStore
    /// Unique to this process: a restarted node is a new holder.
    let holder: String
    let leaseSeconds: Double
    let logger: Logger

    /// How often a standby looks for new events and for a lapsed lease.
    var pollInterval: Duration { .milliseconds(Int64(max(100, min(500, leaseSeconds * 1000 / 6)))) }
    /// How often the active node renews: three times per lease, so one slow round trip is no loss.
    var renewInterval: Duration { .milliseconds(Int64(leaseSeconds * 1000 / 3)) }

    struct NotYet: Error {}

    /// Standby until this node takes the lease; returns the epoch taken and the HTTP port the
    /// standby listened on (the active server takes the same one), or nil if told to stop first.
    func standBy(
        center: ContactCenter, host: String, port: Int, sip: (host: String, port: Int)?, say: @escaping @Sendable (String) -> Void
    ) async throws -> (epoch: Int64, port: Int)? {
        // The first node up (or the only one) takes the lease at once, with no standby phase.
        if let epoch = try? await takeOver(center) { return (epoch, port) }
        // SIP too answers as the standby: 503 to Kamailio's probes, and to any request.
        var standbySIP: StandbySIP?
        if let sip {
            standbySIP = try await StandbySIP.start(host: sip.host, port: sip.port, retryAfterSeconds: Int(leaseSeconds.rounded(.up)))
        }
        let responder = standbySIP
        defer { if let responder { Task { await responder.close() } } }
        let bound = PortBox()
        let application = buildStandbyApplication(
            host: host, port: port, retryAfterSeconds: Int(leaseSeconds.rounded(.up)),
            onRunning: { port in
                bound.set(port)
                say("Switchboard is the standby: http://\(host):\(port)/")
            }, logger: logger)
        let group = ServiceGroup(
            configuration: .init(services: [.init(service: application)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        return try await withThrowingTaskGroup(of: Int64?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil  // stopped by a signal (a takeover's shutdown ends the wait below first)
            }
            tasks.addTask {
                while true {
                    do {
                        try await follow(center)
                        if let epoch = try? await takeOver(center) { return epoch }
                    } catch {
                        logger.warning("standby: cannot follow the log yet", metadata: ["error": "\(error)"])
                    }
                    try await Task.sleep(for: pollInterval)
                }
            }
            let first = try await tasks.next() ?? nil
            guard let epoch = first else {
                tasks.cancelAll()
                return nil
            }
            await group.triggerGracefulShutdown()
            _ = try await tasks.next()  // the standby's listener is closed: the port is free
            await responder?.close()  // and its SIP port, for the SIP layer to bind
            return (epoch, bound.port ?? port)
        }
    }

    /// Takes the lease if it is free or lapsed, fences this node's writes to its epoch, and reads
    /// the rest of the log (nobody else can append now).
    func takeOver(_ center: ContactCenter) async throws -> Int64 {
        guard let epoch = try await store.claimLease(holder: holder, seconds: leaseSeconds) else { throw NotYet() }
        store.fence(epoch: epoch)
        try await follow(center)
        return epoch
    }

    /// Applies what the log has beyond the center's sequence.
    func follow(_ center: ContactCenter) async throws {
        while true {
            let next = await center.sequence
            let batch = try await store.numberedEvents(after: next - 1, limit: 5_000)
            guard !batch.isEmpty else { return }
            try await center.follow(batch.map { (sequence: $0.0, event: $0.1) })
            if batch.count < 5_000 { return }
        }
    }

    /// Runs the active server while renewing the lease; a lease lost (refused, or not renewed for
    /// a whole lease) or a failed write restarts the process as the standby.
    func whileActive(epoch: Int64, center: ContactCenter, _ serve: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await serve() }
            tasks.addTask {
                var renewed = ContinuousClock.now
                while true {
                    try await Task.sleep(for: renewInterval)
                    // A write that failed (the database lost, or failed over) leaves memory ahead
                    // of the log: start again from the log, as the standby first.
                    if await center.storeHasFailed { restartAsStandby("a write to the database failed") }
                    do {
                        let held = try await store.claimLease(holder: holder, seconds: leaseSeconds)
                        if held == epoch {
                            renewed = ContinuousClock.now
                            continue
                        }
                        restartAsStandby("another node holds the lease now (epoch \(held.map(String.init) ?? "unknown"))")
                    } catch {
                        // The database does not answer: past a whole lease, another node may hold it.
                        if ContinuousClock.now - renewed > .milliseconds(Int64(leaseSeconds * 1000)) {
                            restartAsStandby("the lease could not be renewed for \(leaseSeconds) s: \(error)")
                        }
                        logger.warning("lease renewal failed; trying again", metadata: ["error": "\(error)"])
                    }
                }
            }
            // The server stopping (a signal) ends the node; the renewal loop only ever restarts it.
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// Replaces this process with a fresh one, same binary and arguments: the standby again.
    func restartAsStandby(_ why: String) -> Never {
        FileHandle.standardOutput.write(Data("Switchboard lost the lease: \(why); restarting as the standby\n".utf8))
        logger.error("lost the lease; restarting as the standby", metadata: ["why": "\(why)"])
        // Nothing of this process may outlive it: its listening and accepted sockets close with
        // the exec (the new process binds the same ports; a client waiting on the old one hears
        // the connection close).
        if let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
            for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
                _ = fcntl(descriptor, F_SETFD, fcntl(descriptor, F_GETFD) | FD_CLOEXEC)
            }
        }
        let arguments = CommandLine.arguments
        var pointers = arguments.map { strdup($0) } + [nil]
        execv("/proc/self/exe", &pointers)
        // exec failed: stopping is the safe way out (the writes are fenced anyway).
        exit(75)
    }
}

#endif
