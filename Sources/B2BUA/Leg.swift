import CallControl
import Media
import SIP

/// The B2BUA's call legs as values (postgres-nio's `ConnectionStateMachine` shape): what happens
/// to a leg comes in — a SIP message the transaction layer delivered, a line action of the
/// center's, a media port opened or refused, a timer — and what the shell must do goes out as
/// `LegAction`s. No I/O, no clock (time comes in with the events that need it), no randomness
/// (tags and branches come from the leg's `LegIdentifiers`). `SIPEndpoint` performs the actions.
///
/// Two kinds of leg: `CustomerLeg` (a caller's INVITE we answer) and `OutboundLeg` (our INVITE to
/// an agent's phone or, through the gateway, to an outside number).
public enum LegAction: Equatable, Sendable {
    /// Ask the media engine for the leg's RTP port pair; `mediaPortOpened` or `mediaPortRefused` follows.
    case openMediaPort
    /// The leg is over: its ports go back (also when the opening is still on its way).
    case closeMediaPort
    /// Where the leg receives and what was agreed: the engine sends there from now on.
    case describeMedia(DescribedMedia)
    /// A response in a server transaction the leg was given.
    case respond(SIPResponse, to: ServerTransactionID)
    /// A request in a new client transaction: its responses, timeout or transport error come
    /// back to this leg.
    case send(SIPRequest, to: SIPPeer)
    /// A request outside any transaction: the ACK of a 2xx.
    case sendACK(SIPRequest, to: SIPPeer)
    /// Tell the center: the customer's call reaches its queue (the shell knows which).
    case arrive(Caller)
    /// Tell the center what happened on the line.
    case line(LineEvent)
    case armTimer(LegTimer, after: Duration)
    case cancelTimer(LegTimer)
    /// In-dialog requests with this Call-ID and our tag come to this leg from now on.
    case routeDialog(callID: String, localTag: String)
    /// Write the leg down (so a restart can carry it on or end it), or forget it (nil).
    case writeDown(LegRecord?)
    /// The leg is over: the shell forgets it (its dialog and transactions route nowhere now).
    case ended
}

public enum LegTimer: Hashable, Sendable {
    /// Retransmit the 2xx to a customer's INVITE until the ACK (RFC 3261 §13.3.1.4).
    case answerRetransmit
}

/// What a leg's SDP said: where it receives, the law agreed, its `telephone-event` type.
public struct DescribedMedia: Codable, Equatable, Sendable {
    public var host: String
    public var port: Int
    public var law: G711.Law
    public var eventPayloadType: UInt8?
    /// SRTP keys (SDES), when the leg is encrypted.
    public var keys: MediaKeys?

    public init(host: String, port: Int, law: G711.Law, eventPayloadType: UInt8?, keys: MediaKeys? = nil) {
        (self.host, self.port, self.law, self.eventPayloadType, self.keys) = (host, port, law, eventPayloadType, keys)
    }

    /// From the remote SDP and what was agreed: the answer's first audio codec, and the remote's
    /// own `telephone-event` payload type. Nil when no law was agreed.
    public init?(remote: SessionDescription, agreed: SessionDescription, keys: MediaKeys? = nil) {
        guard let law = agreed.codecs.lazy.compactMap({ G711.Law(rawValue: $0.name) }).first else { return nil }
        let event = remote.codecs.first { $0.name == "telephone-event" }.map { UInt8(truncatingIfNeeded: $0.payloadType) }
        self.init(host: remote.address, port: remote.port, law: law, eventPayloadType: event, keys: keys)
    }
}

/// An open leg as written down beside the log: enough to carry it on, or end it, after a crash.
public struct LegRecord: Equatable, Sendable {
    public enum State: String, Codable, Sendable {
        /// A customer's INVITE not yet answered: it gets a final response.
        case waiting
        /// Our INVITE, not yet answered: CANCEL.
        case ringing
        /// A dialog: carried on if its call is still live, else BYE.
        case connected
    }

    public var state: State
    public var invite: SIPRequest
    public var dialog: SIPDialog?
    public var peer: SIPPeer
    public var mediaPort: Int?
    public var media: DescribedMedia?
    /// Our last SDP's origin in the dialog, so a later one (from this node or the next) goes on from it.
    public var origin: SDPOrigin?

    public init(
        state: State, invite: SIPRequest, dialog: SIPDialog?, peer: SIPPeer, mediaPort: Int?, media: DescribedMedia?, origin: SDPOrigin? = nil
    ) {
        (self.state, self.invite, self.dialog, self.peer, self.mediaPort, self.media) = (state, invite, dialog, peer, mediaPort, media)
        self.origin = origin
    }
}

/// The `o=` line of the SDP we send in a dialog (RFC 3264 §8): every later SDP of ours in it keeps
/// the session ID and counts the version up by one — also from the node that took the leg over,
/// so the phone sees one session go on, not a new one.
public struct SDPOrigin: Codable, Equatable, Sendable {
    public var sessionID: UInt64
    public var version: UInt64

    public init(sessionID: UInt64, version: UInt64) { (self.sessionID, self.version) = (sessionID, version) }
    public init(_ sdp: SessionDescription) { (sessionID, version) = (sdp.sessionID, sdp.version) }

    /// Stamps `sdp` as our next SDP in the dialog (the first one, when there was none: it keeps its own).
    static func stamp(_ sdp: inout SessionDescription, after origin: inout SDPOrigin?) {
        if var next = origin {
            next.version += 1
            (sdp.sessionID, sdp.version) = (next.sessionID, next.version)
            origin = next
        } else {
            origin = SDPOrigin(sdp)
        }
    }
}

/// Where the server is, as a leg writes it into Via, Contact and SDP, and its timer values.
public struct LegContext: Sendable, Equatable {
    public var host: String
    /// UDP and TCP.
    public var port: Int
    public var tlsPort: Int?
    /// T1, T2, T4 over UDP, and over TCP and TLS.
    public var timers: SIPTimerValues
    public var streamTimers: SIPTimerValues

    public init(host: String, port: Int, tlsPort: Int? = nil, timers: SIPTimerValues = SIPTimerValues(), streamTimers: SIPTimerValues? = nil) {
        (self.host, self.port, self.tlsPort, self.timers, self.streamTimers) = (host, port, tlsPort, timers, streamTimers ?? timers)
    }

    public func timers(for peer: SIPPeer) -> SIPTimerValues { peer.reliable ? streamTimers : timers }

    var hostText: String { host.contains(":") ? "[" + host + "]" : host }

    func port(for peer: SIPPeer) -> Int { peer.transport == .tls ? (tlsPort ?? port) : port }

    public func via(for peer: SIPPeer, branch: String) -> SIPVia {
        var parameters = SIPParameters()
        parameters["branch"] = .some("z9hG4bK" + branch)
        parameters["rport"] = .some(nil)
        return SIPVia(transport: peer.transport.rawValue, host: host, port: port(for: peer), parameters: parameters)
    }

    /// Where a peer reaches us in a dialog (RFC 3261 §8.1.1.8): over TLS our TLS port — `sips:`
    /// when the dialog's request was to a `sips:` URI (RFC 5630 §3.1.3), else `;transport=tls`.
    public func contact(for peer: SIPPeer, secure: Bool) -> String {
        switch peer.transport {
        case .udp, .tcp: "<sip:switchboard@\(hostText):\(port)>"
        case .tls: secure ? "<sips:switchboard@\(hostText):\(port(for: peer))>" : "<sip:switchboard@\(hostText):\(port(for: peer));transport=tls>"
        }
    }
}

/// Tags, branches, Call-IDs and SDP session IDs for one leg: a prefix the shell draws at random,
/// and a count, so tests can fix the prefix and read every message exactly.
public struct LegIdentifiers: Sendable, Equatable {
    public let prefix: String
    private var count: UInt64 = 0

    public init(prefix: String) { self.prefix = prefix }

    public mutating func next() -> String {
        count += 1
        return prefix + String(count, radix: 36)
    }

    public mutating func sessionID() -> UInt64 {
        count += 1
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in (prefix + String(count)).utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return hash & UInt64(Int64.max)
    }
}

extension SIPRequest {
    var isSecure: Bool { requestURI.lowercased().hasPrefix("sips:") }
}

extension Caller {
    /// The core's caller from what SIP said.
    public init(_ identity: CallingIdentity) {
        if identity.withheld {
            self = .withheld
        } else {
            self.init(number: identity.number.map(DialNumber.init), address: identity.address, name: identity.displayName)
        }
    }
}

/// A leg taken over from another node (its dialog and the phone's media address read from the
/// written-down record): our re-INVITE offers this node's media port and Contact, so the phone
/// sends its audio here and its later requests come here (RFC 3261 §14.1: a re-INVITE's Contact
/// refreshes the remote target). `ack` is set once the 2xx has come and was acknowledged.
public struct Reanchoring: Sendable, Equatable {
    public var request: SIPRequest
    public var ack: SIPRequest?

    /// The re-INVITE in `dialog`, offering `port` with the law the leg already agreed (or both
    /// laws when none was written down) and `telephone-event`.
    static func reinvite(
        _ dialog: inout SIPDialog, port: Int, law: G711.Law?, origin: inout SDPOrigin?, secure: Bool, context: LegContext,
        ids: inout LegIdentifiers
    ) -> Reanchoring {
        // The node that made the dialog may have sent requests in it after it last wrote it down:
        // a CSeq well above the written one is still in order for the phone (§12.2.1.1).
        dialog.localCSeq += 100
        let codecs: [SessionDescription.Codec] = (law.map { [$0 == .a ? .pcma : .pcmu] } ?? [.pcmu, .pcma]) + [.telephoneEvent]
        var offer = SessionDescription(sessionID: ids.sessionID(), address: context.host, port: port, codecs: codecs)
        SDPOrigin.stamp(&offer, after: &origin)
        let request = dialog.request(
            .invite, via: context.via(for: dialog.peer, branch: ids.next()), contact: context.contact(for: dialog.peer, secure: secure),
            body: offer.bytes, contentType: "application/sdp")
        return Reanchoring(request: request, ack: nil)
    }

    /// Whether `response` answers this re-INVITE.
    func answers(_ response: SIPResponse) -> Bool {
        response.cseq?.method == .invite && response.cseq?.number == request.cseq?.number
    }

    /// The phone's 2xx: the ACK, the dialog's refreshed target, and where the phone receives now.
    mutating func accepted(_ response: SIPResponse, dialog: inout SIPDialog, context: LegContext, ids: inout LegIdentifiers)
        -> (ack: SIPRequest, media: DescribedMedia?)
    {
        if let contact = response.headers.values("Contact").first.flatMap({ try? SIPNameAddress(parsing: $0) }) {
            dialog.remoteTarget = contact.address
        }
        let ack = dialog.ack(inviteCSeq: request.cseq?.number ?? dialog.localCSeq, via: context.via(for: dialog.peer, branch: ids.next()))
        self.ack = ack
        let answer = try? SessionDescription(parsing: response.body)
        return (ack, answer.flatMap { DescribedMedia(remote: $0, agreed: $0) })
    }
}
