import Media
import CallControl
import SIP

/// A leg the B2BUA calls: an agent's phone (where it registered) or an outside number (through the
/// gateway), for an offer, a consult or a hand-off.
///
/// ```
///  ring ──▶ openingPort ──port──▶ calling ──2xx: ACK──▶ connected ──BYE in, or hangUp: BYE out──▶ ended
///              │ no port             │ 3xx–6xx, timeout, transport error: ringFailed ──────────────▶ ended
///              │ hangUp              │ hangUp: CANCEL (once a 1xx has come, RFC 3261 §9.1)
///              ▼                     ▼
///            ended               cancelling ──2xx (crossed the CANCEL): ACK, then BYE──▶ ended
///                                    └──────── 487 or any other final, timeout ──────────▶ ended
/// ```
///
/// Only the states that own data carry it: the INVITE while it is out, the dialog once answered.
public struct OutboundLeg: Sendable {
    /// Whom to call, and as whom.
    public struct Target: Sendable, Equatable {
        /// The Request-URI: the phone's registered Contact, or `sip:NUMBER@gateway`.
        public var uri: String
        /// Where the INVITE goes: the phone's registration source, or the gateway.
        public var peer: SIPPeer
        /// Who is calling, as the phone's display should show it.
        public var caller: Caller
        /// SRTP: the policy, and our key for this leg (used only when its signalling is TLS).
        public var srtp: SRTPPolicy
        public var mediaKey: SRTPKey

        public init(uri: String, peer: SIPPeer, caller: Caller, srtp: SRTPPolicy = .optional, mediaKey: SRTPKey) {
            (self.uri, self.peer, self.caller, self.srtp, self.mediaKey) = (uri, peer, caller, srtp, mediaKey)
        }
    }

    public struct Invitation: Sendable, Equatable {
        public var request: SIPRequest
        public var peer: SIPPeer
        public var port: Int
        /// Our offer, and the key in it.
        public var offer: SessionDescription?
        public var mediaKey: SRTPKey?
    }

    public struct Session: Sendable, Equatable {
        public var invitation: Invitation
        public var dialog: SIPDialog
        public var media: DescribedMedia?
        /// The ACK of the 2xx, sent again for every retransmission of it (RFC 3261 §13.2.2.4).
        public var ack: SIPRequest
        /// Taken over from another node: our re-INVITE moving the media here.
        public var reanchoring: Reanchoring? = nil
        /// Our last SDP's origin (nil only in a leg carried on from a record that did not keep it).
        public var origin: SDPOrigin? = nil
    }

    public enum State: Sendable, Equatable {
        case openingPort(Target)
        /// The INVITE is out; `provisional`: a 1xx has come (a CANCEL may be sent).
        case calling(Invitation, provisional: Bool)
        /// Hung up while ringing; `cancelled`: the CANCEL is out (else it goes at the first 1xx).
        case cancelling(Invitation, cancelled: Bool)
        case connected(Session)
        case ended
    }

    public let leg: Leg
    public private(set) var state: State
    public let context: LegContext
    private var ids: LegIdentifiers

    public static func ring(_ leg: Leg, _ target: Target, context: LegContext, ids: LegIdentifiers) -> (OutboundLeg, [LegAction]) {
        (OutboundLeg(leg: leg, state: .openingPort(target), context: context, ids: ids), [.openMediaPort])
    }

    /// A connected leg written down before a crash, carried on (its port bound again by the shell).
    public static func carriedOn(
        _ leg: Leg, invite: SIPRequest, dialog: SIPDialog, port: Int, media: DescribedMedia?, origin: SDPOrigin? = nil,
        context: LegContext, ids: LegIdentifiers
    ) -> OutboundLeg {
        var ids = ids
        let ack = dialog.ack(inviteCSeq: invite.cseq?.number ?? 1, via: context.via(for: dialog.peer, branch: ids.next()))
        let session = Session(
            invitation: Invitation(request: invite, peer: dialog.peer, port: port, offer: nil, mediaKey: nil), dialog: dialog, media: media,
            ack: ack, origin: origin)
        return OutboundLeg(leg: leg, state: .connected(session), context: context, ids: ids)
    }

    init(leg: Leg, state: State, context: LegContext, ids: LegIdentifiers) {
        (self.leg, self.state, self.context, self.ids) = (leg, state, context, ids)
    }

    /// Taken over from another node (carried on with a port of this node's): the re-INVITE that
    /// moves the phone's media and requests here. Its answer comes to `response`; a refusal or
    /// silence ends the leg (its media would go to the dead node).
    public mutating func reanchor() -> [LegAction] {
        guard case .connected(var session) = state else { return [] }
        let reanchoring = Reanchoring.reinvite(
            &session.dialog, port: session.invitation.port, law: session.media?.law, origin: &session.origin,
            secure: session.invitation.request.isSecure, context: context, ids: &ids)
        session.reanchoring = reanchoring
        state = .connected(session)
        return [.send(reanchoring.request, to: session.invitation.peer), .writeDown(record(session))]
    }

    public var isEnded: Bool { if case .ended = state { true } else { false } }

    public var dialog: SIPDialog? { if case .connected(let session) = state { session.dialog } else { nil } }

    /// The leg as it should be written down now (nil: nothing to keep).
    public var record: LegRecord? {
        switch state {
        case .openingPort, .cancelling, .ended: nil
        case .calling(let invitation, _):
            LegRecord(state: .ringing, invite: invitation.request, dialog: nil, peer: invitation.peer, mediaPort: invitation.port, media: nil)
        case .connected(let session): record(session)
        }
    }

    // MARK: Media port

    public mutating func mediaPortOpened(_ port: Int) -> [LegAction] {
        switch state {
        case .openingPort(let target):
            let invite = makeInvite(target, port: port)
            let invitation = Invitation(
                request: invite, peer: target.peer, port: port, offer: try? SessionDescription(parsing: invite.body), mediaKey: target.mediaKey)
            state = .calling(invitation, provisional: false)
            let record = LegRecord(state: .ringing, invite: invite, dialog: nil, peer: target.peer, mediaPort: port, media: nil)
            return [.writeDown(record), .send(invite, to: target.peer)]
        case .ended:
            return [.closeMediaPort]  // hung up while the port was opening
        case .calling, .cancelling, .connected:
            return []
        }
    }

    public mutating func mediaPortRefused() -> [LegAction] {
        guard case .openingPort = state else { return [] }
        state = .ended
        return [.line(.ringFailed(leg, .unreachable)), .ended]
    }

    // MARK: The center

    /// The center's `hangUp`: a CANCEL while it rings (a 2xx that crosses it is ACKed, then BYEd),
    /// a BYE once answered.
    public mutating func hangUp() -> [LegAction] {
        switch state {
        case .openingPort:
            state = .ended
            return [.ended]
        case .calling(let invitation, let provisional):
            state = .cancelling(invitation, cancelled: provisional)
            let cancel: [LegAction] = provisional ? [.send(Self.cancel(invitation.request), to: invitation.peer)] : []
            return cancel + [.closeMediaPort, .writeDown(nil)]
        case .connected(let session):
            state = .ended
            return [bye(session), .closeMediaPort, .writeDown(nil), .ended]
        case .cancelling, .ended:
            return []
        }
    }

    // MARK: SIP

    /// A response to our INVITE (the transaction layer has absorbed what it should: retransmitted
    /// 2xxs still come, to be ACKed again).
    public mutating func response(_ response: SIPResponse) -> [LegAction] {
        switch state {
        case .calling(let invitation, _):
            if response.isProvisional {
                state = .calling(invitation, provisional: true)
                return []
            }
            if response.status < 300 {
                guard let (session, ack) = connect(invitation, response) else { return [] }
                state = .connected(session)
                var actions: [LegAction] = [
                    .sendACK(ack, to: invitation.peer), .routeDialog(callID: session.dialog.callID, localTag: session.dialog.localTag),
                ]
                if let media = session.media { actions.append(.describeMedia(media)) }
                return actions + [.writeDown(record(session)), .line(.answered(leg))]
            }
            if response.status == 488, let retry = offeringRTPSAVP(after: invitation) {
                // Keys offered in RTP/AVP (best effort) refused: a phone that insists on SRTP takes
                // only RTP/SAVP (baresip's srtp-mand), so the offer goes again as that.
                state = .calling(retry, provisional: false)
                let record = LegRecord(state: .ringing, invite: retry.request, dialog: nil, peer: retry.peer, mediaPort: retry.port, media: nil)
                return [.writeDown(record), .send(retry.request, to: retry.peer)]
            }
            state = .ended
            return [.closeMediaPort, .writeDown(nil), .line(.ringFailed(leg, Self.failure(response.status))), .ended]
        case .cancelling(let invitation, let cancelled):
            if response.isProvisional {
                guard !cancelled else { return [] }
                // The first 1xx: now the CANCEL may go (RFC 3261 §9.1).
                state = .cancelling(invitation, cancelled: true)
                return [.send(Self.cancel(invitation.request), to: invitation.peer)]
            }
            state = .ended
            guard response.status < 300, let (session, ack) = connect(invitation, response) else { return [.ended] }
            // Answered after all (the phone picked up as the ring ended): ACK, then BYE (§15).
            return [.sendACK(ack, to: invitation.peer), bye(session), .ended]
        case .connected(var session):
            if var reanchoring = session.reanchoring, reanchoring.answers(response), reanchoring.ack == nil {
                if response.isProvisional { return [] }
                guard response.status < 300 else { return reanchorRefused(session, status: response.status) }
                let (ack, media) = reanchoring.accepted(response, dialog: &session.dialog, context: context, ids: &ids)
                session.reanchoring = reanchoring
                session.ack = ack
                if let media { session.media = media }
                state = .connected(session)
                return [.sendACK(ack, to: session.invitation.peer)] + (media.map { [.describeMedia($0)] } ?? []) + [.writeDown(record(session))]
            }
            // A 2xx sent again: our ACK was lost; the same ACK again.
            return response.status >= 200 && response.status < 300 ? [.sendACK(session.ack, to: session.invitation.peer)] : []
        case .openingPort, .ended:
            return []
        }
    }

    /// The phone refused our re-INVITE: its audio would still go to the node that is gone, so the
    /// leg ends — a BYE unless the phone no longer knows the dialog (481) — and the center hears it.
    private mutating func reanchorRefused(_ session: Session, status: Int?) -> [LegAction] {
        let goodbye: [LegAction] = status == 481 || status == nil ? [] : [bye(session)]
        state = .ended
        return goodbye + [.closeMediaPort, .writeDown(nil), .line(.hungUp(leg)), .ended]
    }

    /// One of our transactions timed out or could not be sent (a transport error is a timeout,
    /// RFC 3261 §17.1.4): for the INVITE, the ring failed.
    public mutating func transactionFailed(_ method: SIPMethod) -> [LegAction] {
        guard method == .invite else { return [] }
        switch state {
        case .calling:
            state = .ended
            return [.closeMediaPort, .writeDown(nil), .line(.ringFailed(leg, .unreachable)), .ended]
        case .cancelling:
            state = .ended
            return [.ended]
        case .connected(let session):
            // Our re-INVITE after a takeover had no answer: the phone is gone.
            guard let reanchoring = session.reanchoring, reanchoring.ack == nil else { return [] }
            return reanchorRefused(session, status: nil)
        case .openingPort, .ended:
            return []
        }
    }

    /// A BYE in the dialog: the phone (or the outside number) hung up.
    public mutating func bye(_ request: SIPRequest, _ transaction: ServerTransactionID) -> [LegAction] {
        guard case .connected = state else {
            return [.respond(SIPResponse(answering: request, status: 481), to: transaction)]
        }
        state = .ended
        return [.respond(SIPResponse(answering: request, status: 200), to: transaction), .closeMediaPort, .writeDown(nil),
                .line(.hungUp(leg)), .ended]
    }

    /// A re-INVITE or UPDATE with a new offer: answered with the leg's own port.
    public mutating func reoffer(_ request: SIPRequest, _ transaction: ServerTransactionID) -> [LegAction] {
        guard case .connected(var session) = state else {
            return [.respond(SIPResponse(answering: request, status: 481), to: transaction)]
        }
        var response = SIPResponse(answering: request, status: 200)
        if request.method == .invite {
            response.headers.add("Contact", context.contact(for: session.invitation.peer, secure: request.isSecure))
        }
        var actions: [LegAction] = []
        if !request.body.isEmpty, let offer = try? SessionDescription(parsing: request.body) {
            switch SessionDescription.negotiate(offer, address: context.host, port: session.invitation.port, sessionID: ids.sessionID()) {
            case .success(var answer):
                SDPOrigin.stamp(&answer, after: &session.origin)
                response.body = answer.bytes
                response.headers.add("Content-Type", "application/sdp")
                if let media = DescribedMedia(remote: offer, agreed: answer) {
                    session.media = media
                    actions.append(.describeMedia(media))
                }
                // Written down with its new origin, so a takeover's SDP goes on from this one.
                state = .connected(session)
                actions.append(.writeDown(record(session)))
            case .failure(let refusal):
                return [.respond(SIPResponse(answering: request, status: 488, reason: refusal.reason), to: transaction)]
            }
        }
        return [.respond(response, to: transaction)] + actions
    }

    // MARK: Building messages

    private mutating func makeInvite(_ target: Target, port: Int) -> SIPRequest {
        var headers = SIPHeaders()
        headers.add("Via", context.via(for: target.peer, branch: ids.next()).text)
        headers.add("Max-Forwards", "70")
        // The phone's display shows the caller: their number as the user, their name (or a SIP
        // caller's address, or "Withheld number") as the display name.
        let caller = target.caller
        let user = caller.number?.rawValue ?? (caller.withheld ? "anonymous" : "switchboard")
        let display = caller.name ?? (caller.withheld ? "Withheld number" : caller.number == nil ? caller.address : nil)
        let name = display.map { SIPNameAddress.quotedDisplayName($0) + " " } ?? ""
        headers.add("From", "\(name)<sip:\(user)@\(context.hostText)>;tag=\(ids.next())")
        headers.add("To", "<\(target.uri)>")
        headers.add("Call-ID", ids.next() + "@" + context.hostText)
        headers.add("CSeq", "1 INVITE")
        headers.add("Contact", context.contact(for: target.peer, secure: target.uri.lowercased().hasPrefix("sips:")))
        headers.add("Content-Type", "application/sdp")
        let plain = SessionDescription(sessionID: ids.sessionID(), address: context.host, port: port, codecs: [.pcmu, .pcma, .telephoneEvent])
        let offer = SecureMedia.offer(plain, secure: target.peer.transport == .tls, policy: target.srtp, key: target.mediaKey)
        return SIPRequest(method: .invite, requestURI: target.uri, headers: headers, body: offer.bytes)
    }

    /// The INVITE again, its offer as RTP/SAVP, after a best-effort SRTP offer (keys in RTP/AVP)
    /// was refused; nil when the offer was no such thing.
    private mutating func offeringRTPSAVP(after invitation: Invitation) -> Invitation? {
        guard var offer = invitation.offer, offer.profile == "RTP/AVP", !offer.crypto.isEmpty else { return nil }
        offer.profile = "RTP/SAVP"
        offer.version += 1
        var request = invitation.request
        request.body = offer.bytes
        request.headers.set("Via", context.via(for: invitation.peer, branch: ids.next()).text)
        request.headers.set("CSeq", "\((invitation.request.cseq?.number ?? 1) + 1) INVITE")
        return Invitation(request: request, peer: invitation.peer, port: invitation.port, offer: offer, mediaKey: invitation.mediaKey)
    }

    /// A CANCEL for our INVITE: its Request-URI, Call-ID, From, To, CSeq number and top Via (§9.1).
    public static func cancel(_ invite: SIPRequest) -> SIPRequest {
        var headers = SIPHeaders()
        if let via = invite.headers.values("Via").first { headers.add("Via", via) }
        headers.add("Max-Forwards", "70")
        for name in ["From", "To", "Call-ID"] { headers.add(name, invite.headers[name] ?? "") }
        headers.add("CSeq", "\(invite.cseq?.number ?? 1) CANCEL")
        return SIPRequest(method: .cancel, requestURI: invite.requestURI, headers: headers)
    }

    private mutating func connect(_ invitation: Invitation, _ response: SIPResponse) -> (Session, SIPRequest)? {
        guard let dialog = SIPDialog.client(invite: invitation.request, response: response, peer: invitation.peer) else { return nil }
        let ack = dialog.ack(inviteCSeq: invitation.request.cseq?.number ?? 1, via: context.via(for: invitation.peer, branch: ids.next()))
        var media: DescribedMedia?
        if let answer = try? SessionDescription(parsing: response.body) {
            var keys: MediaKeys?
            if let offer = invitation.offer, let key = invitation.mediaKey,
                case .success(let agreed) = SecureMedia.keys(answering: offer, with: answer, key: key)
            {
                keys = agreed
            }
            media = DescribedMedia(remote: answer, agreed: answer, keys: keys)
        }
        return (Session(invitation: invitation, dialog: dialog, media: media, ack: ack, origin: invitation.offer.map(SDPOrigin.init)), ack)
    }

    private mutating func bye(_ session: Session) -> LegAction {
        var session = session
        let request = session.dialog.request(.bye, via: context.via(for: session.invitation.peer, branch: ids.next()))
        if case .connected = state { state = .connected(session) }
        return .send(request, to: session.invitation.peer)
    }

    private func record(_ session: Session) -> LegRecord {
        LegRecord(state: .connected, invite: session.invitation.request, dialog: session.dialog, peer: session.invitation.peer,
                  mediaPort: session.invitation.port, media: session.media, origin: session.origin)
    }

    static func failure(_ status: Int) -> RingFailure {
        switch status {
        case 486, 600: .busy
        case 603: .declined
        default: .unreachable
        }
    }
}
