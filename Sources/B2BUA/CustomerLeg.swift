import Media
import CallControl
import SIP

/// A caller's leg: their INVITE, which the B2BUA answers once the call enters its queue.
///
/// ```
///  INVITE ──▶ openingPort ──port──▶ waiting ──answer──▶ answered ──ACK──▶ confirmed
///               │ no port: 503         │ refused: 480      │ no ACK in 64×T1: BYE  │
///               │ CANCEL: 487          │ CANCEL: 487       │                        │ BYE in, or hangUp: BYE out
///               ▼                      ▼ (hungUp told)     ▼ (hungUp told)          ▼
///             ended ◀──────────────────┴───────────────────┴────────────────────── ended
/// ```
///
/// Only the states that own data carry it: the INVITE until it is answered, the dialog after.
/// A CANCEL while the port is opening ends the leg before the center hears of it: nothing is
/// queued, and the port, once it opens, is closed again.
public struct CustomerLeg: Sendable {
    /// The INVITE and what answering it needs.
    public struct Invitation: Sendable, Equatable {
        public var request: SIPRequest
        public var transaction: ServerTransactionID
        public var peer: SIPPeer
        public var localTag: String
        /// The caller's offer (nil: a late offer, made in our 200 and answered in the ACK).
        public var offer: SessionDescription?
        public var caller: Caller
        /// SRTP: the policy, and our key for this leg (used only when its signalling is TLS).
        public var srtp: SRTPPolicy
        public var mediaKey: SRTPKey

        public init(request: SIPRequest, transaction: ServerTransactionID, peer: SIPPeer, localTag: String,
                    offer: SessionDescription?, caller: Caller, srtp: SRTPPolicy = .optional, mediaKey: SRTPKey) {
            (self.request, self.transaction, self.peer, self.localTag, self.offer, self.caller) =
                (request, transaction, peer, localTag, offer, caller)
            (self.srtp, self.mediaKey) = (srtp, mediaKey)
        }

        var secure: Bool { peer.transport == .tls }
    }

    /// A dialog and its media.
    public struct Session: Sendable, Equatable {
        public var invitation: Invitation
        public var dialog: SIPDialog
        public var port: Int
        public var media: DescribedMedia?
        /// Our offer, when the caller made none (our 200 offers; the ACK answers).
        public var offered: SessionDescription?
        /// Taken over from another node: our re-INVITE moving the media here.
        public var reanchoring: Reanchoring? = nil
        /// Our last SDP's origin (nil only in a leg carried on from a record that did not keep it).
        public var origin: SDPOrigin? = nil
    }

    public enum State: Sendable, Equatable {
        case openingPort(Invitation)
        /// The center has been told; waiting for its answer (or a refusal).
        case waiting(Invitation, port: Int, answer: SessionDescription?, media: DescribedMedia?)
        /// The 200 is out, sent again until the ACK.
        case answered(Session, ok: SIPResponse, sentAt: Timestamp, interval: Duration)
        case confirmed(Session)
        case ended
    }

    public private(set) var state: State
    public let context: LegContext
    private var ids: LegIdentifiers

    /// A caller's INVITE: the leg asks for its media port.
    public static func invited(_ invitation: Invitation, context: LegContext, ids: LegIdentifiers) -> (CustomerLeg, [LegAction]) {
        (CustomerLeg(state: .openingPort(invitation), context: context, ids: ids), [.openMediaPort])
    }

    /// A connected leg written down before a crash, carried on (its port bound again by the shell).
    public static func carriedOn(
        invite: SIPRequest, dialog: SIPDialog, port: Int, media: DescribedMedia?, origin: SDPOrigin? = nil, context: LegContext,
        ids: LegIdentifiers
    ) -> CustomerLeg? {
        guard let transaction = TransactionLayer.serverID(invite) else { return nil }
        let invitation = Invitation(
            request: invite, transaction: transaction, peer: dialog.peer, localTag: dialog.localTag, offer: nil,
            caller: Caller(CallingIdentity(of: invite, trusted: true)), srtp: .off, mediaKey: SRTPKey.random())
        let session = Session(invitation: invitation, dialog: dialog, port: port, media: media, origin: origin)
        return CustomerLeg(state: .confirmed(session), context: context, ids: ids)
    }

    init(state: State, context: LegContext, ids: LegIdentifiers) {
        (self.state, self.context, self.ids) = (state, context, ids)
    }

    /// Taken over from another node (carried on with a port of this node's): the re-INVITE that
    /// moves the caller's media and requests here (through the proxy that record-routed the call,
    /// when one did). Its answer comes to `response`; a refusal or silence ends the leg.
    public mutating func reanchor() -> [LegAction] {
        guard case .confirmed(var session) = state else { return [] }
        let reanchoring = Reanchoring.reinvite(
            &session.dialog, port: session.port, law: session.media?.law, origin: &session.origin,
            secure: session.invitation.request.isSecure, context: context, ids: &ids)
        session.reanchoring = reanchoring
        state = .confirmed(session)
        return [.send(reanchoring.request, to: session.invitation.peer), .writeDown(record(session))]
    }

    /// A response to a request of ours in the dialog: only the re-INVITE's matter (a BYE's do not).
    public mutating func response(_ response: SIPResponse) -> [LegAction] {
        guard case .confirmed(var session) = state, var reanchoring = session.reanchoring, reanchoring.answers(response) else { return [] }
        if let ack = reanchoring.ack {
            // Our ACK was lost: the 2xx again, the same ACK again.
            return response.status >= 200 && response.status < 300 ? [.sendACK(ack, to: session.invitation.peer)] : []
        }
        if response.isProvisional { return [] }
        guard response.status < 300 else { return reanchorRefused(&session, status: response.status) }
        let (ack, media) = reanchoring.accepted(response, dialog: &session.dialog, context: context, ids: &ids)
        session.reanchoring = reanchoring
        if let media { session.media = media }
        state = .confirmed(session)
        return [.sendACK(ack, to: session.invitation.peer)] + (media.map { [.describeMedia($0)] } ?? []) + [.writeDown(record(session))]
    }

    /// Our re-INVITE had no answer (timeout, transport error): the caller is gone.
    public mutating func transactionFailed(_ method: SIPMethod) -> [LegAction] {
        guard method == .invite, case .confirmed(var session) = state, let reanchoring = session.reanchoring, reanchoring.ack == nil
        else { return [] }
        return reanchorRefused(&session, status: nil)
    }

    /// The caller refused our re-INVITE: their audio would still go to the node that is gone, so
    /// the leg ends — a BYE unless they no longer know the dialog (481) — and the center hears it.
    private mutating func reanchorRefused(_ session: inout Session, status: Int?) -> [LegAction] {
        let goodbye = status == 481 || status == nil ? [] : bye(&session)
        state = .ended
        return goodbye + [.closeMediaPort, .writeDown(nil), .line(.hungUp(.customer)), .ended]
    }

    public var isEnded: Bool { if case .ended = state { true } else { false } }

    // MARK: Media port

    public mutating func mediaPortOpened(_ port: Int) -> [LegAction] {
        switch state {
        case .openingPort(let invitation):
            var answer: SessionDescription?
            var media: DescribedMedia?
            if let offer = invitation.offer,
                let plain = SessionDescription.answer(to: offer, address: context.host, port: port, sessionID: ids.sessionID())
            {
                switch SecureMedia.answer(offer, plain, secure: invitation.secure, policy: invitation.srtp, key: invitation.mediaKey) {
                case .success(let (secured, keys)):
                    answer = secured
                    media = DescribedMedia(remote: offer, agreed: secured, keys: keys)
                case .failure(let refusal):
                    // The shell checks before it makes the leg; should an offer get here anyway, it is refused.
                    state = .ended
                    let refused = SIPResponse(answering: invitation.request, status: 488, reason: refusal.reason, toTag: invitation.localTag)
                    return [.respond(refused, to: invitation.transaction), .closeMediaPort, .ended]
                }
            }
            state = .waiting(invitation, port: port, answer: answer, media: media)
            let record = LegRecord(state: .waiting, invite: invitation.request, dialog: nil, peer: invitation.peer, mediaPort: port, media: nil)
            return (media.map { [.describeMedia($0)] } ?? []) + [.writeDown(record), .arrive(invitation.caller)]
        case .ended:
            // Cancelled while the port was opening: it goes straight back.
            return [.closeMediaPort]
        case .waiting, .answered, .confirmed:
            return []
        }
    }

    public mutating func mediaPortRefused() -> [LegAction] {
        guard case .openingPort(let invitation) = state else { return [] }
        state = .ended
        // Every pair of --rtp-ports is in use: a trunk may try again shortly, or elsewhere.
        var busy = SIPResponse(
            answering: invitation.request, status: 503, reason: "Service Unavailable (no free media port)", toTag: invitation.localTag)
        busy.headers.add("Retry-After", "10")
        return [.respond(busy, to: invitation.transaction), .ended]
    }

    // MARK: The center

    /// The center refused the arrival (a queue gone, a draining server).
    public mutating func arrivalRefused(status: Int, reason: String?) -> [LegAction] {
        guard case .waiting(let invitation, _, _, _) = state else { return [] }
        state = .ended
        let refusal = SIPResponse(answering: invitation.request, status: status, reason: reason, toTag: invitation.localTag)
        return [.respond(refusal, to: invitation.transaction), .closeMediaPort, .writeDown(nil), .ended]
    }

    /// The center's `answerCustomer`: the 200 with our SDP, sent again until the ACK over UDP.
    public mutating func answer(now: Timestamp) -> [LegAction] {
        guard case .waiting(let invitation, let port, let answer, let media) = state,
            let dialog = SIPDialog.server(answering: invitation.request, localTag: invitation.localTag, peer: invitation.peer)
        else { return [] }
        var ok = SIPResponse(answering: invitation.request, status: 200, toTag: invitation.localTag)
        ok.headers.add("Contact", context.contact(for: invitation.peer, secure: invitation.request.isSecure))
        // No offer came: ours goes in the 200 (with keys where the leg may be SRTP).
        let offered = answer == nil
            ? SecureMedia.offer(
                SessionDescription(sessionID: ids.sessionID(), address: context.host, port: port, codecs: [.pcmu, .pcma, .telephoneEvent]),
                secure: invitation.secure, policy: invitation.srtp, key: invitation.mediaKey)
            : nil
        let sdp = answer ?? offered!
        ok.body = sdp.bytes
        ok.headers.add("Content-Type", "application/sdp")
        let session = Session(invitation: invitation, dialog: dialog, port: port, media: media, offered: offered, origin: SDPOrigin(sdp))
        var actions: [LegAction] = [
            .routeDialog(callID: dialog.callID, localTag: dialog.localTag), .writeDown(record(session)),
            .respond(ok, to: invitation.transaction),
        ]
        // Over UDP the 200 goes again at T1, 2×T1… up to T2; over TCP and TLS it is not repeated,
        // but the wait for the ACK is the same 64×T1 either way.
        let timers = context.timers(for: invitation.peer)
        let first = invitation.peer.reliable ? timers.t1 * 64 : timers.t1
        state = .answered(session, ok: ok, sentAt: now, interval: first)
        actions.append(.armTimer(.answerRetransmit, after: first))
        return actions
    }

    /// The center's `hangUp` for the customer: a 480 before the answer, a BYE after.
    public mutating func hangUp() -> [LegAction] {
        switch state {
        case .openingPort:
            state = .ended  // the port is closed when it opens
            return []
        case .waiting(let invitation, _, _, _):
            state = .ended
            let gone = SIPResponse(answering: invitation.request, status: 480, toTag: invitation.localTag)
            return [.respond(gone, to: invitation.transaction), .closeMediaPort, .writeDown(nil), .ended]
        case .answered(var session, _, _, _):
            state = .ended
            return [.cancelTimer(.answerRetransmit)] + bye(&session) + [.closeMediaPort, .writeDown(nil), .ended]
        case .confirmed(var session):
            state = .ended
            return bye(&session) + [.closeMediaPort, .writeDown(nil), .ended]
        case .ended:
            return []
        }
    }

    // MARK: SIP

    /// The caller's CANCEL, in its own transaction.
    public mutating func cancel(_ request: SIPRequest, _ transaction: ServerTransactionID) -> [LegAction] {
        let ok = LegAction.respond(SIPResponse(answering: request, status: 200), to: transaction)
        switch state {
        case .openingPort(let invitation):
            // Before the center heard of it: nothing is queued.
            state = .ended
            let terminated = SIPResponse(answering: invitation.request, status: 487, toTag: invitation.localTag)
            return [ok, .respond(terminated, to: invitation.transaction), .ended]
        case .waiting(let invitation, _, _, _):
            state = .ended
            let terminated = SIPResponse(answering: invitation.request, status: 487, toTag: invitation.localTag)
            return [ok, .respond(terminated, to: invitation.transaction), .closeMediaPort, .writeDown(nil),
                    .line(.hungUp(.customer)), .ended]
        case .answered, .confirmed:
            return [ok]  // the INVITE has its 200: the CANCEL changes nothing (RFC 3261 §9.2)
        case .ended:
            return [.respond(SIPResponse(answering: request, status: 481), to: transaction)]
        }
    }

    /// The ACK of our 200: retransmission stops; a late offer's answer is in it.
    public mutating func acknowledged(_ ack: SIPRequest) -> [LegAction] {
        guard case .answered(var session, _, _, _) = state else { return [] }
        var actions: [LegAction] = [.cancelTimer(.answerRetransmit)]
        if session.media == nil, let offered = session.offered, !ack.body.isEmpty, let answer = try? SessionDescription(parsing: ack.body),
            case .success(let keys) = SecureMedia.keys(answering: offered, with: answer, key: session.invitation.mediaKey),
            let media = DescribedMedia(remote: answer, agreed: answer, keys: keys)
        {
            session.media = media
            actions += [.describeMedia(media), .writeDown(record(session))]
        }
        state = .confirmed(session)
        return actions
    }

    public mutating func timerFired(_ timer: LegTimer, now: Timestamp) -> [LegAction] {
        switch (timer, state) {
        case (.answerRetransmit, .answered(var session, let ok, let sentAt, let interval)):
            let timers = context.timers(for: session.invitation.peer)
            if now.milliseconds - sentAt.milliseconds >= (timers.t1 * 64).milliseconds {
                // No ACK in 64×T1: the session ends (RFC 3261 §13.3.1.4).
                state = .ended
                return bye(&session) + [.closeMediaPort, .writeDown(nil), .line(.hungUp(.customer)), .ended]
            }
            let next = min(interval * 2, timers.t2)
            state = .answered(session, ok: ok, sentAt: sentAt, interval: next)
            return [.respond(ok, to: session.invitation.transaction), .armTimer(.answerRetransmit, after: next)]
        case (.answerRetransmit, _):
            return []
        }
    }

    /// A BYE in the dialog: the customer hung up.
    public mutating func bye(_ request: SIPRequest, _ transaction: ServerTransactionID) -> [LegAction] {
        let ok = LegAction.respond(SIPResponse(answering: request, status: 200), to: transaction)
        switch state {
        case .answered, .confirmed:
            let stop: [LegAction] = if case .answered = state { [.cancelTimer(.answerRetransmit)] } else { [] }
            state = .ended
            return [ok] + stop + [.closeMediaPort, .writeDown(nil), .line(.hungUp(.customer)), .ended]
        case .openingPort, .waiting, .ended:
            return [.respond(SIPResponse(answering: request, status: 481), to: transaction)]
        }
    }

    /// A re-INVITE or UPDATE with a new offer (hold, a refresh): answered with the leg's own port,
    /// so no re-negotiation reaches any other leg; the engine is told where the leg now receives.
    public mutating func reoffer(_ request: SIPRequest, _ transaction: ServerTransactionID) -> [LegAction] {
        let session: Session
        switch state {
        case .answered(let current, _, _, _), .confirmed(let current): session = current
        case .openingPort, .waiting, .ended: return [.respond(SIPResponse(answering: request, status: 481), to: transaction)]
        }
        var updated = session
        var response = SIPResponse(answering: request, status: 200)
        var actions: [LegAction] = []
        if request.method == .invite {
            response.headers.add("Contact", context.contact(for: session.invitation.peer, secure: request.isSecure))
        }
        if !request.body.isEmpty, let offer = try? SessionDescription(parsing: request.body) {
            let invitation = session.invitation
            switch SessionDescription.negotiate(offer, address: context.host, port: session.port, sessionID: ids.sessionID()) {
            case .success(let plain):
                guard case .success(var (answer, keys)) = SecureMedia.answer(
                    offer, plain, secure: invitation.secure, policy: invitation.srtp, key: invitation.mediaKey)
                else {
                    return [.respond(SIPResponse(answering: request, status: 488, reason: "Not Acceptable Here (SRTP)"), to: transaction)]
                }
                SDPOrigin.stamp(&answer, after: &updated.origin)
                response.body = answer.bytes
                response.headers.add("Content-Type", "application/sdp")
                if let media = DescribedMedia(remote: offer, agreed: answer, keys: keys) {
                    updated.media = media
                    actions.append(.describeMedia(media))
                }
                // Written down with its new origin, so a takeover's SDP goes on from this one.
                actions.append(.writeDown(record(updated)))
            case .failure(let refusal):
                return [.respond(SIPResponse(answering: request, status: 488, reason: refusal.reason), to: transaction)]
            }
        }
        switch state {
        case .answered(_, let ok, let sentAt, let interval): state = .answered(updated, ok: ok, sentAt: sentAt, interval: interval)
        case .confirmed: state = .confirmed(updated)
        case .openingPort, .waiting, .ended: break
        }
        return [.respond(response, to: transaction)] + actions
    }

    // MARK: Helpers

    private mutating func bye(_ session: inout Session) -> [LegAction] {
        let request = session.dialog.request(.bye, via: context.via(for: session.invitation.peer, branch: ids.next()))
        return [.send(request, to: session.invitation.peer)]
    }

    private func record(_ session: Session) -> LegRecord {
        LegRecord(state: .connected, invite: session.invitation.request, dialog: session.dialog, peer: session.invitation.peer,
                  mediaPort: session.port, media: session.media, origin: session.origin)
    }

    /// Who called, as the INVITE said (nil once the leg is over).
    public var caller: Caller? {
        switch state {
        case .openingPort(let invitation), .waiting(let invitation, _, _, _): invitation.caller
        case .answered(let session, _, _, _), .confirmed(let session): session.invitation.caller
        case .ended: nil
        }
    }

    /// The leg as it should be written down now (nil: nothing to keep).
    public var record: LegRecord? {
        switch state {
        case .openingPort, .ended: nil
        case .waiting(let invitation, let port, _, _):
            LegRecord(state: .waiting, invite: invitation.request, dialog: nil, peer: invitation.peer, mediaPort: port, media: nil)
        case .answered(let session, _, _, _), .confirmed(let session): record(session)
        }
    }

    /// The dialog, once answered.
    public var dialog: SIPDialog? {
        switch state {
        case .answered(let session, _, _, _), .confirmed(let session): session.dialog
        case .openingPort, .waiting, .ended: nil
        }
    }
}
