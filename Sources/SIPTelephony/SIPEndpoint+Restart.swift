import B2BUA
import CallControl
import Center
import Foundation
import Media
import MediaService
import SIP
import Store

/// Open legs written down beside the log: after a crash, a leg of a call the center still holds
/// carries on (its dialog, its media port), and any other is ended.
extension SIPEndpoint {
    // MARK: Restart

    /// An open leg as written down: enough to carry it on, or to end it, after a crash.
    struct SavedLeg: Codable {
        typealias State = LegRecord.State

        var interaction: String
        var leg: String
        var state: State
        var invite: String?
        var dialog: SIPDialog?
        var peer: SIPPeer
        /// The leg's RTP port on the server, and what its SDP said.
        var mediaPort: Int?
        var media: DescribedMedia?
        /// Handed to an outside number: the customer and the number stay bridged without the center.
        var handedOff: Bool?
        /// SRTP: its keys are not written down (they stay in memory), so after a crash the leg is ended.
        var encrypted: Bool?
        /// The SIP address (`host:port`) of the node that wrote it: another node's legs are moved
        /// here (a re-INVITE), this node's own carried on as they are. Absent in older records: ours.
        var anchor: String?
        /// Our last SDP's origin in the dialog (`SDPOrigin`).
        var origin: SDPOrigin?

        init(
            interaction: InteractionID, leg: Leg, state: State, invite: SIPRequest?, dialog: SIPDialog?, peer: SIPPeer,
            mediaPort: Int? = nil, media: DescribedMedia? = nil, handedOff: Bool = false, anchor: String? = nil, origin: SDPOrigin? = nil
        ) {
            self.interaction = interaction.rawValue
            self.leg = Self.name(leg)
            self.state = state
            self.invite = invite.map { String(decoding: $0.serialized(), as: UTF8.self) }
            self.dialog = dialog
            self.peer = peer
            self.mediaPort = mediaPort
            self.media = media
            self.handedOff = handedOff ? true : nil
            encrypted = media?.keys != nil ? true : nil
            self.anchor = anchor
            self.origin = origin
        }

        static func name(_ leg: Leg) -> String {
            switch leg {
            case .customer: "customer"
            case .agent(let agent): "agent:" + agent.rawValue
            case .dialNumber(let number): "number:" + number.rawValue
            case .supervisor(let supervisor): "supervisor:" + supervisor.rawValue
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
                if let anchor { json.member("anchor", anchor) }
                if encrypted == true { json.member("encrypted", true) }
                if handedOff == true { json.member("handedOff", true) }
                json.member("interaction", interaction)
                json.member("invite", invite)
                json.member("leg", leg)
                if let media {
                    json.key("media")
                    json.object { json in
                        json.member("law", media.law.rawValue)
                        json.member("eventPayloadType", media.eventPayloadType.map(Int64.init))
                        json.member("host", media.host)
                        json.member("port", media.port)
                    }
                }
                if let mediaPort { json.member("mediaPort", mediaPort) }
                if let origin {
                    json.key("origin")
                    json.object { json in
                        json.member("sessionID", Int64(clamping: origin.sessionID))
                        json.member("version", Int64(clamping: origin.version))
                    }
                }
                Self.write(peer, as: "peer", to: &json)
                json.member("state", state.rawValue)
            }
            return String(decoding: out.bytes, as: UTF8.self)
        }

        static func write(_ peer: SIPPeer, as name: StaticString, to json: inout JSONText) {
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
            if leg.hasPrefix("supervisor:") { return .supervisor(SupervisorID(String(leg.dropFirst(11)))) }
            return nil
        }

        var parsedInvite: SIPRequest? {
            guard let invite, case .request(let request) = try? SIPParser.parse(datagram: Array(invite.utf8)) else { return nil }
            return request
        }
    }

    /// Writes the leg down as its machine says (its state, dialog, media, and whether the call was
    /// handed off), or forgets it.
    func writeDown(_ id: LegID, _ record: LegRecord?) {
        guard records != nil else { return }
        let body = record.map { record in
            SavedLeg(
                interaction: id.call, leg: id.leg, state: record.state, invite: record.invite, dialog: record.dialog, peer: record.peer,
                mediaPort: record.mediaPort, media: record.media, handedOff: handedOff.contains(id.call), anchor: anchor,
                origin: record.origin
            ).json
        }
        self.record(LineRecord(key: SavedLeg.key(id.call, id.leg), body: body))
    }

    /// Queues a change; one writer hands everything queued to the store at a time, so changes keep
    /// their order, calls never wait on the disk, and the store commits them with the events.
    func record(_ change: LineRecord) {
        guard let records, unwrittenLines.add(change) else { return }
        let queue = unwrittenLines, logger = logger
        Task {
            while case let changes = queue.next(), !changes.isEmpty {
                do {
                    try await records.writeLines(changes)
                } catch {
                    logger.warning("could not write down SIP legs", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// This node's SIP address as the legs it writes down name it.
    var anchor: String { legContext.host + ":" + String(legContext.port) }

    /// After a crash, or on taking over from another node. A connected leg of a call the center
    /// still holds (or of a customer handed to an outside number) carries on: its dialog is known
    /// again and it hears what the center's plan says now. A leg of this node's own gets its RTP
    /// port bound again (its phone still sends there); a leg another node wrote down gets a port
    /// here and a re-INVITE that moves the phone's media to it (`Reanchoring`). Every other leg
    /// the last run left open is ended — a BYE in its dialog, a CANCEL for a ring, a 480 for a
    /// customer not yet answered — and the center hears that it hung up, so no call stays stuck.
    func recover() async {
        guard let records, let stored = try? await records.lines() else { return }
        var saved: [(SavedLeg, Leg)] = []
        for record in stored where record.key.hasPrefix("sip|") {
            guard let body = record.body, let leg = try? JSONDecoder().decode(SavedLeg.self, from: Data(body.utf8)),
                let which = leg.parsedLeg
            else {
                self.record(LineRecord(key: record.key, body: nil))
                continue
            }
            saved.append((leg, which))
        }
        let live = await center?.lines(of: Set(saved.map { InteractionID($0.0.interaction) })) ?? [:]
        var carriedOn = Set<InteractionID>()
        for (leg, which) in saved {
            let interaction = InteractionID(leg.interaction)
            if leg.state == .connected, leg.handedOff == true || live[interaction]?.legs.contains(which) == true,
                await (leg.anchor ?? anchor) == anchor ? carryOn(leg, which) : moveHere(leg, which)
            {
                carriedOn.insert(interaction)
            } else {
                await end(leg, which)
            }
        }
        // What each call's parties hear now (the center's plan; a hand-off's two legs, each other);
        // any change the center makes later comes after, in order.
        for interaction in carriedOn {
            let bridged = legs(of: interaction).map(\.leg)
            media.apply(interaction, live[interaction]?.plan ?? MediaPlan(conversation: bridged))
        }
        await recoverBrowsers(stored)
        await recoverRegistrations(stored)
    }

    // MARK: Registrations

    /// Each user's bindings written down beside the legs (`reg|USER`, a JSON array; removed when
    /// none is left), so a restart or the node taking over reaches the phones at once instead of
    /// after each phone's next REGISTER. Only the users whose bindings changed are written.
    func writeDownRegistrations() {
        guard records != nil else { return }
        let current = registrar.bindings
        for (user, bindings) in current where writtenRegistrations[user] != bindings {
            let body = (try? JSONEncoder().encode(bindings)).map { String(decoding: $0, as: UTF8.self) }
            record(LineRecord(key: "reg|" + user, body: body))
        }
        for user in writtenRegistrations.keys where current[user] == nil {
            record(LineRecord(key: "reg|" + user, body: nil))
        }
        writtenRegistrations = current
    }

    /// The bindings the last run (this node's or another's) wrote down, those not yet expired.
    func recoverRegistrations(_ stored: [LineRecord]) async {
        var changes: [Registrar.Change] = []
        for record in stored where record.key.hasPrefix("reg|") {
            let user = String(record.key.dropFirst(4))
            guard let body = record.body, let bindings = try? JSONDecoder().decode([Registrar.Binding].self, from: Data(body.utf8)) else { continue }
            changes += registrar.restore(user: user, bindings, now: now)
            if let kept = registrar.bindings[user] {
                writtenRegistrations[user] = kept == bindings ? kept : nil
            } else {
                self.record(LineRecord(key: record.key, body: nil))  // every binding expired meanwhile
            }
        }
        guard !changes.isEmpty else { return }
        logger.info("phones' registrations read back", metadata: ["users": "\(changes.count)"])
        registrationsChanged()
    }

    /// Takes over a connected leg another node wrote down: a media port of this node's, the leg
    /// restored with it, and a re-INVITE offering it (its answer, or its failure, comes to the
    /// leg's machine). False when it cannot be (nothing to re-INVITE with, no free port).
    func moveHere(_ leg: SavedLeg, _ which: Leg) async -> Bool {
        let key = MediaEngine.LegKey(InteractionID(leg.interaction), which)
        guard leg.dialog != nil, leg.parsedInvite != nil, leg.encrypted != true, let port = try? await media.open(key) else { return false }
        guard await carryOn(leg, which, port: port) else { return false }
        logger.info("a SIP leg moves here from another node", metadata: ["task": "\(leg.interaction)", "leg": "\(leg.leg)", "from": "\(leg.anchor ?? "")", "port": "\(port)"])
        await drive(LegID(key.call, which)) { $0.reanchor() }
        return true
    }

    /// Restores a connected leg: its call, its dialog, its media port and what its SDP said.
    /// False when it cannot be (no dialog or port written down, the port is taken now). `port`:
    /// one opened here already (a leg moved from another node), else the written-down one is bound again.
    func carryOn(_ leg: SavedLeg, _ which: Leg, port opened: Int? = nil) async -> Bool {
        let interaction = InteractionID(leg.interaction)
        guard let dialog = leg.dialog, let port = opened ?? leg.mediaPort, let invite = leg.parsedInvite, leg.encrypted != true else {
            return false
        }
        if opened == nil {
            do {
                try await media.reopen(MediaEngine.LegKey(interaction, which), port: port)
            } catch {
                logger.warning("a SIP leg's media port could not be bound again: the leg is ended",
                               metadata: ["task": "\(interaction)", "leg": "\(leg.leg)", "port": "\(port)"])
                return false
            }
        }
        if let described = leg.media {
            media.describe(
                MediaEngine.LegKey(interaction, which), remote: (described.host, described.port), law: described.law,
                eventPayloadType: described.eventPayloadType)
        }
        if leg.handedOff == true { handedOff.insert(interaction) }
        let id = LegID(interaction, which)
        switch which {
        case .customer:
            guard let machine = CustomerLeg.carriedOn(
                invite: invite, dialog: dialog, port: port, media: leg.media, origin: leg.origin, context: legContext, ids: Self.identifiers())
            else {
                media.close(id.key)
                return false
            }
            add(id, .customer(machine))
        case .agent, .dialNumber, .supervisor:
            add(id, .outbound(OutboundLeg.carriedOn(
                which, invite: invite, dialog: dialog, port: port, media: leg.media, origin: leg.origin, context: legContext,
                ids: Self.identifiers())))
        }
        dialogs[dialog.callID + ";" + dialog.localTag] = id
        routes[id, default: LegRoutes()].dialog = dialog.callID + ";" + dialog.localTag
        logger.info("a SIP leg carries on after a restart", metadata: ["task": "\(interaction)", "leg": "\(leg.leg)", "port": "\(port)"])
        return true
    }

    /// Ends a leg the last run left open, and tells the center it is gone.
    func end(_ leg: SavedLeg, _ which: Leg) async {
        let interaction = InteractionID(leg.interaction)
        record(LineRecord(key: SavedLeg.key(interaction, which), body: nil))
        let invite = leg.parsedInvite
        switch leg.state {
        case .waiting:
            if let invite {
                let response = SIPResponse(
                    answering: invite, status: 480, reason: "Temporarily Unavailable (the server restarted)", toTag: Self.makeTag())
                send(.response(response), to: TransactionLayer.responseDestination(invite, from: leg.peer))
            }
            await lineEvent(interaction, .hungUp(which))
        case .ringing:
            if let invite { await handle(layer.send(OutboundLeg.cancel(invite), to: leg.peer).1) }
            await lineEvent(interaction, .ringFailed(which, .unreachable))
        case .connected:
            if var dialog = leg.dialog {
                await handle(layer.send(dialog.request(.bye, via: legContext.via(for: leg.peer, branch: Self.makeTag())), to: leg.peer).1)
            }
            await lineEvent(interaction, .hungUp(which))
        }
        logger.info("ended a SIP leg left open by the last run", metadata: ["task": "\(interaction)", "leg": "\(leg.leg)"])
    }
}
