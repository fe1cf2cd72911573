import B2BUA
import CallControl
import Center
import Foundation
import Media
import MediaService
import SIP
import Store

/// Which leg of which call.
struct LegID: Hashable, Sendable {
    var call: InteractionID
    var leg: Leg
    init(_ call: InteractionID, _ leg: Leg) { (self.call, self.leg) = (call, leg) }
    var key: MediaEngine.LegKey { MediaEngine.LegKey(call, leg) }
}

/// The legs' machines fed with what happens, and their actions performed: the center's line
/// actions, SIP for a leg, media ports, timers.
extension SIPEndpoint {
    var legContext: LegContext {
        LegContext(
            host: settings.host, port: transport?.port ?? settings.port, tlsPort: transport?.tlsPort, timers: settings.timers,
            streamTimers: settings.streamTimers)
    }

    /// A fresh prefix for a leg's tags and branches.
    static func identifiers() -> LegIdentifiers { LegIdentifiers(prefix: makeTag()) }

    static func makeTag() -> String { String(UInt64.random(in: 1...UInt64.max), radix: 36) }

    static func dialogKey(_ request: SIPRequest) -> String { (request.callID ?? "") + ";" + (request.to?.tag ?? "") }

    // MARK: Feeding a leg

    /// Runs `event` on the leg's machine and performs what it returns.
    func drive(_ id: LegID, _ event: (inout LegEvents) -> [LegAction]) async {
        guard let machine = legs[id] else { return }
        var events = LegEvents(machine)
        let actions = event(&events)
        legs[id] = events.machine
        await perform(actions, for: id)
    }

    /// A request in a dialog, for its leg (481 when no leg has that dialog).
    func toLeg(_ request: SIPRequest, _ transaction: ServerTransactionID, _ event: @escaping (inout LegEvents) -> [LegAction]) async {
        guard let id = dialogs[Self.dialogKey(request)], legs[id] != nil else {
            return await respond(SIPResponse(answering: request, status: 481), to: transaction)
        }
        await drive(id, event)
    }

    func acknowledged(_ ack: SIPRequest) async {
        guard let id = dialogs[Self.dialogKey(ack)] else { return }
        await drive(id) { $0.acknowledged(ack) }
    }

    func received(_ response: SIPResponse, for transaction: ClientTransactionID) async {
        guard transaction.method == .invite, let id = clientTransactions[transaction] else { return }
        await drive(id) { $0.response(response) }
    }

    /// A client transaction timed out, or its request could not be sent (RFC 3261 §17.1.4).
    func transactionFailed(_ transaction: ClientTransactionID) async {
        guard let id = clientTransactions.removeValue(forKey: transaction) else { return }
        routes[id]?.transactions.remove(transaction)
        await drive(id) { $0.transactionFailed(transaction.method) }
    }

    // MARK: Performing

    func perform(_ actions: [LegAction], for id: LegID) async {
        for action in actions {
            switch action {
            case .openMediaPort:
                // Awaited here; whatever came for the leg meanwhile was handled by its machine, which
                // now hears how the opening went (and gives the port back if it is over by then).
                let port = try? await media.open(id.key)
                if legs[id] == nil {
                    if port != nil { media.close(id.key) }
                } else {
                    await drive(id) { leg in
                        if let port { leg.mediaPortOpened(port) } else { leg.mediaPortRefused() }
                    }
                }
            case .closeMediaPort:
                media.close(id.key)
            case .describeMedia(let described):
                media.describe(id.key, remote: (described.host, described.port), law: described.law,
                               eventPayloadType: described.eventPayloadType, keys: described.keys.flatMap(SRTPKeys.init))
            case .respond(let response, let transaction):
                await respond(response, to: transaction)
            case .send(let request, let peer):
                let (transaction, outputs) = layer.send(request, to: peer)
                clientTransactions[transaction] = id
                routes[id, default: LegRoutes()].transactions.insert(transaction)
                await handle(outputs)
            case .sendACK(let ack, let peer):
                send(.request(ack), to: peer)
            case .arrive(let caller):
                arrive(id, caller)
            case .line(let event):
                if handedOff.contains(id.call) {
                    await handedOffLegChanged(id, event)
                } else {
                    await lineEvent(id.call, event)
                }
            case .armTimer(let timer, let after):
                schedule(.leg(id, timer), after: after)
            case .cancelTimer(let timer):
                unschedule(.leg(id, timer))
            case .routeDialog(let callID, let localTag):
                dialogs[callID + ";" + localTag] = id
                routes[id, default: LegRoutes()].dialog = callID + ";" + localTag
            case .writeDown(let record):
                writeDown(id, record)
            case .ended:
                forget(id)
            }
        }
    }

    /// A new leg of a call.
    func add(_ id: LegID, _ machine: LegMachine) {
        legs[id] = machine
        legsOfCall[id.call, default: []].insert(id.leg)
    }

    /// The call's other legs.
    func legs(of call: InteractionID, except leg: Leg? = nil) -> [LegID] {
        (legsOfCall[call] ?? []).filter { $0 != leg }.map { LegID(call, $0) }
    }

    /// The leg is over: nothing routes to it any more.
    func forget(_ id: LegID) {
        guard legs.removeValue(forKey: id) != nil else { return }
        if let routes = routes.removeValue(forKey: id) {
            if let dialog = routes.dialog { dialogs[dialog] = nil }
            for transaction in routes.transactions { clientTransactions[transaction] = nil }
            if let invite = routes.invite { customerInvites[invite] = nil }
        }
        unschedule(.leg(id, .answerRetransmit))
        legsOfCall[id.call]?.remove(id.leg)
        if legsOfCall[id.call]?.isEmpty ?? true {
            legsOfCall[id.call] = nil
            handedOff.remove(id.call)
            queues[id.call] = nil
        }
    }

    /// Tells the center a customer's call reached its queue; a refusal goes back to the leg.
    func arrive(_ id: LegID, _ caller: Caller) {
        guard let center, let queue = queues[id.call] else { return }
        inOrder(id.call) {
            let refusal: (Int, String?)?
            do {
                let (outcome, _) = try await center.execute(.arrival(id.call, queue: queue, from: caller))
                refusal = outcome.rejection.map { (480, "Temporarily Unavailable (\($0))") }
            } catch {
                refusal = (503, nil)
            }
            if let (status, reason) = refusal { await self.drive(id) { $0.arrivalRefused(status: status, reason: reason) } }
        }
    }

    func lineEvent(_ id: InteractionID, _ event: LineEvent) async {
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

    /// After a hand-off the center is done with the call: one side hanging up (or the number never
    /// answering) ends the other.
    func handedOffLegChanged(_ id: LegID, _ event: LineEvent) async {
        switch event {
        case .answered, .transferRequested:
            return
        case .hungUp, .ringFailed:
            for other in legs(of: id.call, except: id.leg) {
                await drive(other) { $0.hangUp() }
            }
        }
    }

    // MARK: The center's line actions

    func perform(_ actions: [Action]) async {
        for action in actions {
            switch action {
            case .answerCustomer(let id):
                let now = clock.now()
                await drive(LegID(id, .customer)) { $0.answer(now: now) }
            case .ring(let id, let leg, let station):
                await ring(LegID(id, leg), station)
            case .hangUp(let id, let leg):
                await drive(LegID(id, leg)) { $0.hangUp() }
                await hangUpBrowserLeg(LegID(id, leg))
            case .setMedia(let id, let plan):
                media.apply(id, plan)
            case .handOff(let id, let number):
                await handOff(id, to: number)
            case .notifyAgent, .agentStateChanged, .startTimer, .cancelTimer:
                break
            }
        }
    }

    /// Rings a leg where its station is: an agent's phone where it registered, an outside number
    /// through the gateway (without one, it answers at once, as in the simulator). An agent whose
    /// station is the desktop answers with Accept: nothing rings.
    func ring(_ id: LegID, _ station: Station) async {
        let target: OutboundLeg.Target
        switch (id.leg, station) {
        case (.customer, _), (_, .desktop):
            return
        case (.agent(let agent), .browser):
            return await ringBrowser(id, agent: agent)
        case (.supervisor(let supervisor), .browser):
            // The supervisor asked to listen from the page: no Accept, on at once.
            let user = AgentID(supervisor.rawValue)
            await ringBrowser(id, agent: user)
            if browser.agentLegs[user] == id { await lineEvent(id.call, .answered(id.leg)) }
            return
        case (.agent(let agent), _):
            guard let found = phoneTarget(agent.rawValue, for: id) else { return await lineEvent(id.call, .ringFailed(id.leg, .unreachable)) }
            target = found
        case (.supervisor(let supervisor), _):
            // A supervisor's phone registers like an agent's (their SIP account is in the configuration).
            guard let found = phoneTarget(supervisor.rawValue, for: id) else { return await lineEvent(id.call, .ringFailed(id.leg, .unreachable)) }
            target = found
        case (.dialNumber(let number), _):
            guard let gateway = settings.gateway else { return await lineEvent(id.call, .answered(id.leg)) }
            target = .init(
                uri: "sip:\(number.rawValue)@\(SIPPeerText.host(gateway))", peer: gateway, caller: caller(of: id.call), srtp: settings.srtp,
                mediaKey: .random())
        }
        guard legs[id] == nil else { return }
        let (machine, actions) = OutboundLeg.ring(id.leg, target, context: legContext, ids: Self.identifiers())
        add(id, .outbound(machine))
        await perform(actions, for: id)
    }

    /// Where a user's phone is, as its registration says.
    private func phoneTarget(_ user: String, for id: LegID) -> OutboundLeg.Target? {
        guard let binding = registrar.contacts(of: user).last else { return nil }
        return .init(uri: binding.contact, peer: binding.source, caller: caller(of: id.call), srtp: settings.srtp, mediaKey: .random())
    }

    /// Who the call is from, as the customer's leg heard it (a simulated call has no leg: unknown).
    func caller(of call: InteractionID) -> Caller {
        if case .customer(let leg) = legs[LegID(call, .customer)] { return leg.caller ?? Caller() }
        return Caller()
    }

    /// A transfer to an outside number: the number's leg (already up after a consult, else a new
    /// INVITE through the gateway) stays bridged with the customer's. Without a gateway the number
    /// is simulated and the customer's leg stays until the customer hangs up.
    func handOff(_ id: InteractionID, to number: DialNumber) async {
        guard legsOfCall[id] != nil else { return }
        handedOff.insert(id)
        // Written down again as handed off, so a restart keeps the bridge without the center.
        for leg in legs(of: id) {
            if let record = LegEvents(legs[leg]!).record { writeDown(leg, record) }
        }
        let numberLeg = LegID(id, .dialNumber(number))
        if legs[numberLeg] == nil, let gateway = settings.gateway {
            let target = OutboundLeg.Target(
                uri: "sip:\(number.rawValue)@\(SIPPeerText.host(gateway))", peer: gateway, caller: caller(of: id), srtp: settings.srtp,
                mediaKey: .random())
            let (machine, actions) = OutboundLeg.ring(numberLeg.leg, target, context: legContext, ids: Self.identifiers())
            add(numberLeg, .outbound(machine))
            await perform(actions, for: numberLeg)
        }
        // The center is done with the call: the customer and the number hear each other.
        media.apply(id, MediaPlan(conversation: [.customer, numberLeg.leg]))
    }
}

/// One leg's machine, whichever kind, fed with an event: the kinds share the events that make
/// sense for both, and the others do nothing for the kind they do not fit.
struct LegEvents {
    var machine: SIPEndpoint.LegMachine
    init(_ machine: SIPEndpoint.LegMachine) { self.machine = machine }

    private mutating func run(
        customer: (inout CustomerLeg) -> [LegAction], outbound: (inout OutboundLeg) -> [LegAction]
    ) -> [LegAction] {
        switch machine {
        case .customer(var leg):
            let actions = customer(&leg)
            machine = .customer(leg)
            return actions
        case .outbound(var leg):
            let actions = outbound(&leg)
            machine = .outbound(leg)
            return actions
        }
    }

    mutating func mediaPortOpened(_ port: Int) -> [LegAction] { run(customer: { $0.mediaPortOpened(port) }, outbound: { $0.mediaPortOpened(port) }) }
    mutating func mediaPortRefused() -> [LegAction] { run(customer: { $0.mediaPortRefused() }, outbound: { $0.mediaPortRefused() }) }
    mutating func hangUp() -> [LegAction] { run(customer: { $0.hangUp() }, outbound: { $0.hangUp() }) }
    mutating func bye(_ request: SIPRequest, _ id: ServerTransactionID) -> [LegAction] {
        run(customer: { $0.bye(request, id) }, outbound: { $0.bye(request, id) })
    }
    mutating func reoffer(_ request: SIPRequest, _ id: ServerTransactionID) -> [LegAction] {
        run(customer: { $0.reoffer(request, id) }, outbound: { $0.reoffer(request, id) })
    }
    mutating func acknowledged(_ ack: SIPRequest) -> [LegAction] { run(customer: { $0.acknowledged(ack) }, outbound: { _ in [] }) }
    mutating func answer(now: Timestamp) -> [LegAction] { run(customer: { $0.answer(now: now) }, outbound: { _ in [] }) }
    mutating func arrivalRefused(status: Int, reason: String?) -> [LegAction] {
        run(customer: { $0.arrivalRefused(status: status, reason: reason) }, outbound: { _ in [] })
    }
    mutating func timerFired(_ timer: LegTimer, now: Timestamp) -> [LegAction] {
        run(customer: { $0.timerFired(timer, now: now) }, outbound: { _ in [] })
    }
    mutating func response(_ response: SIPResponse) -> [LegAction] {
        run(customer: { $0.response(response) }, outbound: { $0.response(response) })
    }
    mutating func transactionFailed(_ method: SIPMethod) -> [LegAction] {
        run(customer: { $0.transactionFailed(method) }, outbound: { $0.transactionFailed(method) })
    }
    mutating func reanchor() -> [LegAction] { run(customer: { $0.reanchor() }, outbound: { $0.reanchor() }) }

    var dialog: SIPDialog? {
        switch machine {
        case .customer(let leg): leg.dialog
        case .outbound(let leg): leg.dialog
        }
    }

    var record: LegRecord? {
        switch machine {
        case .customer(let leg): leg.record
        case .outbound(let leg): leg.record
        }
    }
}
