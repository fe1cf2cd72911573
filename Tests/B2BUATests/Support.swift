import CallControl
import Foundation
import Cryptography
import Media
import SIP

@testable import B2BUA

/// The legs' actions as transcript lines: what a reader checks at a glance.
extension LegAction {
    var line: String {
        switch self {
        case .openMediaPort: "open port"
        case .closeMediaPort: "close port"
        case .describeMedia(let media): "media \(media.host):\(media.port) \(media.law.rawValue.uppercased())"
        case .respond(let response, let transaction): "respond \(response.status) to \(transaction.method)"
        case .send(let request, _): "send \(request.method)"
        case .sendACK: "send ACK"
        case .arrive(let caller): "tell arrival from \(caller.label)"
        case .line(.ringFailed(let leg, let failure)): "tell ringFailed(\(leg), \(failure.rawValue))"
        case .line(let event): "tell \(event)"
        case .armTimer(let timer, let after): "arm \(timer) \(after.milliseconds)ms"
        case .cancelTimer(let timer): "cancel \(timer)"
        case .routeDialog: "route dialog"
        case .writeDown(let record): record.map { "write down \($0.state.rawValue)" } ?? "forget record"
        case .ended: "ended"
        }
    }
}

func lines(_ actions: [LegAction]) -> [String] { actions.map(\.line) }

let context = LegContext(host: "127.0.0.1", port: 5060, tlsPort: 5061)
let udpPeer = SIPPeer(.udp, host: "192.0.2.10", port: 5062)
let tcpPeer = SIPPeer(.tcp, host: "192.0.2.10", port: 40_001)

func parse(_ text: String) -> SIPMessage {
    try! SIPParser.parse(datagram: Array(text.replacingOccurrences(of: "\n", with: "\r\n").utf8))
}

func request(_ text: String) -> SIPRequest {
    guard case .request(let request) = parse(text) else { fatalError("not a request") }
    return request
}

func sdp(port: Int, address: String = "192.0.2.10", family: String = "IP4") -> String {
    "v=0\no=- 1 1 IN \(family) \(address)\ns=-\nc=IN \(family) \(address)\nt=0 0\nm=audio \(port) RTP/AVP 0 101\na=rtpmap:101 telephone-event/8000\n"
}

func withBody(_ head: String, _ body: String) -> String {
    head + "Content-Type: application/sdp\nContent-Length: \(body.replacingOccurrences(of: "\n", with: "\r\n").utf8.count)\n\n" + body
}

let ourKey = SRTPKey(concatenated: Array(0..<30))!
let theirKey = SRTPKey(concatenated: Array(100..<130))!

/// A caller's INVITE from the trunk, with an offer (or a late offer: none).
func callerInvite(offer: Bool = true, sdp body: String? = nil, transport: String = "UDP") -> SIPRequest {
    let head = """
    INVITE sip:2000@127.0.0.1 SIP/2.0
    Via: SIP/2.0/\(transport) 192.0.2.10:5062;branch=z9hG4bKcaller1
    Max-Forwards: 70
    From: "Alice" <sip:+15550100@192.0.2.10>;tag=alice
    To: <sip:2000@127.0.0.1>
    Call-ID: call-1@192.0.2.10
    CSeq: 1 INVITE
    Contact: <sip:+15550100@192.0.2.10:5062>

    """
    return request(offer ? withBody(head, body ?? sdp(port: 40_000)) : head + "Content-Length: 0\n\n")
}

func inDialog(_ method: String, cseq: Int, body: String? = nil, toTag: String = "us1") -> SIPRequest {
    let head = """
    \(method) sip:switchboard@127.0.0.1:5060 SIP/2.0
    Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK\(method.lowercased())\(cseq)
    Max-Forwards: 70
    From: "Alice" <sip:+15550100@192.0.2.10>;tag=alice
    To: <sip:2000@127.0.0.1>;tag=\(toTag)
    Call-ID: call-1@192.0.2.10
    CSeq: \(cseq) \(method)

    """
    return request(body.map { withBody(head, $0) } ?? head + "Content-Length: 0\n\n")
}

func serverID(_ request: SIPRequest) -> ServerTransactionID { TransactionLayer.serverID(request)! }

extension Array where Element == LegAction {
    /// The response of the first `respond` action, and the request of the first `send`.
    var response: SIPResponse? { lazy.compactMap { if case .respond(let response, _) = $0 { response } else { nil } }.first }
    var sent: SIPRequest? { lazy.compactMap { if case .send(let request, _) = $0 { request } else { nil } }.first }
    var acknowledgement: SIPRequest? { lazy.compactMap { if case .sendACK(let request, _) = $0 { request } else { nil } }.first }
}

/// The caller's CANCEL of its INVITE (the INVITE's branch, its own CSeq method).
func callerCancel() -> SIPRequest {
    request("""
        CANCEL sip:2000@127.0.0.1 SIP/2.0
        Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKcaller1
        Max-Forwards: 70
        From: "Alice" <sip:+15550100@192.0.2.10>;tag=alice
        To: <sip:2000@127.0.0.1>
        Call-ID: call-1@192.0.2.10
        CSeq: 1 CANCEL
        Content-Length: 0


        """)
}
