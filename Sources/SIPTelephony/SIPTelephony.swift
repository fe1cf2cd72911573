import CallControl
import Center
import Logging
import SIP
import ServiceLifecycle
import Store

/// The center's telephony over SIP: a back-to-back user agent. Customers' INVITEs become calls
/// in queues; the core's line actions become INVITEs, BYEs and CANCELs to agents' phones; what
/// the phones do comes back as line events. It is a `Service`: `run()` binds the port and
/// serves until shutdown.
public final class SIPTelephony: Telephony, Service {
    let endpoint: SIPEndpoint
    private let actions: AsyncStream<[Action]>
    private let actionsIn: AsyncStream<[Action]>.Continuation

    /// `records`: where open legs are written down (the server's store), so that after a crash
    /// the next start carries on those of live calls and ends the others; nil keeps nothing.
    public init(
        settings: SIPSettings, clock: any CenterClock, records: (any LineRecords)?, logger: Logger = Logger(label: "switchboard.sip")
    ) {
        endpoint = SIPEndpoint(settings: settings, clock: clock, records: records, logger: logger)
        (actions, actionsIn) = AsyncStream.makeStream()
    }

    public func attach(to center: ContactCenter) { endpoint.attachSynchronously(center) }

    public func phoneAvailable(for agent: AgentID) async -> Bool { await endpoint.isRegistered(agent) }

    /// Queued, and carried out in order by `run()`.
    public func perform(_ actions: [Action]) { actionsIn.yield(actions) }

    /// The port SIP listens on (UDP and TCP), once bound.
    public func boundPort() async -> Int? { await endpoint.boundPort }

    /// The port SIP over TLS listens on, once bound (nil without TLS).
    public func boundTLSPort() async -> Int? { await endpoint.boundTLSPort }

    /// Waits until the port is bound (or binding failed).
    public func ready() async throws -> Int { try await endpoint.ready() }


    public func run() async throws {
        let endpoint = endpoint
        let actions = actions
        do {
            try await serve(endpoint, actions)
        } catch {
            await endpoint.media.closeAll()  // cancelled, or the port could not be bound: the media ports are freed too
            throw error
        }
        await endpoint.media.closeAll()
    }

    private func serve(_ endpoint: SIPEndpoint, _ actions: AsyncStream<[Action]>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                // Not before the legs the last run left are carried on or ended: the center's
                // changes since (a hang-up, a new plan) then find them, and come after, in order.
                guard (try? await endpoint.ready()) != nil else { return }
                for await batch in actions.cancelOnGracefulShutdown() { await endpoint.perform(batch) }
            }
            group.addTask {
                // Failing to bind ends the server; being stopped for a shutdown is how it ends.
                do { try await endpoint.run() } catch where Task.isCancelled {}
            }
            try await gracefulShutdown()
            group.cancelAll()
        }
    }
}

/// The browser as a phone, and web calls: the SIP telephony's media engine terminates WebRTC.
extension SIPTelephony: BrowserStations {
    public func openSession(for user: AgentID, offer: String) async throws(BrowserStationError) -> (id: String, answer: String) {
        try await endpoint.openUserSession(user, offer: offer)
    }

    public func closeSession(_ id: String, of user: AgentID) async throws(BrowserStationError) {
        try await endpoint.closeUserSession(id, of: user)
    }

    public func sessionConnected(of agent: AgentID) async -> Bool { await endpoint.userSessionConnected(agent) }

    public func startWebCall(number: String, offer: String) async throws(BrowserStationError)
        -> (key: String, call: InteractionID, answer: String)
    {
        try await endpoint.startWebCall(number: number, offer: offer)
    }

    public func resumeWebCall(number: String, key: String, offer: String) async throws(BrowserStationError) -> String {
        try await endpoint.resumeWebCall(number: number, key: key, offer: offer)
    }

    public func webCallState(number: String, key: String) async -> String? { await endpoint.webCallState(number: number, key: key) }

    public func endWebCall(number: String, key: String) async throws(BrowserStationError) {
        try await endpoint.endWebCall(number: number, key: key)
    }

    public nonisolated func allowsWebCalls(_ number: String) -> Bool { endpoint.settings.webCallNumbers.contains(number) }
}
