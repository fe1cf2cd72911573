import B2BUA
import CallControl
import Center
import Cryptography
import Foundation
import Logging
import Media
import MediaService
import Recordings
import SIP
import Store
import Synchronization

/// The SIP user agent behind `SIPTelephony`: the transaction layer and its timers, the
/// registrar, and the B2BUA's calls. One actor, so the layer, the registrar and the calls change
/// together; what goes out is queued (`outbox`) and written by one task, in order, so the actor
/// never waits on a socket.
actor SIPEndpoint {
    let settings: SIPSettings
    let clock: any CenterClock
    let logger: Logger
    var layer: TransactionLayer
    var registrar = Registrar()
    /// Addresses phones registered from: their requests are never rate-limited.
    var phoneHosts: Set<String> = []
    /// Where each registered phone registered from (host, port, transport): a call from there is an agent's.
    var phoneSources: Set<SIPPeer> = []
    var authenticator: DigestAuthenticator
    /// Guessing and flood limits (docs/sip.md, "Attacks").
    var guarding = SIPGuard()
    let policy = UASPolicy(allowed: [.invite, .ack, .bye, .cancel, .options, .register, .info, .update, .refer])
    var transport: SIPTransport?
    var readyWaiters: [CheckedContinuation<Int, any Error>] = []
    var bindError: (any Error)?

    enum Outgoing: Sendable {
        case message(SIPMessage)
        /// The answer to a CRLF keep-alive.
        case pong
    }
    let outbox: AsyncStream<(Outgoing, SIPPeer)>
    let outboxIn: AsyncStream<(Outgoing, SIPPeer)>.Continuation

    // Timers: in the server's one queue of deadlines (the center's), under this endpoint's owner.
    enum Timer: Hashable, Sendable {
        case transaction(TransactionTimerID)
        /// A leg's own timer (the 2xx to a customer's INVITE sent again until the ACK).
        case leg(LegID, LegTimer)
        case registrations
        /// Every registered phone is sent an OPTIONS.
        case qualify
        /// A browser station went away while its agent was on a call: the call is kept this long.
        case browserGrace(AgentID)
        /// A web call's browser went away (or the server restarted under it): kept this long.
        case webCallGrace(String)
    }
    var deadlineOwner: Deadlines.Owner?

    // The B2BUA's legs: pure machines (`B2BUA`), whose actions this actor performs.
    enum LegMachine {
        case customer(CustomerLeg)
        case outbound(OutboundLeg)
    }
    var legs: [LegID: LegMachine] = [:]
    /// Each call's legs, and what routes to each leg (so a leg that ends is forgotten in O(1), not
    /// by scanning every route: under load there are thousands).
    var legsOfCall: [InteractionID: Set<Leg>] = [:]
    struct LegRoutes {
        var dialog: String?
        var transactions: Set<ClientTransactionID> = []
        var invite: ServerTransactionID?
    }
    var routes: [LegID: LegRoutes] = [:]
    /// Calls whose customer was handed to an outside number: the call is over for the center, and
    /// the server keeps the customer's and the number's legs bridged until one of them hangs up.
    var handedOff: Set<InteractionID> = []
    /// In-dialog requests by Call-ID and our tag; responses by client transaction; a CANCEL by
    /// the INVITE it cancels: which leg each is for.
    var dialogs: [String: LegID] = [:]
    var clientTransactions: [ClientTransactionID: LegID] = [:]
    var customerInvites: [ServerTransactionID: LegID] = [:]
    /// The queue each customer's call is for (told to the center on arrival).
    var queues: [InteractionID: QueueID] = [:]
    /// OPTIONS out to registered phones, by transaction: whose binding each checks.
    var qualifying: [ClientTransactionID: (user: String, contact: String)] = [:]
    /// The legs' RTP: a port pair each, and what each hears.
    let media: MediaEngine
    /// Browsers as phones: agents' WebRTC sessions and customers' web calls (SIPEndpoint+Browser).
    var browser = BrowserPhones()
    /// The media engine's news of sessions (connected, lost), taken in order by `run`.
    let browserEvents: AsyncStream<(WebRTCSessionID, WebRTCSessionEvent)>
    let browserEventsIn: AsyncStream<(WebRTCSessionID, WebRTCSessionEvent)>.Continuation

    /// Where each open leg is written down, so a restart after a crash can end it (see `recover`).
    let records: (any LineRecords)?

    init(settings: SIPSettings, clock: any CenterClock, records: (any LineRecords)?, logger: Logger) {
        self.records = records
        self.settings = settings
        self.clock = clock
        self.logger = logger
        layer = TransactionLayer(timers: settings.timers, streamTimers: settings.streamTimers)
        authenticator = DigestAuthenticator(realm: settings.realm, algorithms: settings.digestAlgorithms)
        (outbox, outboxIn) = AsyncStream.makeStream()
        (browserEvents, browserEventsIn) = AsyncStream.makeStream()
        let attached = attached
        let logger = logger
        media = MediaEngine(
            host: settings.host, ports: settings.rtpPorts, music: settings.music, webRTC: settings.webRTC,
            recordings: settings.recordings.map { directory in
                RecordingSink(directory: directory) { call, why in
                    guard let center = attached.withLock({ $0 }) else { return }
                    center.metrics.registry.makeCounter(
                        name: "switchboard_recording_failures_total",
                        help: "Recordings that failed (disk full, directory unwritable): the call went on unrecorded from then.")
                        .increment()
                    Task { await center.alert("recordingFailed", task: call, message: "the call's recording failed: \(why)") }
                }
            },
            onWebRTCDrop: { reason in
                guard let center = attached.withLock({ $0 }) else { return }
                center.metrics.registry.makeCounter(
                    name: "switchboard_webrtc_dropped_total", labels: [("reason", reason)],
                    help: "Datagrams dropped on WebRTC ports: bad STUN integrity, DTLS or SRTP from an unchecked source, SRTP failing its tag or replayed.")
                    .increment()
            })
    }

    /// Set once, before any call: `attach` is synchronous in the Telephony protocol.
    nonisolated func attachSynchronously(_ center: ContactCenter) { attached.withLock { $0 = center } }
    let attached = AttachedCenter()
    var center: ContactCenter? { attached.withLock { $0 } }

    var boundPort: Int? { transport?.port }
    var boundTLSPort: Int? { transport?.tlsPort }

    func ready() async throws -> Int {
        if isReady, let port = transport?.port { return port }
        if let bindError { throw bindError }
        return try await withCheckedThrowingContinuation { readyWaiters.append($0) }
    }

    func isRegistered(_ agent: AgentID) -> Bool { !registrar.contacts(of: agent.rawValue).isEmpty }

    var now: Duration { .milliseconds(clock.now().milliseconds) }

    /// The registrations as last written down, by user: only what changed is written again.
    var writtenRegistrations: [String: [Registrar.Binding]] = [:]
    /// Changes to the written-down legs and registrations, in order, not yet handed to the store.
    let unwrittenLines = WriteQueue<LineRecord>()

    // MARK: Running

    func run() async throws {
        let transport: SIPTransport
        do {
            let tls = try settings.tls.map { tls in
                (port: tls.port, context: try TLSContext(serverCertificatePEM: tls.certificatePEM, privateKeyPEM: tls.privateKeyPEM))
            }
            transport = try await SIPTransport.bind(
                host: settings.host, port: settings.port, tls: tls, incompleteTimeout: settings.tcpIncompleteTimeout, clock: clock,
                logger: logger)
        } catch {
            bindError = error
            for waiter in readyWaiters { waiter.resume(throwing: error) }
            readyWaiters = []
            throw error
        }
        self.transport = transport
        deadlineOwner = center?.deadlines.register { [weak self] due in await self?.fire(due) }
        logger.info("SIP listening", metadata: ["host": "\(settings.host)", "port": "\(transport.port)"])
        if let tlsPort = transport.tlsPort {
            logger.info("SIP over TLS listening", metadata: [
                "port": "\(tlsPort)", "fingerprint": "\(settings.tls?.fingerprint ?? "the operator's certificate")"])
        }
        let outbox = outbox
        defer {
            if let deadlineOwner { center?.deadlines.unregister(deadlineOwner) }
            deadlineOwner = nil
            // Stopped before it was ready: whoever waits for it is told, not left waiting.
            for waiter in readyWaiters { waiter.resume(throwing: CancellationError()) }
            readyWaiters = []
        }
        let browserEvents = browserEvents
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                // Ends when the group is cancelled (an AsyncStream's iterator returns nil then).
                for await (id, event) in browserEvents { await self.browserEvent(id, event) }
            }
            group.addTask {
                // Serialized here, off the actor.
                for await (outgoing, peer) in outbox {
                    switch outgoing {
                    case .message(let message):
                        if await !transport.send(message.serialized(), to: peer), case .request(let request) = message {
                            await self.couldNotSend(request)
                        }
                    case .pong:
                        await transport.send([13, 10], to: peer)
                    }
                }
            }
            group.addTask {
                try await transport.run(onReady: { await self.transportReady() }) { inbound, peer in
                    await self.receive(inbound, from: peer)
                }
            }
            group.addTask {
                // The transports end when cancelled; the outbox then has nothing more to write.
                try? await Task.sleep(for: .seconds(1_000_000_000))
                self.outboxIn.finish()
            }
        }
    }

    /// The port can send: legs the last run left open are ended, then the server says it is ready.
    func transportReady() async {
        await recover()
        if let every = settings.qualifyInterval { schedule(.qualify, after: every) }
        isReady = true
        for waiter in readyWaiters { waiter.resume(returning: transport?.port ?? 0) }
        readyWaiters = []
    }

    var isReady = false

    func send(_ message: SIPMessage, to peer: SIPPeer) {
        guard let serverHeader = settings.serverHeader else {
            outboxIn.yield((.message(message), peer))
            return
        }
        switch message {
        case .request(var request):
            if request.headers["User-Agent"] == nil { request.headers.add("User-Agent", serverHeader) }
            outboxIn.yield((.message(.request(request)), peer))
        case .response(var response):
            if response.headers["Server"] == nil { response.headers.add("Server", serverHeader) }
            outboxIn.yield((.message(.response(response)), peer))
        }
    }

    // MARK: Inbound

    /// Parsing happens before the actor (on the transport's task), so it runs beside the
    /// actor's work on another core; only what parsed, or the answer to what did not, comes in.
    nonisolated func receive(_ inbound: SIPTransport.Inbound, from peer: SIPPeer) async {
        switch inbound {
        case .message(let parsed):
            await handleMessage(parsed, from: peer)
        case .datagram(let bytes):
            // Keep-alives (RFC 5626 §4.4.1: CRLF pings) are answered with a pong over UDP too.
            if bytes == [13, 10, 13, 10] {
                outboxIn.yield((.pong, peer))
                return
            }
            do {
                await handleMessage(try SIPParser.parse(datagram: bytes), from: peer)
            } catch {
                if let response = SIPParser.errorResponse(to: bytes, error: error) {
                    outboxIn.yield((.message(.response(response)), peer))
                }
                logger.debug("refused SIP datagram", metadata: ["peer": "\(peer)", "error": "\(error)"])
            }
        }
    }

    func handleMessage(_ message: SIPMessage, from peer: SIPPeer) async {
        // Requests from addresses that are neither a trunk nor a registered phone are limited to a
        // rate; past it they are dropped unanswered (answering a flood would feed it).
        if case .request = message, !settings.trustedSources.contains(peer.host), !phoneHosts.contains(peer.host),
            !guarding.admits(peer.host, at: clock.now())
        {
            metrics?.dropped(reason: "flood")
            return
        }
        await handle(layer.receive(message, from: peer))
    }

    func handle(_ outputs: [TransactionLayer.Output]) async {
        for output in outputs {
            switch output {
            case .send(let message, let peer): send(message, to: peer)
            case .startTimer(let id, let after): schedule(.transaction(id), after: after)
            case .cancelTimer(let id): unschedule(.transaction(id))
            case .request(let request, let id, let peer): await handleRequest(request, id, from: peer)
            case .ack(let ack, _): await acknowledged(ack)
            case .response(_, let id) where id.method == .options:
                qualifying[id] = nil  // any answer: the phone is there
            case .response(let response, let id): await received(response, for: id)
            case .timeout(.client(let id)) where id.method == .options: await phoneStoppedAnswering(id)
            case .timeout(.client(let id)): await transactionFailed(id)
            case .timeout(.server): break  // no ACK for a refusal (Timer H): nothing to undo
            }
        }
    }

    /// A request could not be written: its client transaction ends as if it had timed out (RFC
    /// 3261 §17.1.4), so a phone whose TCP connection is gone fails its ring at once.
    func couldNotSend(_ request: SIPRequest) async {
        guard request.method != .ack else { return }
        await handle(layer.transportError(ClientTransactionID(of: request)))
    }

    func respond(_ response: SIPResponse, to id: ServerTransactionID) async {
        await handle(layer.respond(response, to: id))
    }

    // MARK: Requests (the UAS side)

    func handleRequest(_ request: SIPRequest, _ id: ServerTransactionID, from peer: SIPPeer) async {
        let toTag = Self.makeTag()
        if let refusal = policy.refusal(of: request, toTag: toTag) {
            return await respond(refusal, to: id)
        }
        // RFC 3261 §26.2, RFC 5630: a sips: URI is reached over TLS only; one that came (or asks to
        // be reached) over UDP or TCP is refused rather than served in the clear.
        if peer.transport != .tls, Self.asksForTLS(request) {
            return await respond(SIPResponse(
                answering: request, status: 416, reason: "Unsupported URI Scheme (sips: only over TLS)", toTag: toTag), to: id)
        }
        switch request.method {
        case .register:
            await register(request, id, from: peer, toTag: toTag)
        case .options:
            var ok = SIPResponse(answering: request, status: 200, toTag: toTag)
            ok.headers.add("Allow", policy.allowed.map(\.description).joined(separator: ", "))
            ok.headers.add("Accept", "application/sdp")
            await respond(ok, to: id)
        case .invite where request.to?.tag == nil:
            await incomingCall(request, id, from: peer, toTag: toTag)
        case .invite, .update:
            // A re-offer (hold, a refresh): the leg answers with its own port, so no re-negotiation
            // reaches the other legs.
            await toLeg(request, id) { leg in leg.reoffer(request, id) }
        case .bye:
            await toLeg(request, id) { leg in leg.bye(request, id) }
        case .cancel:
            guard let leg = customerInvites[id.cancelledInvite], case .customer(var machine) = legs[leg] else {
                return await respond(SIPResponse(answering: request, status: 481), to: id)
            }
            let actions = machine.cancel(request, id)
            legs[leg] = .customer(machine)
            await perform(actions, for: leg)
        case .refer:
            // Transfers and conferences are the Agent Desktop's (the spec): the call goes on untouched.
            let known = dialogs[Self.dialogKey(request)] != nil
            await respond(SIPResponse(
                answering: request, status: known ? 403 : 481,
                reason: known ? "Forbidden (use the Agent Desktop to transfer or conference)" : nil), to: id)
        case .info:
            // Answered, changing nothing (DTMF goes in RTP, RFC 4733).
            await respond(SIPResponse(answering: request, status: dialogs[Self.dialogKey(request)] != nil ? 200 : 481), to: id)
        case .ack, .prack, .subscribe, .notify, .message, .other:
            // The policy refuses every method not in `allowed`; ACK never reaches here.
            await respond(SIPResponse(answering: request, status: 405, toTag: toTag), to: id)
        }
    }

    /// A sips: Request-URI, or a REGISTER's sips: Contact.
    static func asksForTLS(_ request: SIPRequest) -> Bool {
        if request.requestURI.lowercased().hasPrefix("sips:") { return true }
        guard request.method == .register else { return false }
        return request.headers.values("Contact").contains { (try? SIPNameAddress(parsing: $0))?.uri?.secure == true }
    }

    func register(_ request: SIPRequest, _ id: ServerTransactionID, from peer: SIPPeer, toTag: String) async {
        guard let user = request.to?.uri?.user else {
            return await respond(SIPResponse(answering: request, status: 400, reason: "Bad Request (To is not a SIP URI)", toTag: toTag), to: id)
        }
        let outcome: DigestOutcome
        do {
            outcome = try authenticate(request, from: peer) { username in self.settings.credentials[AgentID(username)] }
        } catch {
            return await respond(error.response(to: request, toTag: toTag), to: id)
        }
        switch outcome {
        case .authenticated(let username):
            guard username == user else {
                return await respond(SIPResponse(
                    answering: request, status: 403, reason: "Forbidden (credentials are not the To user's)", toTag: toTag), to: id)
            }
            let (response, changes) = registrar.register(request, user: user, from: peer, now: now, toTag: toTag)
            await respond(response, to: id)
            registrationsChanged()
            await apply(changes)
        case .missing, .rejected, .stale, .replayed:
            await respond(challenge(request, toTag: toTag, stale: outcome == .stale || outcome == .replayed), to: id)
        }
    }

    /// A refusal for guessing: the same words for every user, so it tells no names apart.
    struct Blocked: Error {
        var seconds: Int64
        func response(to request: SIPRequest, toTag: String) -> SIPResponse {
            var response = SIPResponse(
                answering: request, status: 403, reason: "Forbidden (too many failed attempts: try again later)", toTag: toTag)
            response.headers.add("Retry-After", String(seconds))
            return response
        }
    }

    /// Checks a request's digest answer through the guard: an address or a user blocked for
    /// guessing is refused without looking at the answer; a wrong answer counts toward a block.
    func authenticate(
        _ request: SIPRequest, from peer: SIPPeer, credential: (String) -> DigestCredential?
    ) throws(Blocked) -> DigestOutcome {
        let offered = request.headers.values("Authorization").compactMap(DigestAuthenticator.parameters).first
        let now = clock.now()
        if let username = offered?["username"], let wait = guarding.wait(user: username, host: peer.host, at: now) {
            // Guessing on while blocked counts as guessing: the block grows (up to 15 minutes).
            metrics?.refusedForGuessing()
            countFailure(user: username, host: peer.host, at: now, why: "attempted while blocked")
            let longest = max(wait, guarding.wait(user: username, host: peer.host, at: now) ?? 0)
            throw Blocked(seconds: (longest + 999) / 1000)
        }
        let outcome = authenticator.verify(request, now: self.now, credential: credential)
        switch outcome {
        case .authenticated(let username):
            guarding.succeeded(user: username, host: peer.host, at: now)
        case .rejected(let why):
            guard let username = offered?["username"] else { break }
            metrics?.digestFailed()
            countFailure(user: username, host: peer.host, at: now, why: why)
        case .replayed:
            metrics?.replayed()
            logger.notice("SIP digest replayed (a nonce count used before)", metadata: ["address": "\(peer.host)"])
        case .missing, .stale:
            break
        }
        return outcome
    }

    /// A wrong answer (or one while blocked): counted, and any block it starts logged for the operator.
    func countFailure(user: String, host: String, at now: Timestamp, why: String) {
        for block in guarding.failed(user: user, host: host, at: now) {
            metrics?.blocked(block)
            switch block {
            case .address(let host, let milliseconds):
                logger.warning("SIP digest guessing: address blocked", metadata: [
                    "address": "\(host)", "seconds": "\(milliseconds / 1000)", "user": "\(user)", "why": "\(why)"])
            case .user(let user, let milliseconds):
                logger.warning("SIP digest guessing: user blocked for unknown addresses", metadata: [
                    "user": "\(user)", "seconds": "\(milliseconds / 1000)", "address": "\(host)"])
            }
        }
    }

    /// The registrar changed: its expiry timer and the addresses phones register from.
    func registrationsChanged() {
        scheduleRegistrations()
        writeDownRegistrations()
        phoneSources = Set(registrar.bindings.values.joined().filter { $0.proxied != true }.map(\.source))
        phoneHosts = Set(registrar.bindings.values.joined().map(\.source.host))
    }

    /// A 401 with one digest challenge per algorithm offered (RFC 8760), for a REGISTER or a trunk's INVITE.
    func challenge(_ request: SIPRequest, toTag: String, stale: Bool) -> SIPResponse {
        var response = SIPResponse(answering: request, status: 401, toTag: toTag)
        let agent = request.headers["User-Agent"] ?? ""
        let md5Only = settings.md5OnlyUserAgents.contains { agent.hasPrefix($0) }
        for value in authenticator.challenges(now: now, stale: stale, only: md5Only ? [.md5] : nil) {
            response.headers.add("WWW-Authenticate", value)
        }
        return response
    }

    func apply(_ changes: [Registrar.Change]) async {
        for change in changes {
            switch change {
            case .registered(let user):
                logger.info("phone registered", metadata: ["agent": "\(user)"])
            case .unregistered(let user, let expired):
                logger.info("phone unregistered", metadata: ["agent": "\(user)", "expired": "\(expired)"])
                // An available agent answering on that phone goes idle, so nothing rings into the void.
                _ = try? await center?.execute(.agent(AgentID(user), .phoneLost))
            }
        }
    }

    /// A customer's call: a trunk's INVITE to a configured number joins that number's queue.
    func incomingCall(_ invite: SIPRequest, _ id: ServerTransactionID, from peer: SIPPeer, toTag: String) async {
        if !settings.trustedSources.contains(peer.host) {
            // Not a trusted address: a trunk that signs in with digest, or no one.
            guard !settings.trunkCredentials.isEmpty else {
                return await respond(SIPResponse(answering: invite, status: 403, reason: "Forbidden (not a trunk)", toTag: toTag), to: id)
            }
            let outcome: DigestOutcome
            do {
                outcome = try authenticate(invite, from: peer) { self.settings.trunkCredentials[$0] }
            } catch {
                return await respond(error.response(to: invite, toTag: toTag), to: id)
            }
            switch outcome {
            case .authenticated:
                break
            case .missing, .stale, .replayed:
                return await respond(challenge(invite, toTag: toTag, stale: outcome != .missing), to: id)
            case .rejected(let why):
                // Not challenged again: a trunk with a wrong secret would otherwise loop.
                return await respond(SIPResponse(
                    answering: invite, status: 403, reason: "Forbidden (trunk credentials: \(why))", toTag: toTag), to: id)
            }
        }
        // An agent's own phone calling (a second call to consult or conference from the phone): the
        // spec keeps those on the Agent Desktop. The phone is known by where it registered from,
        // not by a From anyone can write (which would also tell agents' names to a scanner); through
        // a proxy, by its registered Contact (the proxy's address is everyone's).
        let contact = invite.headers.values("Contact").first.flatMap { try? SIPNameAddress(parsing: $0) }?.address
        if phoneSources.contains(peer) || contact.map(registrar.isRegistered) == true {
            return await respond(SIPResponse(
                answering: invite, status: 403,
                reason: "Forbidden (calls from an agent's phone: use the Agent Desktop to consult or conference)",
                toTag: toTag), to: id)
        }
        guard let number = invite.uri?.user, let queue = settings.numbers[number] else {
            return await respond(SIPResponse(answering: invite, status: 404, reason: "Not Found (no such number)", toTag: toTag), to: id)
        }
        var offer: SessionDescription?
        if !invite.body.isEmpty {
            let refusal: SessionDescription.Refusal?
            do {
                let parsed = try SessionDescription(parsing: invite.body)
                offer = parsed
                if case .failure(let why) = SessionDescription.negotiate(parsed, address: settings.host, port: 0, sessionID: 0) {
                    refusal = why
                } else {
                    refusal = nil
                }
            } catch {
                refusal = .noCommonCodec
            }
            if let refusal {
                return await respond(SIPResponse(answering: invite, status: 488, reason: refusal.reason, toTag: toTag), to: id)
            }
        }
        let mediaKey = SRTPKey.random()
        // SRTP: keys only over TLS signalling; an offer that insists on SRTP elsewhere is refused,
        // as is one without keys on a TLS leg when SRTP is required.
        if let offer, case .failure(let refusal) = SecureMedia.answer(
            offer, offer, secure: peer.transport == .tls, policy: settings.srtp, key: mediaKey)
        {
            return await respond(SIPResponse(answering: invite, status: 488, reason: refusal.reason, toTag: toTag), to: id)
        }
        guard center != nil else {
            return await respond(SIPResponse(answering: invite, status: 503, toTag: toTag), to: id)
        }
        // Whoever it is (a number, a name, a SIP address, withheld), the call is answered and queued;
        // a trunk's asserted identity is believed (this source is a trunk), anyone's From as said.
        let caller = Caller(CallingIdentity(of: invite, trusted: true))
        let leg = LegID(InteractionID.make(at: clock.now()), .customer)
        let invitation = CustomerLeg.Invitation(
            request: invite, transaction: id, peer: peer, localTag: toTag, offer: offer, caller: caller, srtp: settings.srtp,
            mediaKey: mediaKey)
        let (machine, actions) = CustomerLeg.invited(invitation, context: legContext, ids: Self.identifiers())
        add(leg, .customer(machine))
        customerInvites[id] = leg
        routes[leg, default: LegRoutes()].invite = id
        queues[leg.call] = queue
        await perform(actions, for: leg)
    }

    /// What the center is told about one call goes in order, one command after the other; calls
    /// do not wait on each other, nor does the SIP layer wait on any (each command waits for its
    /// events to be durable, and many calls' commands then share one commit).
    var chains: [InteractionID: Task<Void, Never>] = [:]

    func inOrder(_ id: InteractionID, _ work: @escaping @Sendable () async -> Void) {
        let previous = chains[id]
        let task = Task {
            await previous?.value
            await work()
        }
        chains[id] = task
        Task {
            await task.value
            self.chainDone(id, task)
        }
    }

    func chainDone(_ id: InteractionID, _ task: Task<Void, Never>) {
        if chains[id] == task { chains[id] = nil }
    }

}

enum SIPPeerText {
    static func host(_ host: String) -> String { host.contains(":") ? "[" + host + "]" : host }
    static func host(_ peer: SIPPeer) -> String { host(peer.host) + ":\(peer.port)" }
}

/// The center the endpoint serves, set once after start; shared with the media engine's callbacks.
final class AttachedCenter: Sendable {
    private let value = Mutex<ContactCenter?>(nil)
    func withLock<Result: Sendable>(_ body: (inout ContactCenter?) -> Result) -> Result { value.withLock { body(&$0) } }
}
