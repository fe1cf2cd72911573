import CallControl
import Center
import Foundation
import Media
import MediaService
import SIP
import Store

/// The center's line actions carried out over SIP, and the messages the B2BUA builds for them.
extension SIPEndpoint {
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
            case .setMedia(let id, let plan):
                media.apply(id, plan)
            case .handOff(let id, let number):
                await handOff(id, to: number)
            case .notifyAgent, .agentStateChanged, .startTimer, .cancelTimer:
                break
            }
        }
    }

    func answerCustomer(_ id: InteractionID) async {
        guard var customer = calls[id]?.customer, customer.dialog == nil else { return }
        var ok = SIPResponse(answering: customer.invite, status: 200, toTag: customer.localTag)
        ok.headers.add("Contact", contact(for: customer.peer, secure: customer.invite.requestURI.lowercased().hasPrefix("sips:")))
        let sdp = customer.answer ?? SessionDescription(
            sessionID: Self.sessionID(), address: settings.host, port: customer.mediaPort,
            codecs: [.pcmu, .pcma, .telephoneEvent])
        ok.body = sdp.bytes
        ok.headers.add("Content-Type", "application/sdp")
        customer.dialog = SIPDialog.server(answering: customer.invite, localTag: customer.localTag, peer: customer.peer)
        if !customer.peer.reliable { customer.unacknowledged = (ok, clock.now(), settings.timers.t1) }
        calls[id]?.customer = customer
        if let dialog = customer.dialog {
            dialogs[dialog.callID + ";" + dialog.localTag] = (id, .customer)
            saveConnected(id, .customer)
        }
        await respond(ok, to: customer.transaction)
        if !customer.peer.reliable { schedule(.answer(id), after: settings.timers.t1) }
    }

    /// A transfer to an outside number: the number's leg (already up after a consult, else a new
    /// INVITE through the gateway) stays bridged with the customer's. Without a gateway the number
    /// is simulated and the customer's leg stays until the customer hangs up.
    func handOff(_ id: InteractionID, to number: DialNumber) async {
        guard calls[id] != nil else { return }
        calls[id]?.handedOff = true
        for leg in calls[id].map({ [Leg.customer] + $0.phones.keys }) ?? [] { saveConnected(id, leg) }
        let leg = Leg.dialNumber(number)
        if calls[id]?.phones[leg] == nil, let gateway = settings.gateway {
            await invite(id, leg, uri: "sip:\(number.rawValue)@\(SIPPeerText.host(gateway))", to: gateway)
        }
        // The center is done with the call: the customer and the number hear each other.
        media.apply(id, MediaPlan(conversation: [.customer, leg]))
    }

    /// After a hand-off, one side hanging up ends the other.
    func endHandedOff(_ id: InteractionID) async {
        guard let call = calls[id], call.handedOff else { return }
        if call.customer != nil { await hangUp(id, .customer) }
        for leg in call.phones.keys { await hangUp(id, leg) }
    }

    func ring(_ id: InteractionID, _ leg: Leg) async {
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

    func invite(_ id: InteractionID, _ leg: Leg, uri: String, to peer: SIPPeer) async {
        // A call the SIP layer does not carry yet (a simulated customer): phones still ring for it.
        guard let port = try? await media.open(MediaEngine.LegKey(id, leg)) else {
            logger.warning("no free media port: the ring fails", metadata: ["task": "\(id)", "leg": "\(leg)"])
            return await lineEvent(id, .ringFailed(leg, .unreachable))
        }
        if calls[id] == nil { calls[id] = Call(customer: nil) }
        guard let call = calls[id] else { return }
        let callerNumber = call.customer?.invite.from?.uri?.user ?? "switchboard"
        let request = makeInvite(uri: uri, caller: callerNumber, peer: peer, mediaPort: port)
        let (transaction, outputs) = layer.send(request, to: peer)
        calls[id]?.phones[leg] = PhoneLeg(transaction: transaction, mediaPort: port, invite: request, peer: peer)
        invitesSent[transaction] = (id, leg)
        await save(SavedLeg(interaction: id, leg: leg, state: .ringing, invite: request, dialog: nil, peer: peer))
        await handle(outputs)
    }

    func hangUp(_ id: InteractionID, _ leg: Leg) async {
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
    func forget(_ id: InteractionID, _ leg: Leg) {
        media.close(MediaEngine.LegKey(id, leg))  // it receives nothing and sends nowhere from now on
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


    // MARK: Building messages

    /// Where a peer reaches us in a dialog (RFC 3261 §8.1.1.8): over TLS, our TLS port — `sips:`
    /// when the dialog's request was to a `sips:` URI (RFC 5630 §3.1.3), else `;transport=tls`.
    func contact(for peer: SIPPeer, secure: Bool = false) -> String {
        let host = SIPPeerText.host(settings.host)
        switch peer.transport {
        case .udp, .tcp:
            return "<sip:switchboard@\(host):\(transport?.port ?? settings.port)>"
        case .tls:
            let port = transport?.tlsPort ?? settings.tls?.port ?? 5061
            return secure ? "<sips:switchboard@\(host):\(port)>" : "<sip:switchboard@\(host):\(port);transport=tls>"
        }
    }

    func makeVia(_ peer: SIPPeer) -> SIPVia {
        var parameters = SIPParameters()
        parameters["branch"] = .some("z9hG4bK" + Self.makeTag())
        parameters["rport"] = .some(nil)
        let port = peer.transport == .tls ? (transport?.tlsPort ?? settings.port) : (transport?.port ?? settings.port)
        return SIPVia(transport: peer.transport.rawValue, host: settings.host, port: port, parameters: parameters)
    }

    func makeInvite(uri: String, caller: String, peer: SIPPeer, mediaPort: Int) -> SIPRequest {
        var headers = SIPHeaders()
        headers.add("Via", makeVia(peer).text)
        headers.add("Max-Forwards", "70")
        let host = SIPPeerText.host(settings.host)
        headers.add("From", "<sip:\(caller)@\(host)>;tag=\(Self.makeTag())")
        headers.add("To", "<\(uri)>")
        headers.add("Call-ID", Self.makeTag() + Self.makeTag() + "@" + host)
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", contact(for: peer, secure: uri.lowercased().hasPrefix("sips:")))
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

    /// The answer to a new offer in a dialog (re-INVITE, UPDATE): the leg's own port again, and
    /// the media engine told where the leg now receives.
    func mediaAnswer(for id: InteractionID, _ leg: Leg, offer: [UInt8]) -> SessionDescription? {
        guard !offer.isEmpty, let parsed = try? SessionDescription(parsing: offer) else { return nil }
        let port = leg == .customer ? calls[id]?.customer?.mediaPort : calls[id]?.phones[leg]?.mediaPort
        guard let port, let answer = SessionDescription.answer(to: parsed, address: settings.host, port: port, sessionID: Self.sessionID())
        else { return nil }
        describeMedia(id, leg, remote: parsed, agreed: answer)
        saveConnected(id, leg)
        return answer
    }

    /// Tells the media engine where the leg receives (the remote SDP) and what was agreed: the
    /// first audio codec of the answer, and the leg's own `telephone-event` payload type.
    func describeMedia(_ id: InteractionID, _ leg: Leg, remote: SessionDescription, agreed: SessionDescription) {
        guard let law = agreed.codecs.lazy.compactMap({ G711.Law(rawValue: $0.name) }).first else { return }
        let event = remote.codecs.first { $0.name == "telephone-event" }.map { UInt8(truncatingIfNeeded: $0.payloadType) }
        media.describe(MediaEngine.LegKey(id, leg), remote: (remote.address, remote.port), law: law, eventPayloadType: event)
        // Kept with the leg (and written down with it once connected), so a restart can carry its media on.
        let described = DescribedMedia(host: remote.address, port: remote.port, law: law, eventPayloadType: event)
        switch leg {
        case .customer: calls[id]?.customer?.described = described
        case .agent, .dialNumber: calls[id]?.phones[leg]?.described = described
        }
    }

    static func makeTag() -> String { String(UInt64.random(in: 1...UInt64.max), radix: 36) }
    static func sessionID() -> UInt64 { UInt64.random(in: 1...UInt64(Int64.max)) }
}
