import Foundation
import Testing

@testable import SIP

/// RFC 4475's torture messages (Fixtures/torture, made by make_torture.py), each a test: the valid
/// ones parse to the fields in expected.json; the invalid ones are refused with the response the
/// RFC asks for (or dropped, for responses); the semantic ones parse and then get what a UAS or
/// registrar owes them.
struct TortureCase: Decodable, CustomTestStringConvertible, Sendable {
    struct CSeq: Decodable, Sendable {
        var number: UInt32
        var method: String
    }

    var name: String
    var section: String
    var kind: String
    var isRequest: Bool?
    var method: String?
    var status: Int?
    var requestURI: String?
    var callID: String?
    var cseq: CSeq?
    var vias: Int?
    var bodyBytes: Int?
    var response: Int?

    var testDescription: String { "\(section) \(name)" }

    static let all: [TortureCase] = {
        let url = Bundle.module.url(forResource: "Fixtures/torture/expected", withExtension: "json")!
        return try! JSONDecoder().decode([TortureCase].self, from: Data(contentsOf: url))
    }()

    var bytes: [UInt8] {
        let url = Bundle.module.url(forResource: "Fixtures/torture/\(name)", withExtension: "sip")!
        return [UInt8](try! Data(contentsOf: url))
    }
}

/// What the server answers a torture request that parsed: the UAS checks, then for REGISTER the
/// registrar's own (an AOR must be a SIP URI; credentials are asked for).
func serverAnswer(_ request: SIPRequest) -> Int {
    let policy = UASPolicy(allowed: [.invite, .ack, .bye, .cancel, .options, .register, .info, .update, .refer])
    if let refusal = policy.refusal(of: request, toTag: "t") { return refusal.status }
    if request.method == .register {
        guard request.to?.uri != nil else { return 400 }
        var authenticator = DigestAuthenticator(realm: "switchboard")
        switch authenticator.verify(request, now: .zero, credential: { _ in nil }) {
        case .missing, .rejected, .stale, .replayed: return 401
        case .authenticated: return 200
        }
    }
    return 200
}

@Suite struct RFC4475Torture {
    // Messages the RFC lets an element accept leniently: either outcome is right.
    static let lenient: Set<String> = ["baddate", "escruri", "regbadct", "badaspec"]

    @Test(arguments: TortureCase.all.filter { $0.kind == "valid" })
    func aValidTortureMessageParsesToItsFields(_ torture: TortureCase) throws {
        let message = try SIPParser.parse(datagram: torture.bytes)
        switch message {
        case .request(let request):
            #expect(torture.isRequest == true)
            #expect(request.method.description == torture.method)
            #expect(request.requestURI == torture.requestURI)
        case .response(let response):
            #expect(torture.isRequest == false)
            #expect(response.status == torture.status)
        }
        #expect(message.callID == torture.callID)
        #expect(message.cseq?.number == torture.cseq?.number)
        #expect(message.cseq?.method.description == torture.cseq?.method)
        #expect(message.headers.values("Via").count == torture.vias)
        #expect(message.body.count == torture.bodyBytes)
        // And it says the same once written back out.
        #expect(try SIPParser.parse(datagram: message.serialized()).serialized() == message.serialized())
    }

    @Test(arguments: TortureCase.all.filter { $0.kind == "invalid" })
    func anInvalidTortureMessageIsRefusedAsTheRFCSays(_ torture: TortureCase) throws {
        let outcome = Result { () throws(SIPParseError) in try SIPParser.parse(datagram: torture.bytes) }
        switch outcome {
        case .success(let message):
            #expect(Self.lenient.contains(torture.name), "\(torture.name) parsed")
            if case .request(let request) = message { #expect(serverAnswer(request) == 200) }
        case .failure(let error):
            let answer = SIPParser.errorResponse(to: torture.bytes, error: error)
            if let expected = torture.response {
                // mismatch02: 501 or 400, the RFC allows either.
                let allowed = torture.name == "mismatch02" ? [400, 501] : [expected]
                #expect(answer.map { allowed.contains($0.status) } == true, "\(torture.name): \(error)")
            } else {
                #expect(answer == nil, "\(torture.name): a response is never answered")
            }
        }
    }

    @Test(arguments: TortureCase.all.filter { $0.kind == "semantic" })
    func aSemanticTortureMessageGetsWhatAUASOwesIt(_ torture: TortureCase) throws {
        let outcome = Result { () throws(SIPParseError) in try SIPParser.parse(datagram: torture.bytes) }
        switch (torture.name, outcome) {
        case ("insuf", .failure(let error)), ("multi01", .failure(let error)):
            #expect(SIPParser.errorResponse(to: torture.bytes, error: error)?.status == 400)
        case ("bcast", .success(.response(let response))):
            // A response no transaction waits for is dropped.
            var layer = TransactionLayer()
            #expect(layer.receive(.response(response), from: SIPPeer(.udp, host: "127.0.0.1", port: 5060)) == [])
        case ("zeromf", .success(.request(let request))):
            // Max-Forwards 0 stops a proxy (483); an endpoint answers the OPTIONS itself.
            #expect(serverAnswer(request) == 200)
        case ("cparam01", .success(.request(let request))), ("cparam02", .success(.request(let request))),
            ("regescrt", .success(.request(let request))):
            var registrar = Registrar()
            let (response, _) = registrar.register(
                request, user: request.to?.uri?.user ?? "", from: SIPPeer(.udp, host: "127.0.0.1", port: 5060), now: .zero,
                toTag: "t")
            #expect(response.status == 200)
            let user = request.to?.uri?.user ?? ""
            #expect(registrar.contacts(of: user).count == 1)
        case ("inv2543", .success(.request(let request))):
            #expect(serverAnswer(request) == 200)
            #expect(TransactionLayer.serverID(request) != nil)
        case (_, .success(.request(let request))):
            #expect(serverAnswer(request) == torture.response, "\(torture.name)")
        case (_, .success(.response)), (_, .failure):
            Issue.record("\(torture.name): \(outcome)")
        }
    }

    @Test func theCorpusIsComplete() {
        #expect(TortureCase.all.count == 49)
    }
}
