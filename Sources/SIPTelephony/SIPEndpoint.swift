import CallControl
import Center
import Logging
import Foundation
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
    private var layer: TransactionLayer
    private var registrar = Registrar()
    private let authenticator: DigestAuthenticator
    private let policy = UASPolicy(allowed: [.invite, .ack, .bye, .cancel, .options, .register, .info, .update, .refer])
    private var transport: SIPTransport?
    private var readyWaiters: [CheckedContinuation<Int, any Error>] = []
    private var bindError: (any Error)?

    enum Outgoing: Sendable {
        case message(SIPMessage)
        /// The answer to a CRLF keep-alive.
        case pong
    }
    private let outbox: AsyncStream<(Outgoing, SIPPeer)>
    private let outboxIn: AsyncStream<(Outgoing, SIPPeer)>.Continuation

    // Timers: one sleeping task, for the earliest deadline.
    enum Timer: Hashable {
        case transaction(TransactionTimerID)
        /// Retransmit the 200 to a customer's INVITE until the ACK comes (RFC 3261 §13.3.1.4).
        case answer(InteractionID)
        case registrations
    }
    private var deadlines = TimerQueue<Timer>()
    private var sleeper: Task<Void, Never>?
    private var sleeperDeadline: Timestamp?

    // Calls.
    struct CustomerLeg {
        var transaction: ServerTransactionID
        var invite: SIPRequest
        var peer: SIPPeer
        var localTag: String
        var answer: SessionDescription?
        var dialog: SIPDialog?
        /// The 200 OK sent, retransmitted as it is until the ACK comes (nil once it has).
        var unacknowledged: (ok: SIPResponse, sentAt: Timestamp, interval: Duration)?
    }

    struct PhoneLeg {
        var transaction: ClientTransactionID
        var invite: SIPRequest
        var peer: SIPPeer
        var dialog: SIPDialog?
    }

    struct Call {
        var customer: CustomerLeg?
        var phones: [Leg: PhoneLeg] = [:]
        var mediaPort: Int
        /// The customer was handed to an outside number: the call is over for the center, and the
        /// server keeps the customer's and the number's legs bridged until one of them hangs up.
        var handedOff = false
    }

    private var calls: [InteractionID: Call] = [:]
    /// Dialogs by Call-ID and our tag: which call and leg an in-dialog request is for.
    private var dialogs: [String: (InteractionID, Leg)] = [:]
    private var invitesSent: [ClientTransactionID: (InteractionID, Leg)] = [:]
    private var nextMediaPort: Int

    /// Where each open leg is written down, so a restart after a crash can end it (see `recover`).
    let records: (any EventStore)?

    init(settings: SIPSettings, clock: any CenterClock, records: (any EventStore)?, logger: Logger) {
        self.records = records
        self.settings = settings
        self.clock = clock
        self.logger = logger
        layer = TransactionLayer(timers: settings.timers)
        authenticator = DigestAuthenticator(realm: settings.realm, algorithms: settings.digestAlgorithms)
        (outbox, outboxIn) = AsyncStream.makeStream()
        nextMediaPort = settings.rtpPorts.lowerBound + settings.rtpPorts.lowerBound % 2
    }

    /// Set once, before any call: `attach` is synchronous in the Telephony protocol.
    nonisolated func attachSynchronously(_ center: ContactCenter) { attached.withLock { $0 = center } }
    private let attached = Mutex<ContactCenter?>(nil)
    private var center: ContactCenter? { attached.withLock { $0 } }

    var boundPort: Int? { transport?.port }

    func ready() async throws -> Int {
        if isReady, let port = transport?.port { return port }
        if let bindError { throw bindError }
        return try await withCheckedThrowingContinuation { readyWaiters.append($0) }
    }

    func isRegistered(_ agent: AgentID) -> Bool { !registrar.contacts(of: agent.rawValue).isEmpty }

    private var now: Duration { .milliseconds(clock.now().milliseconds) }

    // MARK: Running

    func run() async throws {
        let transport: SIPTransport
        do {
            transport = try await SIPTransport.bind(host: settings.host, port: settings.port, logger: logger)
        } catch {
            bindError = error
            for waiter in readyWaiters { waiter.resume(throwing: error) }
            readyWaiters = []
            throw error
        }
        self.transport = transport
        logger.info("SIP listening", metadata: ["host": "\(settings.host)", "port": "\(transport.port)"])
        let outbox = outbox
        defer { sleeper?.cancel() }
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask {
                // Serialized here, off the actor.
                for await (outgoing, peer) in outbox {
                    switch outgoing {
                    case .message(let message): await transport.send(message.serialized(), to: peer)
                    case .pong: await transport.send([13, 10], to: peer)
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
    private func transportReady() async {
        await recover()
        isReady = true
        for waiter in readyWaiters { waiter.resume(returning: transport?.port ?? 0) }
        readyWaiters = []
    }

    private var isReady = false

    private func send(_ message: SIPMessage, to peer: SIPPeer) {
        outboxIn.yield((.message(message), peer))
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

    private func handleMessage(_ message: SIPMessage, from peer: SIPPeer) async {
        await handle(layer.receive(message, from: peer))
    }

    private func handle(_ outputs: [TransactionLayer.Output]) async {
        for output in outputs {
            switch output {
            case .send(let message, let peer): send(message, to: peer)
            case .startTimer(let id, let after): schedule(.transaction(id), after: after)
            case .cancelTimer(let id): deadlines.remove(.transaction(id))
            case .request(let request, let id, let peer): await handleRequest(request, id, from: peer)
            case .ack(let ack, _): handleAck(ack)
            case .response(let response, let id): await handleResponse(response, id)
            case .timeout(let id): await handleTimeout(id)
            }
        }
    }

    private func respond(_ response: SIPResponse, to id: ServerTransactionID) async {
        await handle(layer.respond(response, to: id))
    }

    // MARK: Requests (the UAS side)

    private func handleRequest(_ request: SIPRequest, _ id: ServerTransactionID, from peer: SIPPeer) async {
        let toTag = Self.makeTag()
        if let refusal = policy.refusal(of: request, toTag: toTag) {
            return await respond(refusal, to: id)
        }
        switch request.method {
        case .register:
            await register(request, id, from: peer, toTag: toTag)
        case .options:
            var ok = SIPResponse(answering: request, status: 200, toTag: toTag)
            ok.headers.add("Allow", policy.allowed.map(\.description).joined(separator: ", "))
            ok.headers.add("Accept", "application/sdp")
            await respond(ok, to: id)
        case .invite:
            if request.to?.tag != nil {
                await reinvite(request, id)
            } else {
                await incomingCall(request, id, from: peer, toTag: toTag)
            }
        case .bye:
            await bye(request, id)
        case .cancel:
            await cancel(request, id)
        case .refer:
            // Transfers and conferences are the Agent Desktop's (the spec): the call goes on untouched.
            let known = dialog(of: request) != nil
            await respond(SIPResponse(
                answering: request, status: known ? 403 : 481,
                reason: known ? "Forbidden (use the Agent Desktop to transfer or conference)" : nil), to: id)
        case .info, .update:
            // Answered, changing nothing: the server anchors the media, so no re-negotiation reaches the other legs.
            let known = dialog(of: request) != nil
            var response = SIPResponse(answering: request, status: known ? 200 : 481)
            if known, request.method == .update, let leg = dialog(of: request), let sdp = mediaAnswer(for: leg.0, offer: request.body) {
                response.body = sdp.bytes
                response.headers.add("Content-Type", "application/sdp")
            }
            await respond(response, to: id)
        case .ack, .prack, .subscribe, .notify, .message, .other:
            // The policy refuses every method not in `allowed`; ACK never reaches here.
            await respond(SIPResponse(answering: request, status: 405, toTag: toTag), to: id)
        }
    }

    private func register(_ request: SIPRequest, _ id: ServerTransactionID, from peer: SIPPeer, toTag: String) async {
        guard let user = request.to?.uri?.user else {
            return await respond(SIPResponse(answering: request, status: 400, reason: "Bad Request (To is not a SIP URI)", toTag: toTag), to: id)
        }
        let outcome = authenticator.verify(request, now: now) { username in settings.credentials[AgentID(username)] }
        switch outcome {
        case .authenticated(let username):
            guard username == user else {
                return await respond(SIPResponse(
                    answering: request, status: 403, reason: "Forbidden (credentials are not the To user's)", toTag: toTag), to: id)
            }
            let (response, changes) = registrar.register(request, user: user, from: peer, now: now, toTag: toTag)
            await respond(response, to: id)
            scheduleRegistrations()
            await apply(changes)
        case .missing, .rejected, .stale:
            var challenge = SIPResponse(answering: request, status: 401, toTag: toTag)
            for value in authenticator.challenges(now: now, stale: outcome == .stale) {
                challenge.headers.add("WWW-Authenticate", value)
            }
            await respond(challenge, to: id)
        }
    }

    private func apply(_ changes: [Registrar.Change]) async {
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
    private func incomingCall(_ invite: SIPRequest, _ id: ServerTransactionID, from peer: SIPPeer, toTag: String) async {
        guard settings.trustedSources.contains(peer.host) else {
            return await respond(SIPResponse(answering: invite, status: 403, reason: "Forbidden (not a trunk)", toTag: toTag), to: id)
        }
        // An agent's own phone calling (a second call to consult or conference from the phone): the
        // spec keeps those on the Agent Desktop.
        if let user = invite.from?.uri?.user, settings.credentials[AgentID(user)] != nil {
            return await respond(SIPResponse(
                answering: invite, status: 403,
                reason: "Forbidden (calls from an agent's phone: use the Agent Desktop to consult or conference)",
                toTag: toTag), to: id)
        }
        guard let number = invite.uri?.user, let queue = settings.numbers[number] else {
            return await respond(SIPResponse(answering: invite, status: 404, reason: "Not Found (no such number)", toTag: toTag), to: id)
        }
        let port = allocateMediaPort()
        var answer: SessionDescription?
        if !invite.body.isEmpty {
            guard let offer = try? SessionDescription(parsing: invite.body),
                let made = SessionDescription.answer(to: offer, address: settings.host, port: port, sessionID: Self.sessionID())
            else {
                return await respond(SIPResponse(
                    answering: invite, status: 488, reason: "Not Acceptable Here (no common codec: PCMU or PCMA)", toTag: toTag), to: id)
            }
            answer = made
        }
        guard let center else {
            return await respond(SIPResponse(answering: invite, status: 503, toTag: toTag), to: id)
        }
        let interaction = InteractionID.make(at: clock.now())
        calls[interaction] = Call(
            customer: CustomerLeg(transaction: id, invite: invite, peer: peer, localTag: toTag, answer: answer), mediaPort: port)
        await save(SavedLeg(interaction: interaction, leg: .customer, state: .waiting, invite: invite, dialog: nil, peer: peer))
        let caller = invite.from?.uri?.user.map(DialNumber.init).flatMap { $0.isWellFormed ? $0 : nil } ?? DialNumber("anonymous")
        inOrder(interaction) {
            do {
                let (outcome, _) = try await center.execute(.arrival(interaction, queue: queue, from: caller))
                if let rejection = outcome.rejection {
                    await self.refuseArrival(interaction, status: 480, reason: "Temporarily Unavailable (\(rejection))")
                }
            } catch {
                await self.refuseArrival(interaction, status: 503, reason: nil)
            }
        }
    }

    private func refuseArrival(_ id: InteractionID, status: Int, reason: String?) async {
        guard let customer = calls[id]?.customer else { return }
        forget(id, .customer)
        await respond(SIPResponse(answering: customer.invite, status: status, reason: reason, toTag: customer.localTag), to: customer.transaction)
    }

    /// What the center is told about one call goes in order, one command after the other; calls
    /// do not wait on each other, nor does the SIP layer wait on any (each command waits for its
    /// events to be durable, and many calls' commands then share one commit).
    private var chains: [InteractionID: Task<Void, Never>] = [:]

    private func inOrder(_ id: InteractionID, _ work: @escaping @Sendable () async -> Void) {
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

    private func chainDone(_ id: InteractionID, _ task: Task<Void, Never>) {
        if chains[id] == task { chains[id] = nil }
    }

    private func reinvite(_ invite: SIPRequest, _ id: ServerTransactionID) async {
        guard let (interaction, _) = dialog(of: invite) else {
            return await respond(SIPResponse(answering: invite, status: 481), to: id)
        }
        // A phone putting the call on hold, or refreshing: answered with the same media address.
        var ok = SIPResponse(answering: invite, status: 200)
        ok.headers.add("Contact", contact)
        if let sdp = mediaAnswer(for: interaction, offer: invite.body) {
            ok.body = sdp.bytes
            ok.headers.add("Content-Type", "application/sdp")
        }
        await respond(ok, to: id)
    }

    private func bye(_ request: SIPRequest, _ id: ServerTransactionID) async {
        guard let (interaction, leg) = dialog(of: request) else {
            return await respond(SIPResponse(answering: request, status: 481), to: id)
        }
        await respond(SIPResponse(answering: request, status: 200), to: id)
        forget(interaction, leg)
        if calls[interaction]?.handedOff == true { return await endHandedOff(interaction) }
        await lineEvent(interaction, .hungUp(leg))
    }

    private func cancel(_ request: SIPRequest, _ id: ServerTransactionID) async {
        let invite = id.cancelledInvite
        guard layer.isPending(invite),
            let (interaction, call) = calls.first(where: { $0.value.customer?.transaction == invite })
        else {
            return await respond(SIPResponse(answering: request, status: 481), to: id)
        }
        await respond(SIPResponse(answering: request, status: 200), to: id)
        if let customer = call.customer {
            await respond(SIPResponse(answering: customer.invite, status: 487, toTag: customer.localTag), to: invite)
        }
        forget(interaction, .customer)
        await lineEvent(interaction, .hungUp(.customer))
    }

    private func handleAck(_ ack: SIPRequest) {
        guard case .some((let interaction, .customer)) = dialog(of: ack) else { return }
        calls[interaction]?.customer?.unacknowledged = nil
        deadlines.remove(.answer(interaction))
    }

    private func dialog(of request: SIPRequest) -> (InteractionID, Leg)? {
        guard let callID = request.callID, let tag = request.to?.tag else { return nil }
        return dialogs[callID + ";" + tag]
    }

    // MARK: Responses (the UAC side)

    private func handleResponse(_ response: SIPResponse, _ id: ClientTransactionID) async {
        guard id.method == .invite else { return }
        if let (invite, peer) = cancelledInvites[id] {
            // The leg was hung up while its INVITE was out and the CANCEL crossed a 2xx: the call is
            // ACKed and then BYEd (RFC 3261 §15), so the phone does not stay off-hook.
            guard response.status >= 200 else { return }
            cancelledInvites[id] = nil
            if response.status < 300 { await acknowledgeAndHangUp(invite, response, peer) }
            return
        }
        guard let (interaction, leg) = invitesSent[id], var phone = calls[interaction]?.phones[leg] else { return }
        switch response.status {
        case 100..<200:
            return
        case 200..<300:
            let firstAnswer = phone.dialog == nil
            if phone.dialog == nil {
                phone.dialog = SIPDialog.client(invite: phone.invite, response: response, peer: phone.peer)
            }
            guard let dialog = phone.dialog else { return }
            send(.request(dialog.ack(inviteCSeq: phone.invite.cseq?.number ?? 1, via: makeVia(phone.peer))), to: phone.peer)
            calls[interaction]?.phones[leg] = phone
            dialogs[dialog.callID + ";" + dialog.localTag] = (interaction, leg)
            if firstAnswer {
                await save(SavedLeg(interaction: interaction, leg: leg, state: .connected, invite: nil, dialog: dialog, peer: phone.peer))
                if calls[interaction]?.handedOff != true { await lineEvent(interaction, .answered(leg)) }
            }
        default:
            forget(interaction, leg)
            if calls[interaction]?.handedOff == true { return await endHandedOff(interaction) }
            let failure: RingFailure
            switch response.status {
            case 486, 600: failure = .busy
            case 603: failure = .declined
            default: failure = .unreachable
            }
            await lineEvent(interaction, .ringFailed(leg, failure))
        }
    }

    private func handleTimeout(_ id: TransactionID) async {
        guard case .client(let client) = id else { return }
        cancelledInvites[client] = nil
        guard let (interaction, leg) = invitesSent.removeValue(forKey: client) else { return }
        guard calls[interaction]?.phones[leg]?.dialog == nil else { return }
        forget(interaction, leg)
        await lineEvent(interaction, .ringFailed(leg, .unreachable))
    }

    /// INVITEs cancelled while ringing, until their final response: a 2xx that crossed the CANCEL is ACKed and BYEd.
    private var cancelledInvites: [ClientTransactionID: (SIPRequest, SIPPeer)] = [:]

    private func acknowledgeAndHangUp(_ invite: SIPRequest, _ response: SIPResponse, _ peer: SIPPeer) async {
        guard var dialog = SIPDialog.client(invite: invite, response: response, peer: peer) else { return }
        send(.request(dialog.ack(inviteCSeq: invite.cseq?.number ?? 1, via: makeVia(peer))), to: peer)
        await handle(layer.send(dialog.request(.bye, via: makeVia(peer)), to: peer).1)
    }

    // MARK: The center's line actions

    func perform(_ actions: [Action]) async {
        for action in actions {
            switch action {
            case .answerCustomer(let id):
                await answerCustomer(id)
            case .ring(let id, let leg):
                await ring(id, leg)
            case .hangUp(let id, let leg):
                await hangUp(id, leg)
            case .setMedia:
                break  // who hears whom: the media layer's (the next issue); every leg already points at us
            case .handOff(let id, let number):
                await handOff(id, to: number)
            case .notifyAgent, .agentStateChanged, .startTimer, .cancelTimer:
                break
            }
        }
    }

    private func answerCustomer(_ id: InteractionID) async {
        guard var customer = calls[id]?.customer, customer.dialog == nil else { return }
        var ok = SIPResponse(answering: customer.invite, status: 200, toTag: customer.localTag)
        ok.headers.add("Contact", contact)
        let sdp = customer.answer ?? SessionDescription(
            sessionID: Self.sessionID(), address: settings.host, port: calls[id]?.mediaPort ?? 0,
            codecs: [.pcmu, .pcma, .telephoneEvent])
        ok.body = sdp.bytes
        ok.headers.add("Content-Type", "application/sdp")
        customer.dialog = SIPDialog.server(answering: customer.invite, localTag: customer.localTag, peer: customer.peer)
        if !customer.peer.reliable { customer.unacknowledged = (ok, clock.now(), settings.timers.t1) }
        calls[id]?.customer = customer
        if let dialog = customer.dialog {
            dialogs[dialog.callID + ";" + dialog.localTag] = (id, .customer)
            await save(SavedLeg(interaction: id, leg: .customer, state: .connected, invite: nil, dialog: dialog, peer: customer.peer))
        }
        await respond(ok, to: customer.transaction)
        if !customer.peer.reliable { schedule(.answer(id), after: settings.timers.t1) }
    }

    /// A transfer to an outside number: the number's leg (already up after a consult, else a new
    /// INVITE through the gateway) stays bridged with the customer's. Without a gateway the number
    /// is simulated and the customer's leg stays until the customer hangs up.
    private func handOff(_ id: InteractionID, to number: DialNumber) async {
        guard calls[id] != nil else { return }
        calls[id]?.handedOff = true
        let leg = Leg.dialNumber(number)
        if calls[id]?.phones[leg] == nil, let gateway = settings.gateway {
            await invite(id, leg, uri: "sip:\(number.rawValue)@\(SIPPeerText.host(gateway))", to: gateway)
        }
    }

    /// After a hand-off, one side hanging up ends the other.
    private func endHandedOff(_ id: InteractionID) async {
        guard let call = calls[id], call.handedOff else { return }
        if call.customer != nil { await hangUp(id, .customer) }
        for leg in call.phones.keys { await hangUp(id, leg) }
    }

    private func ring(_ id: InteractionID, _ leg: Leg) async {
        switch leg {
        case .customer:
            return
        case .dialNumber(let number):
            guard let gateway = settings.gateway else {
                // No gateway: the number answers at once, as in the simulator.
                await lineEvent(id, .answered(leg))
                return
            }
            await invite(id, leg, uri: "sip:\(number.rawValue)@\(SIPPeerText.host(gateway))", to: gateway)
        case .agent(let agent):
            // Only an agent whose station is their phone is rung; the others answer on the desktop.
            guard let center, await center.agent(agent)?.answerMode == .phone else { return }
            guard let binding = registrar.contacts(of: agent.rawValue).last else {
                await lineEvent(id, .ringFailed(leg, .unreachable))
                return
            }
            await invite(id, leg, uri: binding.contact, to: binding.source)
        }
    }

    private func invite(_ id: InteractionID, _ leg: Leg, uri: String, to peer: SIPPeer) async {
        // A call the SIP layer does not carry yet (a simulated customer): phones still ring for it.
        if calls[id] == nil { calls[id] = Call(customer: nil, mediaPort: allocateMediaPort()) }
        guard let call = calls[id] else { return }
        let callerNumber = call.customer?.invite.from?.uri?.user ?? "switchboard"
        let request = makeInvite(uri: uri, caller: callerNumber, peer: peer, mediaPort: call.mediaPort)
        let (transaction, outputs) = layer.send(request, to: peer)
        calls[id]?.phones[leg] = PhoneLeg(transaction: transaction, invite: request, peer: peer)
        invitesSent[transaction] = (id, leg)
        await save(SavedLeg(interaction: id, leg: leg, state: .ringing, invite: request, dialog: nil, peer: peer))
        await handle(outputs)
    }

    private func hangUp(_ id: InteractionID, _ leg: Leg) async {
        guard let call = calls[id] else { return }
        switch leg {
        case .customer:
            guard let customer = call.customer else { return }
            if var dialog = customer.dialog {
                let bye = dialog.request(.bye, via: makeVia(customer.peer))
                await handle(layer.send(bye, to: customer.peer).1)
            } else {
                await respond(SIPResponse(answering: customer.invite, status: 480, toTag: customer.localTag), to: customer.transaction)
            }
            forget(id, .customer)
        case .agent, .dialNumber:
            guard let phone = call.phones[leg] else { return }
            if var dialog = phone.dialog {
                await handle(layer.send(dialog.request(.bye, via: makeVia(phone.peer)), to: phone.peer).1)
            } else {
                // Still ringing: CANCEL with the INVITE's branch (RFC 3261 §9.1).
                await handle(layer.send(Self.cancelRequest(for: phone.invite), to: phone.peer).1)
                cancelledInvites[phone.transaction] = (phone.invite, phone.peer)
            }
            forget(id, leg)
        }
    }

    /// Drops a leg; the call goes when it has none left.
    private func forget(_ id: InteractionID, _ leg: Leg) {
        guard var call = calls[id] else { return }
        if records != nil { record(LineRecord(key: SavedLeg.key(id, leg), body: nil)) }
        switch leg {
        case .customer:
            if let dialog = call.customer?.dialog { dialogs[dialog.callID + ";" + dialog.localTag] = nil }
            call.customer = nil
            deadlines.remove(.answer(id))
        case .agent, .dialNumber:
            if let phone = call.phones[leg] {
                if let dialog = phone.dialog { dialogs[dialog.callID + ";" + dialog.localTag] = nil }
                invitesSent[phone.transaction] = nil
            }
            call.phones[leg] = nil
        }
        calls[id] = call.customer == nil && call.phones.isEmpty ? nil : call
    }

    private func lineEvent(_ id: InteractionID, _ event: LineEvent) async {
        guard let center else { return }
        let logger = logger
        inOrder(id) {
            do {
                let (outcome, _) = try await center.execute(.line(id, event))
                if let rejection = outcome.rejection {
                    logger.debug("line event refused", metadata: ["task": "\(id)", "event": "\(event)", "why": "\(rejection)"])
                }
            } catch {
                logger.warning("line event failed", metadata: ["task": "\(id)", "error": "\(error)"])
            }
        }
    }

    // MARK: Restart

    /// An open leg as written down: enough to end it after a crash.
    struct SavedLeg: Codable {
        enum State: String, Codable {
            /// A customer's INVITE not yet answered: it gets a final response.
            case waiting
            /// Our INVITE to a phone or gateway, not yet answered: CANCEL.
            case ringing
            /// A dialog: BYE.
            case connected
        }

        var interaction: String
        var leg: String
        var state: State
        var invite: String?
        var dialog: SIPDialog?
        var peer: SIPPeer

        init(interaction: InteractionID, leg: Leg, state: State, invite: SIPRequest?, dialog: SIPDialog?, peer: SIPPeer) {
            self.interaction = interaction.rawValue
            self.leg = Self.name(leg)
            self.state = state
            self.invite = invite.map { String(decoding: $0.serialized(), as: UTF8.self) }
            self.dialog = dialog
            self.peer = peer
        }

        static func name(_ leg: Leg) -> String {
            switch leg {
            case .customer: "customer"
            case .agent(let agent): "agent:" + agent.rawValue
            case .dialNumber(let number): "number:" + number.rawValue
            }
        }

        static func key(_ id: InteractionID, _ leg: Leg) -> String { "sip|" + id.rawValue + "|" + name(leg) }

        /// Written by hand (JSONEncoder was 4 % of the server's CPU under load); read back with
        /// JSONDecoder, which takes the same keys.
        var json: String {
            var out = JSONText()
            out.object { json in
                if let dialog {
                    json.key("dialog")
                    json.object { json in
                        json.member("callID", dialog.callID)
                        json.member("localAddress", dialog.localAddress)
                        json.member("localCSeq", Int64(dialog.localCSeq))
                        json.member("localTag", dialog.localTag)
                        Self.write(dialog.peer, as: "peer", to: &json)
                        json.member("remoteAddress", dialog.remoteAddress)
                        json.member("remoteCSeq", dialog.remoteCSeq.map(Int64.init))
                        json.member("remoteTag", dialog.remoteTag)
                        json.member("remoteTarget", dialog.remoteTarget)
                        json.key("routeSet")
                        json.array(dialog.routeSet) { json, route in json.string(route) }
                    }
                }
                json.member("interaction", interaction)
                json.member("invite", invite)
                json.member("leg", leg)
                Self.write(peer, as: "peer", to: &json)
                json.member("state", state.rawValue)
            }
            return String(decoding: out.bytes, as: UTF8.self)
        }

        private static func write(_ peer: SIPPeer, as name: StaticString, to json: inout JSONText) {
            json.key(name)
            json.object { json in
                json.member("host", peer.host)
                json.member("port", peer.port)
                json.member("transport", peer.transport.rawValue)
            }
        }

        var parsedLeg: Leg? {
            if leg == "customer" { return .customer }
            if leg.hasPrefix("agent:") { return .agent(AgentID(String(leg.dropFirst(6)))) }
            if leg.hasPrefix("number:") { return .dialNumber(DialNumber(String(leg.dropFirst(7)))) }
            return nil
        }
    }

    private func save(_ leg: SavedLeg) async {
        guard records != nil else { return }
        record(LineRecord(key: "sip|" + leg.interaction + "|" + leg.leg, body: leg.json))
    }

    /// Changes to the written-down legs, in order, not yet handed to the store.
    private var unwrittenLines: [LineRecord] = []
    private var writingLines = false

    /// Queues a change; one writer hands everything queued to the store at a time, so changes keep
    /// their order, calls never wait on the disk, and the store commits them with the events.
    private func record(_ change: LineRecord) {
        unwrittenLines.append(change)
        guard !writingLines, let records else { return }
        writingLines = true
        Task {
            while let changes = await self.takeUnwrittenLines() {
                do {
                    try await records.writeLines(changes)
                } catch {
                    self.logger.warning("could not write down SIP legs", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    private func takeUnwrittenLines() -> [LineRecord]? {
        guard !unwrittenLines.isEmpty else {
            writingLines = false
            return nil
        }
        defer { unwrittenLines = [] }
        return unwrittenLines
    }

    /// After a crash: every leg the last run left open is ended — a BYE in its dialog, a CANCEL
    /// for a ring, a 480 for a customer not yet answered — and the center hears that the leg hung
    /// up, so no call stays stuck in it. (The calls do not carry on: their media died with the
    /// process.)
    func recover() async {
        guard let records, let saved = try? await records.lines() else { return }
        for saved in saved where saved.key.hasPrefix("sip|") {
            record(LineRecord(key: saved.key, body: nil))
            guard let body = saved.body, let leg = try? JSONDecoder().decode(SavedLeg.self, from: Data(body.utf8)),
                let which = leg.parsedLeg
            else { continue }
            let interaction = InteractionID(leg.interaction)
            let invite = leg.invite.flatMap { text -> SIPRequest? in
                guard case .request(let request) = try? SIPParser.parse(datagram: Array(text.utf8)) else { return nil }
                return request
            }
            switch leg.state {
            case .waiting:
                if let invite {
                    let response = SIPResponse(
                        answering: invite, status: 480, reason: "Temporarily Unavailable (the server restarted)", toTag: Self.makeTag())
                    send(.response(response), to: TransactionLayer.responseDestination(invite, from: leg.peer))
                }
                await lineEvent(interaction, .hungUp(which))
            case .ringing:
                if let invite { await handle(layer.send(Self.cancelRequest(for: invite), to: leg.peer).1) }
                await lineEvent(interaction, .ringFailed(which, .unreachable))
            case .connected:
                if var dialog = leg.dialog {
                    await handle(layer.send(dialog.request(.bye, via: makeVia(leg.peer)), to: leg.peer).1)
                }
                await lineEvent(interaction, .hungUp(which))
            }
            logger.info("ended a SIP leg left open by the last run", metadata: ["task": "\(interaction)", "leg": "\(leg.leg)"])
        }
    }

    // MARK: Timers

    private func schedule(_ timer: Timer, after: Duration) {
        let (seconds, attoseconds) = after.components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        deadlines.set(timer, at: clock.now().adding(milliseconds: milliseconds))
        armSleeper()
    }

    private func scheduleRegistrations() {
        guard let next = registrar.nextExpiry else {
            deadlines.remove(.registrations)
            return
        }
        let (seconds, attoseconds) = next.components
        deadlines.set(.registrations, at: Timestamp(milliseconds: seconds * 1000 + attoseconds / 1_000_000_000_000_000))
        armSleeper()
    }

    private func armSleeper() {
        guard let earliest = deadlines.earliest() else { return }
        if let sleeperDeadline, sleeperDeadline <= earliest, sleeper != nil { return }
        sleeper?.cancel()
        sleeperDeadline = earliest
        let clock = clock
        sleeper = Task {
            do { try await clock.sleep(until: earliest) } catch { return }
            await self.fireDueTimers()
        }
    }

    func fireDueTimers() async {
        sleeper = nil
        sleeperDeadline = nil
        let now = clock.now()
        for timer in deadlines.popDue(now: now) {
            switch timer {
            case .transaction(let id):
                await handle(layer.timerFired(id))
            case .answer(let id):
                await retransmitAnswer(id)
            case .registrations:
                let changes = registrar.expire(now: self.now)
                scheduleRegistrations()
                await apply(changes)
            }
        }
        armSleeper()
    }

    private func retransmitAnswer(_ id: InteractionID) async {
        guard let customer = calls[id]?.customer, let (ok, sentAt, interval) = customer.unacknowledged else { return }
        if clock.now().milliseconds - sentAt.milliseconds >= Int64((settings.timers.t1 * 64).components.seconds * 1000) {
            // No ACK in 64×T1: the session ends (RFC 3261 §13.3.1.4).
            await hangUp(id, .customer)
            await lineEvent(id, .hungUp(.customer))
            return
        }
        await respond(ok, to: customer.transaction)
        let next = min(interval * 2, settings.timers.t2)
        calls[id]?.customer?.unacknowledged?.interval = next
        schedule(.answer(id), after: next)
    }

    // MARK: Building messages

    private var contact: String { "<sip:switchboard@\(SIPPeerText.host(settings.host)):\(transport?.port ?? settings.port)>" }

    private func makeVia(_ peer: SIPPeer) -> SIPVia {
        var parameters = SIPParameters()
        parameters["branch"] = .some("z9hG4bK" + Self.makeTag())
        parameters["rport"] = .some(nil)
        return SIPVia(transport: peer.transport.rawValue, host: settings.host, port: transport?.port ?? settings.port, parameters: parameters)
    }

    private func makeInvite(uri: String, caller: String, peer: SIPPeer, mediaPort: Int) -> SIPRequest {
        var headers = SIPHeaders()
        headers.add("Via", makeVia(peer).text)
        headers.add("Max-Forwards", "70")
        let host = SIPPeerText.host(settings.host)
        headers.add("From", "<sip:\(caller)@\(host)>;tag=\(Self.makeTag())")
        headers.add("To", "<\(uri)>")
        headers.add("Call-ID", Self.makeTag() + Self.makeTag() + "@" + host)
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", contact)
        headers.add("Content-Type", "application/sdp")
        let offer = SessionDescription(
            sessionID: Self.sessionID(), address: settings.host, port: mediaPort, codecs: [.pcmu, .pcma, .telephoneEvent])
        return SIPRequest(method: .invite, requestURI: uri, headers: headers, body: offer.bytes)
    }

    static func cancelRequest(for invite: SIPRequest) -> SIPRequest {
        var headers = SIPHeaders()
        if let via = invite.headers.values("Via").first { headers.add("Via", via) }
        headers.add("Max-Forwards", "70")
        for name in ["From", "To", "Call-ID"] { headers.add(name, invite.headers[name] ?? "") }
        headers.add("CSeq", "\(invite.cseq?.number ?? 1) CANCEL")
        return SIPRequest(method: .cancel, requestURI: invite.requestURI, headers: headers)
    }

    private func mediaAnswer(for id: InteractionID, offer: [UInt8]) -> SessionDescription? {
        guard !offer.isEmpty, let parsed = try? SessionDescription(parsing: offer) else { return nil }
        return SessionDescription.answer(to: parsed, address: settings.host, port: calls[id]?.mediaPort ?? 0, sessionID: Self.sessionID())
    }

    private func allocateMediaPort() -> Int {
        let port = nextMediaPort
        nextMediaPort += 2
        if nextMediaPort > settings.rtpPorts.upperBound { nextMediaPort = settings.rtpPorts.lowerBound + settings.rtpPorts.lowerBound % 2 }
        return port
    }

    static func makeTag() -> String { String(UInt64.random(in: 1...UInt64.max), radix: 36) }
    static func sessionID() -> UInt64 { UInt64.random(in: 1...UInt64(Int64.max)) }
}

enum SIPPeerText {
    static func host(_ host: String) -> String { host.contains(":") ? "[" + host + "]" : host }
    static func host(_ peer: SIPPeer) -> String { host(peer.host) + ":\(peer.port)" }
}
