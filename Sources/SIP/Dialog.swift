/// A dialog (RFC 3261 §12): what a 2xx to an INVITE establishes between two user agents, and
/// what every later request in the call carries — Call-ID, both tags, the remote target, the
/// route set, the CSeq numbers. The B2BUA holds one per leg.
public struct SIPDialog: Sendable, Equatable, Codable {
    public var callID: String
    public var localTag: String
    public var remoteTag: String
    /// The From (ours) and To (theirs) of requests we send in the dialog, as name-addresses.
    public var localAddress: String
    public var remoteAddress: String
    /// The Request-URI of our requests: the peer's Contact.
    public var remoteTarget: String
    public var routeSet: [String]
    public var localCSeq: UInt32
    public var remoteCSeq: UInt32?
    /// Where our in-dialog requests go (the address the dialog was made with).
    public var peer: SIPPeer

    /// The dialog a UAS makes when it answers `invite` with a 2xx carrying `localTag` (§12.1.1).
    public static func server(answering invite: SIPRequest, localTag: String, peer: SIPPeer) -> SIPDialog? {
        guard let callID = invite.callID, let from = invite.from, let remoteTag = from.tag, let to = invite.to,
            let cseq = invite.cseq
        else { return nil }
        let contact = invite.headers.values("Contact").first.flatMap { try? SIPNameAddress(parsing: $0) }
        var local = to
        local.parameters["tag"] = .some(localTag)
        return SIPDialog(
            callID: callID, localTag: localTag, remoteTag: remoteTag, localAddress: local.text, remoteAddress: from.text,
            remoteTarget: contact?.address ?? from.address, routeSet: invite.headers.values("Record-Route"),
            localCSeq: 0, remoteCSeq: cseq.number, peer: peer)
    }

    /// The dialog a UAC has once its INVITE got `response`, a 2xx (§12.1.2).
    public static func client(invite: SIPRequest, response: SIPResponse, peer: SIPPeer) -> SIPDialog? {
        guard let callID = invite.callID, let from = invite.from, let localTag = from.tag, let to = response.to,
            let remoteTag = to.tag, let cseq = invite.cseq
        else { return nil }
        let contact = response.headers.values("Contact").first.flatMap { try? SIPNameAddress(parsing: $0) }
        return SIPDialog(
            callID: callID, localTag: localTag, remoteTag: remoteTag, localAddress: from.text, remoteAddress: to.text,
            remoteTarget: contact?.address ?? invite.requestURI,
            routeSet: response.headers.values("Record-Route").reversed(), localCSeq: cseq.number, remoteCSeq: nil,
            peer: peer)
    }

    /// Whether a request belongs to this dialog: its Call-ID and tags, seen from the other side.
    public func matches(_ request: SIPRequest) -> Bool {
        request.callID == callID && request.from?.tag == remoteTag && request.to?.tag == localTag
    }

    /// A new request in the dialog (BYE, re-INVITE, INFO…): the next CSeq, a new branch.
    public mutating func request(_ method: SIPMethod, via: SIPVia, contact: String? = nil, body: [UInt8] = [], contentType: String? = nil)
        -> SIPRequest
    {
        localCSeq += 1
        return build(method, cseq: localCSeq, via: via, contact: contact, body: body, contentType: contentType)
    }

    /// The ACK for a 2xx: the INVITE's CSeq number, its own branch (§13.2.2.4).
    public func ack(inviteCSeq: UInt32, via: SIPVia, body: [UInt8] = []) -> SIPRequest {
        build(.ack, cseq: inviteCSeq, via: via, contact: nil, body: body, contentType: body.isEmpty ? nil : "application/sdp")
    }

    private func build(_ method: SIPMethod, cseq: UInt32, via: SIPVia, contact: String?, body: [UInt8], contentType: String?) -> SIPRequest {
        var headers = SIPHeaders()
        headers.add("Via", via.text)
        headers.add("Max-Forwards", "70")
        // Loose routing (§12.2.1.1): with a route set, the Routes go in the request as they are.
        for route in routeSet { headers.add("Route", route) }
        headers.add("From", localAddress)
        headers.add("To", remoteAddress)
        headers.add("Call-ID", callID)
        headers.add("CSeq", "\(cseq) \(method)")
        if let contact { headers.add("Contact", contact) }
        if let contentType { headers.add("Content-Type", contentType) }
        return SIPRequest(method: method, requestURI: remoteTarget, headers: headers, body: body)
    }
}
