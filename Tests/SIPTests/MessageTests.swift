import Testing

@testable import SIP

/// Lines joined with CRLF, a blank line after the headers, then the body.
func sipBytes(_ lines: [String], body: String = "") -> [UInt8] {
    Array((lines.joined(separator: "\r\n") + "\r\n\r\n" + body).utf8)
}

let basicInvite = [
    "INVITE sip:2000@127.0.0.1 SIP/2.0",
    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK776asdhds",
    "Max-Forwards: 70",
    "To: <sip:2000@127.0.0.1>",
    "From: \"Customer\" <sip:+15551234@127.0.0.1>;tag=1928301774",
    "Call-ID: a84b4c76e66710@pc33",
    "CSeq: 314159 INVITE",
    "Contact: <sip:customer@127.0.0.1:5070>",
    "Content-Type: application/sdp",
    "Content-Length: 4",
]

@Suite struct MessageSyntax {
    @Test func aRequestParsesToItsStartLineHeadersAndBody() throws {
        let message = try SIPParser.parse(datagram: sipBytes(basicInvite, body: "v=0\n"))
        guard case .request(let request) = message else { Issue.record("not a request"); return }
        #expect(request.method == .invite)
        #expect(request.requestURI == "sip:2000@127.0.0.1")
        #expect(request.uri?.user == "2000")
        #expect(request.callID == "a84b4c76e66710@pc33")
        #expect(request.cseq == SIPCSeq(number: 314159, method: .invite))
        #expect(request.from?.displayName == "Customer")
        #expect(request.from?.tag == "1928301774")
        #expect(request.to?.tag == nil)
        #expect(request.topVia?.branch == "z9hG4bK776asdhds")
        #expect(request.topVia?.port == 5070)
        #expect(request.body == Array("v=0\n".utf8))
    }

    @Test func compactHeaderNamesAreTheLongOnes() throws {
        let lines = [
            "OPTIONS sip:x@example.com SIP/2.0", "v: SIP/2.0/TCP host.example.com;branch=z9hG4bKa",
            "t: sip:x@example.com", "f: sip:y@example.com;tag=1", "i: abc", "CSEQ: 1 OPTIONS", "l: 0",
        ]
        let message = try SIPParser.parse(datagram: sipBytes(lines))
        #expect(message.headers["Via"] != nil)
        #expect(message.headers["call-id"] == "abc")
        #expect(message.headers.fields.map(\.name) == ["Via", "To", "From", "Call-ID", "CSeq", "Content-Length"])
    }

    @Test func aFoldedLineContinuesTheValueAboveIt() throws {
        var lines = basicInvite
        lines[5] = "Call-ID: a84b4c76e66710@pc33"
        lines.insert("Subject: I know you're there,", at: 6)
        lines.insert("         pick up the phone", at: 7)
        lines[lines.count - 1] = "Content-Length: 0"
        let message = try SIPParser.parse(datagram: sipBytes(lines))
        #expect(message.headers["Subject"] == "I know you're there, pick up the phone")
    }

    @Test func severalViaFieldsAndCommaListsGiveEachValue() throws {
        var lines = basicInvite
        lines.insert("Via: SIP/2.0/UDP a.example.com;branch=z9hG4bK1, SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bK2", at: 2)
        lines[lines.count - 1] = "Content-Length: 0"
        let message = try SIPParser.parse(datagram: sipBytes(lines))
        let vias = message.headers.values("Via")
        #expect(vias.count == 3)
        let last = try SIPVia(parsing: vias[2])
        #expect(last.host == "2001:db8::9")
        #expect(last.port == 5061)
        #expect(last.transport == "TCP")
    }

    @Test func aSerializedMessageParsesBackToItself() throws {
        let message = try SIPParser.parse(datagram: sipBytes(basicInvite, body: "v=0\n"))
        #expect(try SIPParser.parse(datagram: message.serialized()) == message)
    }

    @Test func aResponseCopiesTheRequestsIdentityAndAddsTheToTag() throws {
        guard case .request(let request) = try SIPParser.parse(datagram: sipBytes(basicInvite, body: "v=0\n")) else {
            return
        }
        let response = SIPResponse(answering: request, status: 180, toTag: "as83kd")
        #expect(response.reason == "Ringing")
        #expect(response.to?.tag == "as83kd")
        #expect(response.callID == request.callID)
        #expect(response.cseq == request.cseq)
        let parsed = try SIPParser.parse(datagram: response.serialized())
        #expect(parsed.serialized() == response.serialized())
        #expect(parsed.headers["Content-Length"] == "0")
    }

    @Test func overUDPExtraBytesPastContentLengthAreDropped() throws {
        let message = try SIPParser.parse(datagram: sipBytes(basicInvite, body: "v=0\nextra"))
        #expect(message.body == Array("v=0\n".utf8))
    }

    @Test func overUDPAContentLengthPastTheDatagramIsRefusedWith400() {
        #expect(throws: SIPParseError.self) { try SIPParser.parse(datagram: sipBytes(basicInvite, body: "v=")) }
        do { _ = try SIPParser.parse(datagram: sipBytes(basicInvite, body: "v=")) } catch { #expect(error.status == 400) }
    }

    @Test func aMissingCallIDIsRefusedWith400() {
        let lines = basicInvite.filter { !$0.hasPrefix("Call-ID") }
        #expect(throws: SIPParseError.missingHeader("Call-ID")) { try SIPParser.parse(datagram: sipBytes(lines, body: "v=0\n")) }
    }

    @Test func aCSeqMethodThatIsNotTheRequestsIsRefused() {
        var lines = basicInvite
        lines[6] = "CSeq: 314159 BYE"
        #expect(throws: SIPParseError.methodMismatch("INVITE with CSeq 314159 BYE")) {
            try SIPParser.parse(datagram: sipBytes(lines, body: "v=0\n"))
        }
    }

    @Test func anotherSIPVersionIsRefusedWith505() {
        var lines = basicInvite
        lines[0] = "INVITE sip:2000@127.0.0.1 SIP/7.0"
        do {
            _ = try SIPParser.parse(datagram: sipBytes(lines, body: "v=0\n"))
            Issue.record("parsed")
        } catch {
            #expect(error == .unsupportedVersion("SIP/7.0"))
            #expect(error.status == 505)
        }
    }

    @Test func aTelURIParsesAsARequestButIsNotASIPURI() throws {
        var lines = basicInvite
        lines[0] = "INVITE tel:+15551234 SIP/2.0"
        guard case .request(let request) = try SIPParser.parse(datagram: sipBytes(lines, body: "v=0\n")) else { return }
        #expect(request.uri == nil)
        #expect(throws: SIPParseError.unsupportedURIScheme("tel:+15551234")) { try SIPURI(parsing: request.requestURI) }
    }

    @Test func aDatagramLargerThanAnyMessageIsRefusedWith513() {
        let huge = [UInt8](repeating: 65, count: SIPParser.maximumMessageSize + 1)
        do { _ = try SIPParser.parse(datagram: huge) } catch { #expect(error.status == 513) }
    }
}

@Suite struct StreamFraming {
    @Test func messagesSplitAnywhereAcrossReadsComeOutWhole() throws {
        let one = sipBytes(basicInvite, body: "v=0\n")
        let stream = Array("\r\n\r\n".utf8) + one + one
        for cut in stride(from: 1, to: stream.count, by: 7) {
            var framer = SIPStreamFramer()
            var messages: [SIPMessage] = []
            framer.append(stream[..<cut])
            while let message = try framer.next() { messages.append(message) }
            framer.append(stream[cut...])
            while let message = try framer.next() { messages.append(message) }
            #expect(messages.count == 2)
            #expect(messages.allSatisfy { $0.body == Array("v=0\n".utf8) })
        }
    }

    @Test func aFramerHoldsAPartialMessageUntilItIsWholeAndKeepAliveCRLFsAreNotOne() throws {
        let one = sipBytes(basicInvite, body: "v=0\n")
        var framer = SIPStreamFramer()
        framer.append(Array("\r\n\r\n".utf8))
        #expect(try framer.next() == nil)
        #expect(!framer.holdsPartialMessage)
        framer.append(one[..<20])
        #expect(try framer.next() == nil)
        #expect(framer.holdsPartialMessage)
        framer.append(one[20...])
        #expect(try framer.next() != nil)
        #expect(!framer.holdsPartialMessage)
    }

    @Test func aStreamMessageWithoutContentLengthIsRefused() {
        var framer = SIPStreamFramer()
        framer.append(sipBytes(basicInvite.filter { !$0.hasPrefix("Content-Length") }))
        #expect(throws: SIPParseError.self) { try framer.next() }
    }

    @Test func aFramedMessageThatIsNotValidSIPIsRefusedAndTheStreamGoesOn() throws {
        let good = sipBytes(basicInvite, body: "v=0\n")
        let wrongVersion = sipBytes(basicInvite.map { $0.replacingOccurrences(of: " SIP/2.0", with: " SIP/7.0") }, body: "v=0\n")
        var framer = SIPStreamFramer()
        framer.append(wrongVersion + good)
        guard case .refused(let bytes, let error) = try framer.nextFramed() else { Issue.record("not refused"); return }
        #expect(error.status == 505)
        #expect(bytes == wrongVersion)
        #expect(SIPParser.errorResponse(to: bytes, error: error)?.status == 505)
        guard case .message = try framer.nextFramed() else { Issue.record("the next message was lost"); return }
        #expect(!framer.holdsPartialMessage)
    }

    @Test func twoContentLengthsThatDisagreeBreakTheFramingAndTwoThatAgreeOnlyTheMessage() throws {
        var framer = SIPStreamFramer()
        framer.append(sipBytes(basicInvite + ["Content-Length: 4"], body: "v=0\n"))
        guard case .refused(_, let error) = try framer.nextFramed() else { Issue.record("not refused"); return }
        #expect(error == .duplicateHeader("Content-Length"))
        var broken = SIPStreamFramer()
        broken.append(sipBytes(basicInvite.filter { !$0.hasPrefix("Content-Length") } + ["Content-Length: 4", "l: 0"]))
        #expect(throws: SIPParseError.self) { try broken.nextFramed() }
    }

    @Test func aStreamThatNeverEndsItsHeadersIsRefusedOnceTooLarge() {
        var framer = SIPStreamFramer()
        framer.append(Array("INVITE sip:a@b SIP/2.0\r\nX: ".utf8))
        framer.append([UInt8](repeating: 65, count: SIPParser.maximumMessageSize))
        #expect(throws: SIPParseError.self) { try framer.next() }
    }
}

@Suite struct URIs {
    @Test func aFullSIPURIParses() throws {
        let uri = try SIPURI(parsing: "sips:alice%20b:secret@[2001:db8::10]:5061;transport=tcp;lr?subject=hi&x=y")
        #expect(uri.secure)
        #expect(uri.user == "alice b")
        #expect(uri.password == "secret")
        #expect(uri.host == "2001:db8::10")
        #expect(uri.port == 5061)
        #expect(uri.parameters["transport"] == .some("tcp"))
        #expect(uri.parameters["lr"] == .some(nil))
        #expect(uri.headers.map(\.name) == ["subject", "x"])
    }

    @Test func aUserPartMayHoldSemicolonsAndQuestionMarks() throws {
        let uri = try SIPURI(parsing: "sip:+1-212-555-1212;phone-context=x@example.com;user=phone")
        #expect(uri.user == "+1-212-555-1212;phone-context=x")
        #expect(uri.host == "example.com")
        #expect(uri.parameters["user"] == .some("phone"))
    }

    @Test func badHostsAndPortsAreRefused() {
        for text in ["sip:a@", "sip:a@b:99999", "sip:a@-b.com", "sip:a@[zz::1]", "sip:a@b:", "sip:a b@c", "sip:a@b%zz"] {
            #expect(throws: SIPParseError.self, "\(text)") { try SIPURI(parsing: text) }
        }
    }
}
