import CallControl
import Center
import Foundation
import Media
import MediaService
import NIOCore
import NIOPosix
import SIP
import Store
import Synchronization
import Testing

@testable import SIPTelephony

/// A SIP peer on a loopback UDP port: sends requests to the server and reads what comes back.
final class TestPhone: Sendable {
    typealias Datagram = AddressedEnvelope<ByteBuffer>
    let channel: NIOAsyncChannel<Datagram, Datagram>
    let port: Int
    let server: SocketAddress
    private let inbox = Mailbox<SIPMessage>()
    private let reader: Task<Void, Never>
    private let writer: NIOAsyncChannelOutboundWriter<Datagram>

    let host: String

    /// `host`: any loopback address (127.0.0.2… stand for other machines).
    init(serverPort: Int, host: String = "127.0.0.1") async throws {
        self.host = host
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: host, port: 0) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<Datagram, Datagram>(wrappingChannelSynchronously: channel) }
            }
        self.channel = channel
        port = channel.channel.localAddress?.port ?? 0
        server = try SocketAddress(ipAddress: "127.0.0.1", port: serverPort)
        writer = channel.outbound
        let inbox = inbox
        reader = Task {
            do {
                for try await datagram in channel.inbound {
                    guard let message = try? SIPParser.parse(datagram: Array(buffer: datagram.data)) else { continue }
                    inbox.put(message)
                }
            } catch {}
        }
    }

    func close() async {
        reader.cancel()
        try? await channel.channel.close()
    }

    func send(_ message: SIPMessage) async throws {
        try await writer.write(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: message.serialized())))
    }

    /// The next message from the server; nil if none comes within 5 s (a guard so a broken server
    /// fails the test instead of hanging it; no test waits on it to pass).
    func next() async -> SIPMessage? { await inbox.take { _ in true } }

    /// Sends `message` and reads until a final response comes; returns everything read.
    func exchange(_ message: SIPMessage) async throws -> [SIPMessage] {
        try await send(message)
        var received: [SIPMessage] = []
        while let next = await next() {
            received.append(next)
            if case .response(let response) = next, response.status >= 200 { break }
        }
        return received
    }

    func request(_ method: SIPMethod, to uri: String, from user: String, callID: String, cseq: UInt32, body: String = "",
                 extra: [(String, String)] = []) -> SIPRequest {
        var headers = SIPHeaders()
        headers.add("Via", "SIP/2.0/UDP \(host):\(port);branch=z9hG4bK\(callID)\(cseq)\(method)")
        headers.add("Max-Forwards", "70")
        headers.add("From", "<sip:\(user)@\(host)>;tag=phone\(callID)")
        headers.add("To", "<\(uri)>")
        headers.add("Call-ID", callID)
        headers.add("CSeq", "\(cseq) \(method)")
        headers.add("Contact", "<sip:\(user)@\(host):\(port)>")
        for (name, value) in extra { headers.add(name, value) }
        if !body.isEmpty { headers.add("Content-Type", "application/sdp") }
        return SIPRequest(method: method, requestURI: uri, headers: headers, body: Array(body.utf8))
    }
}

/// The server with SIP on a free loopback port, a manual clock, an in-memory log.
struct SIPServerFixture {
    let clock = ManualClock()
    let telephony: SIPTelephony
    let center: ContactCenter
    let port: Int
    let running: Task<Void, any Error>

    let store: InMemoryEventStore

    /// `store`: a store the last run left (a restart), else a new one. `sipPort` and `rtpPorts`: the
    /// last run's, for a restart (0: a free port).
    /// `qualify`: how often registered phones are sent an OPTIONS (off unless a test is about it,
    /// as the other tests' phones do not answer them).
    init(store: InMemoryEventStore = InMemoryEventStore(), sipPort: Int = 0, rtpPorts: ClosedRange<Int>? = nil,
         qualify: Duration? = nil) async throws {
        self.store = store
        var settings = SIPSettings.demo(host: "127.0.0.1", port: sipPort, agents: ["agent1", "agent2"])
        settings.timers = SIPTimerValues()
        settings.qualifyInterval = qualify
        if let rtpPorts { settings.rtpPorts = rtpPorts }
        telephony = SIPTelephony(settings: settings, clock: clock, records: store)
        // No desktops here: their grace period (idle once all are closed) is out of these tests' way.
        center = try await ContactCenter(
            configuration: .demo(passwordHash: ""), store: store, telephony: telephony, clock: clock,
            desktopGrace: .seconds(86_400))
        await center.start()
        let telephony = telephony
        running = Task { try await telephony.run() }
        port = try await telephony.ready()
    }

    func stop() async {
        running.cancel()
        _ = await running.result
        await center.stop()
    }

    /// Waits (bounded, by yielding, never by sleeping) until `condition` holds.
    func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<20_000 {
            if await condition() { return true }
            await Task.yield()
        }
        return false
    }
}

let pcmuOffer = "v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n"

@Suite(.serialized) struct SIPOverTheWire {
    func register(
        _ phone: TestPhone, _ server: SIPServerFixture, expires: Int, password: String = "switchboard", callID: String = "reg1"
    ) async throws -> SIPResponse? {
        guard let second = try await authorizedRegister(phone, server, expires: expires, password: password, callID: callID) else {
            return nil
        }
        let answers = try await phone.exchange(.request(second))
        guard case .response(let ok) = answers.last else { return nil }
        return ok
    }

    /// A REGISTER answering the server's SHA-256 challenge, not yet sent.
    func authorizedRegister(
        _ phone: TestPhone, _ server: SIPServerFixture, expires: Int, password: String = "switchboard", callID: String = "reg1"
    ) async throws -> SIPRequest? {
        let first = phone.request(.register, to: "sip:127.0.0.1:\(server.port)", from: "agent1", callID: callID, cseq: 1,
                                  extra: [("Expires", String(expires))])
        var challenged = first
        challenged.headers.set("To", "<sip:agent1@127.0.0.1>")
        let challenge = try await phone.exchange(.request(challenged))
        guard case .response(let unauthorized) = challenge.last, unauthorized.status == 401 else { return nil }
        let offered = unauthorized.headers.values("WWW-Authenticate")
        #expect(offered.count == 2)
        #expect(offered.first?.contains("MD5") == true, "MD5 first: what simple phones answer")
        // A phone that prefers SHA-256 takes the second challenge.
        let fields = DigestAuthenticator.parameters(offered[1])!
        let ha1 = DigestCredential(username: "agent1", realm: "switchboard", password: password).ha1[.sha256]!
        let uri = "sip:127.0.0.1:\(server.port)"
        let response = DigestAuthenticator.response(
            .sha256, ha1: ha1, nonce: fields["nonce"]!, qop: ("00000001", "abc"), method: "REGISTER", uri: uri)
        var second = phone.request(.register, to: uri, from: "agent1", callID: callID, cseq: 2, extra: [("Expires", String(expires))])
        second.headers.set("To", "<sip:agent1@127.0.0.1>")
        second.headers.add("Authorization", "Digest username=\"agent1\", realm=\"switchboard\", nonce=\"\(fields["nonce"]!)\", uri=\"\(uri)\", response=\"\(response)\", algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"abc\"")
        return second
    }

    @Test func aPhoneRegistersWithDigestAndAnExpiredRegistrationMakesItsAvailableAgentIdle() async throws {
        let server = try await SIPServerFixture()
        let phone = try await TestPhone(serverPort: server.port)
        let ok = try await register(phone, server, expires: 60)
        #expect(ok?.status == 200)
        #expect(ok?.headers.values("Contact").first?.hasSuffix(";expires=60") == true)
        #expect(await server.telephony.phoneAvailable(for: "agent1"))

        _ = try await server.center.execute(.agent("agent1", .login))
        _ = try await server.center.execute(.agent("agent1", .setAnswerMode(.phone)))
        _ = try await server.center.execute(.agent("agent1", .setAvailable))
        server.clock.advance(by: 61_000)
        let idle = await server.eventually {
            await server.center.agent("agent1")?.status == .idle(CenterConfiguration.phoneLostIdleCode)
        }
        #expect(idle)
        #expect(await !server.telephony.phoneAvailable(for: "agent1"))
        await server.stop()
    }

    @Test func aCustomerINVITEIsAnsweredOnceQueuedAndItsBYEEndsTheCall() async throws {
        let server = try await SIPServerFixture()
        let customer = try await TestPhone(serverPort: server.port)
        let invite = customer.request(
            .invite, to: "sip:2000@127.0.0.1:\(server.port)", from: "15551234", callID: "call1", cseq: 1, body: pcmuOffer)
        let answers = try await customer.exchange(.request(invite))
        let statuses = answers.compactMap { if case .response(let r) = $0 { r.status } else { nil } }
        #expect(statuses.first == 100)
        #expect(statuses.last == 200)
        guard case .response(let ok) = answers.last else { return }
        let sdp = try SessionDescription(parsing: ok.body)
        #expect(sdp.address == "127.0.0.1")
        #expect((20_000...29_999).contains(sdp.port))
        #expect(sdp.codecs.map(\.encoding) == ["PCMU/8000", "telephone-event/8000"])
        #expect(await server.center.waiting(in: "sales").count == 1)

        var ack = customer.request(.ack, to: "sip:switchboard@127.0.0.1", from: "15551234", callID: "call1", cseq: 1)
        ack.headers.set("To", ok.headers["To"])
        try await customer.send(.request(ack))
        var bye = customer.request(.bye, to: "sip:switchboard@127.0.0.1", from: "15551234", callID: "call1", cseq: 2)
        bye.headers.set("To", ok.headers["To"])
        let byeAnswer = try await customer.exchange(.request(bye))
        guard case .response(let byeOK) = byeAnswer.last else { Issue.record("no answer to BYE"); return }
        #expect(byeOK.status == 200)
        #expect(await server.eventually { await server.center.waiting(in: "sales").isEmpty })
        await server.stop()
    }

    @Test func anUnknownNumberGets404AndAnOfferWithoutACommonCodecGets488() async throws {
        let server = try await SIPServerFixture()
        let customer = try await TestPhone(serverPort: server.port)
        let unknown = customer.request(.invite, to: "sip:9999@127.0.0.1", from: "15551234", callID: "c404", cseq: 1, body: pcmuOffer)
        let notFound = try await customer.exchange(.request(unknown))
        #expect(notFound.compactMap { if case .response(let r) = $0 { r.status } else { nil } }.last == 404)
        let g729 = pcmuOffer.replacingOccurrences(of: "RTP/AVP 0 101", with: "RTP/AVP 18")
        let noCodec = customer.request(.invite, to: "sip:2000@127.0.0.1", from: "15551234", callID: "c488", cseq: 1, body: g729)
        let refused = try await customer.exchange(.request(noCodec))
        #expect(refused.compactMap { if case .response(let r) = $0 { r.status } else { nil } }.last == 488)
        await server.stop()
    }

    /// A customer's call answered (queued), with its SDP naming `media`; then the process dies
    /// (nothing cleaned up, only the store left) once the customer hears the music. Returns the 200
    /// OK, the call's media port and the SSRC of the music the customer heard.
    func callThenCrash(_ first: SIPServerFixture, customer: TestPhone, callID: String, media: RTPListener) async throws
        -> (SIPResponse, Int, UInt32)?
    {
        let offer = pcmuOffer.replacingOccurrences(of: "m=audio 40000", with: "m=audio \(media.port)")
        let invite = customer.request(.invite, to: "sip:2000@127.0.0.1:\(first.port)", from: "15551234", callID: callID, cseq: 1, body: offer)
        let answers = try await customer.exchange(.request(invite))
        guard case .response(let ok) = answers.last, ok.status == 200, let sdp = try? SessionDescription(parsing: ok.body) else {
            Issue.record("not answered")
            return nil
        }
        var ack = customer.request(.ack, to: "sip:switchboard@127.0.0.1", from: "15551234", callID: callID, cseq: 1)
        ack.headers.set("To", ok.headers["To"])
        try await customer.send(.request(ack))
        #expect(try await first.store.lines().count == 1)
        #expect(await first.center.waiting(in: "sales").count == 1)
        guard let heard = await media.first(where: { _ in true }) else {
            Issue.record("the queued customer heard no music before the crash")
            return nil
        }
        first.running.cancel()
        _ = await first.running.result
        return (ok, sdp.port, heard.ssrc)
    }

    @Test func afterACrashACallTheCenterStillHoldsCarriesOnInItsDialogAndOnItsMediaPort() async throws {
        let ports = 30_000...30_099  // this test's own: no other test's leg (20000–29999) and no bind to port 0 (32768 and up) takes the port while the server is down
        let first = try await SIPServerFixture(rtpPorts: ports)
        let customer = try await TestPhone(serverPort: first.port)
        let media = try await RTPListener()
        guard let (ok, port, ssrc) = try await callThenCrash(first, customer: customer, callID: "crash1", media: media) else { return }

        let second = try await SIPServerFixture(store: first.store, sipPort: first.port, rtpPorts: ports)
        #expect(await second.center.waiting(in: "sales").count == 1, "the call is still in its queue")
        let task = try #require(await second.center.tasks(for: nil).first?.id)
        let key = MediaEngine.LegKey(InteractionID(task), .customer)
        #expect(await second.telephony.endpoint.media.figures(key)?.port == port, "the leg's RTP port is bound again")
        // The queued customer hears the music again, from the port the customer was given, in a
        // new stream (a new SSRC: the phone must not take it for the old one's continuation).
        let heard = await media.first { $0.ssrc != ssrc }
        #expect(heard?.sourcePort == port)
        #expect(heard?.payloadType == 0)
        #expect(try await second.store.lines().count == 1, "the leg is still written down")

        // The dialog is known: the customer's BYE is answered, and ends the call.
        var bye = customer.request(.bye, to: "sip:switchboard@127.0.0.1", from: "15551234", callID: "crash1", cseq: 2)
        bye.headers.set("To", ok.headers["To"])
        let answers = try await customer.exchange(.request(bye))
        #expect(!answers.contains { if case .request = $0 { true } else { false } }, "no BYE came from the server")
        guard case .response(let byeOK) = answers.last else { Issue.record("no answer to BYE"); return }
        #expect(byeOK.status == 200)
        #expect(await second.eventually { await second.center.waiting(in: "sales").isEmpty })
        #expect(await second.eventually { (try? await second.store.lines().isEmpty) == true })
        await second.stop()
        await first.center.stop()
        await media.close()
    }

    @Test func afterACrashALegWhoseMediaPortIsTakenGetsABYEAndItsCallEnds() async throws {
        let ports = 30_100...30_199
        let first = try await SIPServerFixture(rtpPorts: ports)
        let customer = try await TestPhone(serverPort: first.port)
        let media = try await RTPListener()
        guard let (ok, port, _) = try await callThenCrash(first, customer: customer, callID: "crash2", media: media) else { return }
        let squatter = try await RTPListener(port: port)  // someone else holds the port now

        let second = try await SIPServerFixture(store: first.store, sipPort: first.port, rtpPorts: ports)
        guard case .request(let bye) = await customer.next() else { Issue.record("no BYE after the restart"); return }
        #expect(bye.method == .bye)
        #expect(bye.callID == "crash2")
        #expect(bye.from?.tag == ok.to?.tag)
        try await customer.send(.response(SIPResponse(answering: bye, status: 200)))
        #expect(await second.eventually { await second.center.waiting(in: "sales").isEmpty })
        #expect(await second.eventually { (try? await second.store.lines().isEmpty) == true })
        await second.stop()
        await first.center.stop()
        await media.close()
        await squatter.close()
    }

    @Test func aCallFromAnAgentsOwnPhoneIsRefusedWith403ForTheDesktop() async throws {
        let server = try await SIPServerFixture()
        let phone = try await TestPhone(serverPort: server.port)
        #expect(try await register(phone, server, expires: 600)?.status == 200)
        let second = phone.request(.invite, to: "sip:2000@127.0.0.1:\(server.port)", from: "agent1", callID: "own", cseq: 1, body: pcmuOffer)
        let answers = try await phone.exchange(.request(second))
        guard case .response(let refusal) = answers.last else { Issue.record("no answer"); return }
        #expect(refusal.status == 403)
        #expect(refusal.reason.contains("Agent Desktop"))
        #expect(await server.center.waiting(in: "sales").isEmpty)
        await server.stop()
    }
}

/// A UDP socket on loopback that keeps the RTP packets it receives (for a leg's media).
final class RTPListener: Sendable {
    typealias Datagram = AddressedEnvelope<ByteBuffer>
    struct Heard: Sendable {
        var sourcePort: Int
        var payloadType: UInt8
        var ssrc: UInt32
    }
    let channel: NIOAsyncChannel<Datagram, Datagram>
    let port: Int
    private let inbox = Mailbox<Heard>()
    private let reader: Task<Void, Never>

    init(port: Int = 0) async throws {
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<Datagram, Datagram>(wrappingChannelSynchronously: channel) }
            }
        self.channel = channel
        self.port = channel.channel.localAddress?.port ?? 0
        let inbox = inbox
        reader = Task {
            do {
                for try await datagram in channel.inbound {
                    guard let packet = try? RTPPacket(parsing: datagram.data.readableBytesView) else { continue }
                    inbox.put(Heard(sourcePort: datagram.remoteAddress.port ?? 0, payloadType: packet.payloadType, ssrc: packet.ssrc))
                }
            } catch {}
        }
    }

    /// The first packet received that matches (taken, with those before it left); nil if none
    /// comes within 5 s.
    func first(where matching: @escaping @Sendable (Heard) -> Bool) async -> Heard? { await inbox.take(where: matching) }

    func close() async {
        reader.cancel()
        try? await channel.channel.close()
    }
}

/// What a test peer has received and not yet read, in order: `take` hands over the first item
/// that matches, waiting for it if needed — for at most 5 s, a guard so that a broken server
/// fails the test instead of hanging it (no test waits on it to pass).
final class Mailbox<Item: Sendable>: Sendable {
    private struct State {
        var unread: [Item] = []
        var waiter: (matching: @Sendable (Item) -> Bool, continuation: CheckedContinuation<Item?, Never>)?
    }
    private let state = Mutex(State())

    func put(_ item: Item) {
        let waiter = state.withLock { state -> CheckedContinuation<Item?, Never>? in
            if let waiter = state.waiter, waiter.matching(item) {
                state.waiter = nil
                return waiter.continuation
            }
            state.unread.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    func take(where matching: @escaping @Sendable (Item) -> Bool) async -> Item? {
        let guardTask = Task {
            do { try await Task.sleep(for: .seconds(5)) } catch { return }
            self.state.withLock { state in
                defer { state.waiter = nil }
                return state.waiter?.continuation
            }?.resume(returning: nil)
        }
        defer { guardTask.cancel() }
        return await withCheckedContinuation { continuation in
            let found = state.withLock { state -> Item? in
                if let index = state.unread.firstIndex(where: matching) { return state.unread.remove(at: index) }
                state.waiter = (matching, continuation)
                return nil
            }
            if let found { continuation.resume(returning: found) }
        }
    }
}
