import CallControl
import Center
import Foundation
import SIP
import Store

/// Open legs written down beside the log, and ended after a crash.
extension SIPEndpoint {
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
            return nil
        }
    }

    func save(_ leg: SavedLeg) async {
        guard records != nil else { return }
        record(LineRecord(key: "sip|" + leg.interaction + "|" + leg.leg, body: leg.json))
    }


    /// Queues a change; one writer hands everything queued to the store at a time, so changes keep
    /// their order, calls never wait on the disk, and the store commits them with the events.
    func record(_ change: LineRecord) {
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

    func takeUnwrittenLines() -> [LineRecord]? {
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
}
