import CallControl
import Center
import Cryptography
import HummingbirdCore
import Foundation
import Hummingbird
import HTTPTypes
import HummingbirdBcrypt
import HummingbirdWebSocket
import Logging
import NIOCore
import Recordings
import ServiceLifecycle
import UnixSignals
import Store

/// Each request's context: Hummingbird's, the WebSocket upgrade's, and who is signed in (set by
/// `Authenticator` on every route that needs it).
public struct SwitchboardContext: RequestContext, WebSocketRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let webSocket: WebSocketHandlerReference<Self>
    public var session: Sessions.Session?
    /// The client's address (sign-in attempts are counted per address).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        webSocket = .init()
        remoteAddress = source.channel.remoteAddress
    }

    /// The signed-in user; `Authenticator` guarantees one on the routes it guards.
    func user() throws -> Sessions.Session {
        guard let session else { throw APIError.unauthorized }
        return session
    }
}

/// How the server listens and shuts down.
public struct ServerOptions: Sendable {
    public var host = "127.0.0.1"
    /// 0: any free port (printed by `onRunning`).
    public var port = 8080
    /// The Agent Desktop's folder, served at `/`; nil serves no desktop.
    public var desktop: String?
    /// On SIGTERM or SIGINT, how long live calls may take to end before the server stops.
    public var drainBound: Duration = .seconds(30)
    public var clock: any CenterClock = SystemClock()
    /// How often the live state is snapshotted (a restart replays only the events after the last).
    public var snapshotInterval: Duration = .seconds(10)
    /// How long finished calls (their events and their place in the list of past interactions) are kept.
    public var retentionDays = 90
    /// How often retention looks for finished calls past it.
    public var retentionInterval: Duration = .seconds(3_600)
    /// Told the bound port once the server listens.
    public var onRunning: @Sendable (Int) -> Void = { _ in }
    /// Told when the drain begins (new calls refused).
    public var onDrain: @Sendable () -> Void = {}
    /// When sessions run out.
    public var sessions = Sessions.Policy()
    /// How long an available agent's desktops may all be closed before the agent goes idle.
    public var desktopGrace: Duration = .seconds(60)
    /// Web calls one address may start in a minute (the door needs no sign-in).
    public var webCallsPerMinute = 6
    /// Where calls are recorded (served to who may hear them, removed by retention); none: no recordings.
    public var recordings: RecordingDirectory?
    /// HTTPS: the certificate (chain after it) and key the server presents, PEM; nil serves plain
    /// HTTP. Browsers give a page the microphone only over HTTPS or on localhost (docs/webrtc.md).
    public var https: (certificatePEM: String, privateKeyPEM: String)?

    public init() {}
}

/// The whole server, built and ready to run: the center over its store and telephony, the HTTP
/// API over the center, and the services that run them.
public struct SwitchboardServer: Sendable {
    public let center: ContactCenter
    public let sessions: Sessions
    public let application: Application<RouterResponder<SwitchboardContext>>
    /// In start order: store, center, snapshots, HTTP server, drain; shut down in reverse (see `Services.swift`).
    public let services: [any Service]
    let logger: Logger

    /// Runs every service until a signal (or a failure) shuts the group down.
    public func run(gracefulShutdownSignals: [UnixSignal] = [.sigterm, .sigint]) async throws {
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) }, gracefulShutdownSignals: gracefulShutdownSignals,
                logger: logger))
        try await group.run()
    }
}

/// Builds the server from a configuration, an event store and a telephony: the center is rebuilt
/// from the store's log (its timers start when the services run). `simulator`: the call
/// simulator's controls (the `/v1/sim` routes), beside another telephony (the demo runs it beside
/// SIP); a `SimulatedTelephony` given as the telephony has them anyway. The CLI parses flags and
/// calls this; tests call it with an in-memory store and a manual clock.
public func buildApplication(
    configuration: SwitchboardConfiguration, store: any EventStore, telephony: any Telephony,
    simulator: SimulatedTelephony? = nil, options: ServerOptions = ServerOptions()
) async throws -> SwitchboardServer {
    let center = try await ContactCenter(
        configuration: configuration, store: store, telephony: telephony, clock: options.clock,
        retentionDays: options.retentionDays, desktopGrace: options.desktopGrace)
    return try await buildApplication(center: center, store: store, telephony: telephony, simulator: simulator, options: options)
}

/// The same around a center already built: a standby's, kept current from the log until it took
/// the lease (docs/ha.md).
public func buildApplication(
    center: ContactCenter, store: any EventStore, telephony: any Telephony,
    simulator: SimulatedTelephony? = nil, options: ServerOptions = ServerOptions()
) async throws -> SwitchboardServer {
    let logger = Logger(label: "Switchboard")
    let sessions = Sessions(store: store, clock: options.clock, policy: options.sessions)
    try await sessions.load()
    let accounts = Accounts(center: center, sessions: sessions)
    // Beside another telephony, the simulator only places calls and hangs up: its line actions
    // are the other's.
    let controls = simulator ?? (telephony as? SimulatedTelephony)
    if let simulator, (telephony as? SimulatedTelephony) !== simulator { simulator.attach(to: center) }
    let router = buildRouter(
        accounts: accounts, simulator: controls, telephony: telephony, desktop: options.desktop,
        webCallsPerMinute: options.webCallsPerMinute, recordings: options.recordings, logger: logger)
    let onRunning = options.onRunning
    let server: HTTPServerBuilder
    if let https = options.https {
        server = .http1WebSocketUpgradeOverTLS(
            webSocketResponder: router.buildResponder(), tls: try TLSContext(serverCertificatePEM: https.certificatePEM, privateKeyPEM: https.privateKeyPEM))
    } else {
        server = .http1WebSocketUpgrade(webSocketRouter: router)
    }
    let application = Application(
        router: router,
        server: server,
        // A deep accept queue: a contact center's desktops reconnect all at once after a network blip
        // (and the load test connects hundreds at once); 256 overflowed and stalled connections.
        configuration: .init(
            address: .hostname(options.host, port: options.port), serverName: "Switchboard", backlog: 4096),
        onServerRunning: { channel in onRunning(channel.localAddress?.port ?? 0) },
        logger: logger)
    // A telephony that runs (SIP: its port, its timers) starts after the center and stops before it.
    let telephonyServices: [any Service] = (telephony as? any Service).map { [$0] } ?? []
    let services: [any Service] = [
        StoreService(store: store),
        CenterService(center: center),
    ] + telephonyServices + [
        PeriodicService.snapshots(center: center, clock: options.clock, every: options.snapshotInterval, logger: logger),
        PeriodicService.retention(center: center, clock: options.clock, every: options.retentionInterval, logger: logger),
        // A recording goes with its interaction: one last written before the retention's cutoff.
        PeriodicService(clock: options.clock, every: options.retentionInterval) { [recordings = options.recordings, days = options.retentionDays] in
            guard let recordings else { return }
            let cutoff = options.clock.now().milliseconds / 1000 - Int64(days) * 86_400
            let removed = recordings.removeOlder(than: cutoff)
            if removed > 0 { logger.info("retention: removed recordings", metadata: ["recordings": "\(removed)"]) }
        },
        // Sessions that ran out end (their streams are told), and when each was last used is written down.
        PeriodicService(clock: options.clock, every: options.sessions.sweepInterval) {
            do {
                try await accounts.sweep()
            } catch {
                logger.warning("session sweep failed; tried again next time", metadata: ["error": "\(error)"])
            }
        },
        application,
        CallDrainService(
            center: center, clock: options.clock, bound: options.drainBound, logger: logger, onDrain: options.onDrain),
    ]
    return SwitchboardServer(center: center, sessions: sessions, application: application, services: services, logger: logger)
}

/// Password hashes as the configuration keeps them (bcrypt).
public enum PasswordHash {
    public static func make(_ password: String, cost: UInt8 = 12) -> String { Bcrypt.hash(password, cost: cost) }
}

extension SwitchboardConfiguration {
    /// The demo configuration, its one password ("switchboard") hashed with bcrypt.
    public static func demo() -> SwitchboardConfiguration {
        // One hash for everyone: hashing is slow on purpose, and the demo has one password.
        demo(passwordHash: Bcrypt.hash("switchboard", cost: 8))
    }
}

/// Sets the request's session from its bearer token (or, for the event stream's WebSocket, which
/// browsers cannot give headers, a `token` query parameter); refuses the request with 401 without one.
struct Authenticator: RouterMiddleware {
    let sessions: Sessions

    func handle(
        _ request: Request, context: SwitchboardContext, next: (Request, SwitchboardContext) async throws -> Response
    ) async throws -> Response {
        let bearer = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? String($0.dropFirst(7)) : nil }
        guard let token = bearer ?? request.uri.queryParameters.get("token") else { throw APIError.unauthorized }
        switch sessions.lookup(token) {
        case .live(let session):
            var context = context
            context.session = session
            return try await next(request, context)
        case .ended(let ending, let by):
            throw APIError.sessionEnded(ending, by: by.map(displayName))
        case .unknown:
            throw APIError.unauthorized
        }
    }

    let displayName: @Sendable (String) -> String
}

/// Turns every failure into the API's error body, `{"error": {"code", "message"}}`: refusals as
/// they are, an oversized body as 413, anything unexpected as 500 without its internals (logged).
struct ErrorMiddleware: RouterMiddleware {
    let logger: Logger

    func handle(
        _ request: Request, context: SwitchboardContext, next: (Request, SwitchboardContext) async throws -> Response
    ) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > API.maxBody {
            return APIError.payloadTooLarge.response
        }
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return error.response
        } catch is ContactCenter.StoreUnavailable {
            return APIError.storeUnavailable.response
        } catch is ContactCenter.Draining {
            return APIError.draining.response
        } catch is NIOTooManyBytesError {
            return APIError.payloadTooLarge.response
        } catch let error as HTTPResponseError {
            // Hummingbird's own answers (no such route, wrong method): its status, our body.
            let status = error.status
            return APIError(status: status, code: status.code == 404 ? "noSuchRoute" : "httpError",
                            message: status.reasonPhrase).response
        } catch {
            logger.error("request failed", metadata: ["path": "\(request.uri.path)", "error": "\(error)"])
            return APIError.internalError.response
        }
    }
}

extension APIError {
    var response: Response {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The headers every answer carries, the desktop's files included: a Content-Security-Policy
/// allowing this origin only (no inline script or style, no framing), no MIME sniffing, no referrer.
struct SecurityHeaders: RouterMiddleware {
    static let policy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func handle(
        _ request: Request, context: SwitchboardContext, next: (Request, SwitchboardContext) async throws -> Response
    ) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.contentSecurityPolicy] = Self.policy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        return response
    }
}
