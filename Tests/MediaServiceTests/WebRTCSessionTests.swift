import CallControl
import Cryptography
import Media
@testable import MediaService
import NIOCore
import NIOPosix
import Synchronization
import Testing
import WebRTC

/// Opens once; waiters return when it has (or when their bound passes: the test then judges).
final class Latch: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func open() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    var isOpen: Bool { state.withLock { $0.open } }

    /// Wakes the waiters without opening (their bound passed).
    private func wake() {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait(bound: Duration = .seconds(10)) async -> Bool {
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withCheckedContinuation { continuation in
                    let open = self.state.withLock { state in
                        if !state.open { state.waiters.append(continuation) }
                        return state.open
                    }
                    if open { continuation.resume() }
                }
            }
            group.addTask {
                try? await Task.sleep(for: bound)  // a bound on the wait, not a wait for state
                self.wake()
            }
            await group.next()
            group.cancelAll()
        }
        return isOpen
    }
}

/// A browser's media side, written for the tests from the RFCs: it offers DTLS-SRTP with its own
/// certificate, checks the server's candidate with STUN (as the controlling agent, nominating),
/// runs DTLS as the client, then sends its tone over SRTP every 20 ms and records what it hears.
final class TestBrowser: Sendable {
    let channel: any Channel
    let certificate: SelfSignedCertificate
    let ufrag = "brws"
    let password = "browser-password-0123456789"
    let frequency: Double
    private let dtls: Mutex<DTLSConnection>
    private let srtp = Mutex<(protect: SRTPContext, unprotect: SRTPContext)?>(nil)
    private let tape = Tape()
    let checked = Latch()
    let connected = Latch()
    private let server = Mutex<(address: SocketAddress, ufrag: String, password: String, fingerprint: String)?>(nil)
    private let sending = Mutex<RepeatedTask?>(nil)

    init(frequency: Double) async throws {
        self.frequency = frequency
        let certificate = try SelfSignedCertificate.make(commonName: "browser", names: [])
        self.certificate = certificate
        let dtls = Mutex(try DTLSConnection(DTLSContext(certificatePEM: certificate.certificatePEM, privateKeyPEM: certificate.privateKeyPEM, isServer: false)))
        self.dtls = dtls
        let holder = Mutex<TestBrowser?>(nil)
        channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Recorder { envelope in
                        holder.withLock { $0 }?.received(Array(envelope.data.readableBytesView))
                    })
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        holder.withLock { $0 = self }
    }

    var offer: String {
        """
        v=0\r
        o=- 1 2 IN IP4 127.0.0.1\r
        s=-\r
        t=0 0\r
        a=group:BUNDLE 0\r
        m=audio 9 UDP/TLS/RTP/SAVPF 111 0 8 126\r
        c=IN IP4 0.0.0.0\r
        a=ice-ufrag:\(ufrag)\r
        a=ice-pwd:\(password)\r
        a=fingerprint:sha-256 \(certificate.fingerprint)\r
        a=setup:actpass\r
        a=mid:0\r
        a=sendrecv\r
        a=rtcp-mux\r
        a=rtpmap:111 opus/48000/2\r
        a=rtpmap:0 PCMU/8000\r
        a=rtpmap:8 PCMA/8000\r
        a=rtpmap:126 telephone-event/8000\r

        """
    }

    /// Reads the server's port, credentials and fingerprint from its answer.
    func use(answer: String) throws {
        func attribute(_ name: String) -> String? {
            answer.split(separator: "\r\n").first { $0.hasPrefix("a=\(name):") }.map { String($0.dropFirst(name.count + 3)) }
        }
        let audio = try #require(answer.split(separator: "\r\n").first { $0.hasPrefix("m=audio ") })
        let port = try #require(Int(audio.split(separator: " ")[1]))
        let fingerprint = try #require(attribute("fingerprint")?.split(separator: " ").last.map(String.init))
        server.withLock {
            $0 = (try! SocketAddress(ipAddress: "127.0.0.1", port: port), attribute("ice-ufrag")!, attribute("ice-pwd")!, fingerprint)
        }
    }

    var serverAddress: SocketAddress? { server.withLock { $0?.address } }

    /// A Binding request as a controlling browser nominating the pair; `password`: whose key signs it.
    func check(password: String? = nil, nominate: Bool = true, from other: (any Channel)? = nil) {
        guard let server = server.withLock({ $0 }) else { return }
        var attributes: [(type: UInt16, value: [UInt8])] = [
            (STUNMessage.Attribute.username.rawValue, Array("\(server.ufrag):\(ufrag)".utf8)),
            (STUNMessage.Attribute.priority.rawValue, [0x6E, 0, 1, 0xFF]),
            (STUNMessage.Attribute.iceControlling.rawValue, SecureRandom.bytes(8)),
        ]
        if nominate { attributes.append((STUNMessage.Attribute.useCandidate.rawValue, [])) }
        let request = STUNMessage(kind: .bindingRequest, transactionID: SecureRandom.bytes(12), attributes: attributes)
        let bytes = request.serialized(integrityKey: Array((password ?? server.password).utf8))
        (other ?? channel).writeAndFlush(AddressedEnvelope(remoteAddress: server.address, data: ByteBuffer(bytes: bytes)), promise: nil)
    }

    func startDTLS() throws {
        for datagram in try dtls.withLock({ try $0.start() }) { write(datagram) }
    }

    func write(_ bytes: [UInt8], from other: (any Channel)? = nil) {
        guard let address = serverAddress else { return }
        (other ?? channel).writeAndFlush(AddressedEnvelope(remoteAddress: address, data: ByteBuffer(bytes: bytes)), promise: nil)
    }

    /// ICE, then DTLS; true once SRTP is keyed.
    /// As a browser does: the check is sent again until answered, and the DTLS flight again when
    /// its timer says (a datagram lost on a busy machine's loopback must not fail the test).
    func connect() async throws -> Bool {
        var answered = false
        for _ in 0..<20 where !answered {
            check()
            answered = await checked.wait(bound: .milliseconds(500))
        }
        guard answered else { return false }
        try startDTLS()
        for _ in 0..<20 {
            if await connected.wait(bound: .milliseconds(500)) { return true }
            for datagram in dtls.withLock({ (try? $0.handleTimeout()) ?? [] }) { write(datagram) }
        }
        return false
    }

    private func received(_ bytes: [UInt8]) {
        switch Datagram(classifying: bytes) {
        case .stun:
            if let response = try? STUNMessage(parsing: bytes), response.kind == .bindingSuccess,
                let password = server.withLock({ $0?.password }),
                STUNMessage.check(bytes, integrityKey: Array(password.utf8)) == .valid
            {
                checked.open()
            }
        case .dtls:
            let (out, keys) = dtls.withLock { dtls -> ([[UInt8]], [UInt8]?) in
                let out = (try? dtls.receive(bytes)) ?? []
                guard dtls.handshakeDone, let fingerprint = server.withLock({ $0?.fingerprint }),
                    let certificate = dtls.peerCertificate(),
                    Hash.digest(.sha256, certificate).map({ Hash.hex([$0]).uppercased() }).joined(separator: ":") == fingerprint
                else { return (out, nil) }
                return (out, try? dtls.srtpKeyingMaterial())
            }
            for datagram in out { write(datagram) }
            if let keys, srtp.withLock({ $0 == nil }) {
                // The client sends with the client's key and salt, and checks with the server's.
                let client = SRTPKey(key: Array(keys[0..<16]), salt: Array(keys[32..<46]))!
                let server = SRTPKey(key: Array(keys[16..<32]), salt: Array(keys[46..<60]))!
                srtp.withLock {
                    $0 = (try! SRTPContext(suite: .aes128HMACSHA1_80, master: client), try! SRTPContext(suite: .aes128HMACSHA1_80, master: server))
                }
                connected.open()
            }
        case .rtp:
            guard let plain = srtp.withLock({ state -> [UInt8]? in
                guard state != nil else { return nil }
                return try? state!.unprotect.unprotect(bytes)
            }), let packet = try? RTPPacket(parsing: plain), let law = G711.Law(payloadType: packet.payloadType) else { return }
            tape.record(G711.decode(packet.payload, law))
        case .rtcp, .unknown:
            break
        }
    }

    /// An SRTP packet of the tone, as the browser would send it (`sequence` chosen by the caller).
    func protectedPacket(sequence: UInt16, generator: inout ToneGenerator) -> [UInt8]? {
        let packet = RTPPacket(payloadType: 0, sequence: sequence, timestamp: UInt32(sequence) * 160, ssrc: 4242,
                               payload: G711.encode(generator.next(), .mu))
        return srtp.withLock { state in
            guard state != nil else { return nil }
            return try? state!.protect.protect(packet.serialized())
        }
    }

    func sendTone() {
        let state = Mutex((ToneGenerator(frequencies: [frequency]), UInt16(0)))
        let task = channel.eventLoop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(20)) { _ in
            let bytes = state.withLock { state -> [UInt8]? in
                state.1 &+= 1
                return self.protectedPacket(sequence: state.1, generator: &state.0)
            }
            if let bytes { self.write(bytes) }
        }
        sending.withLock { $0 = task }
    }

    func clear() { tape.audio.withLock { $0 = [] } }

    func hears(_ frequencies: [String: Double], samples: Int = 8_000) async -> Set<String> {
        await tape.tones(frequencies, samples: samples).found
    }

    var samplesHeard: Int { tape.audio.withLock { $0.count } }

    func stop() async {
        sending.withLock { $0?.cancel() }
        try? await channel.close()
    }
}

/// Sessions' events, kept for the tests to read.
final class SessionEvents: Sendable {
    let events = Mutex<[WebRTCSessionEvent]>([])
    let lost = Latch()
    var handler: @Sendable (WebRTCSessionEvent) -> Void {
        { event in
            self.events.withLock { $0.append(event) }
            if case .lost = event { self.lost.open() }
        }
    }
}

@Suite(.serialized) struct WebRTCSessionTests {
    static let tones: [String: Double] = ["customer": 440, "browser": 1_000]
    let call: InteractionID = "call-w"

    @Test func aBrowserLegIsHeardAndHearsThroughICEDTLSAndSRTPOnOnePort() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 33_000...33_099)
        let browser = try await TestBrowser(frequency: 1_000)
        let events = SessionEvents()
        let answer = try await engine.openWebRTC(try WebRTCOffer(parsing: browser.offer), id: "s1", events: events.handler)
        #expect(answer.contains("a=fingerprint:sha-256 \(engine.webRTCFingerprint)"))
        try browser.use(answer: answer)
        #expect(try await browser.connect(), "ICE and DTLS complete")

        // A phone customer (plain RTP) and the browser as agent1's leg, in conversation.
        let customer = try await TonePhone(frequency: 440)
        let customerKey = MediaEngine.LegKey(call, .customer)
        let customerPort = try await engine.open(customerKey)
        engine.describe(customerKey, remote: ("127.0.0.1", customer.port), law: .mu, eventPayloadType: nil)
        try await engine.attachWebRTC("s1", to: MediaEngine.LegKey(call, .agent("agent1")))
        engine.apply(call, MediaPlan(conversation: [.customer, .agent("agent1")]))
        try customer.send(to: customerPort)
        browser.sendTone()
        #expect(await browser.hears(Self.tones) == ["customer"])
        #expect(try await customer.hears(Self.tones) == ["browser"], "\(customer.lastShares.withLock { $0 })")
        #expect(events.events.withLock { $0 } == [.connected])
        let figures = try #require(await engine.webRTCFigures("s1"))
        #expect(figures.connected && figures.sent > 0 && figures.received > 0)

        // The call's leg ends: the session stays for the next call, attached to nothing.
        engine.close(MediaEngine.LegKey(call, .agent("agent1")))
        _ = await engine.callsHeld()  // a round on the call's shard: the close has run, and sent its detach on
        #expect(await engine.webRTCFigures("s1")?.attached == nil)
        #expect(engine.webRTCSessions == 1)

        await engine.closeWebRTC("s1")
        #expect(engine.webRTCSessions == 0)
        await customer.stop()
        await browser.stop()
        await engine.closeAll()
    }

    @Test func hostileDatagramsAreDroppedAndCountedNeverHeard() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 33_100...33_199)
        let browser = try await TestBrowser(frequency: 1_000)
        let answer = try await engine.openWebRTC(try WebRTCOffer(parsing: browser.offer), id: "s2", events: { _ in })
        try browser.use(answer: answer)
        let stranger = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()

        // A check signed with a guessed password: no answer, nothing selected.
        browser.check(password: "guessed-password-000000000")
        #expect(!(await browser.checked.wait(bound: .milliseconds(300))))
        #expect(engine.webRTCDrops["stun-badIntegrity"] == 1)

        // The real check from the browser; then DTLS from a stranger who passed no check.
        #expect(try await browser.connect())
        let strangerDTLS = try DTLSConnection(DTLSContext(
            certificatePEM: browser.certificate.certificatePEM, privateKeyPEM: browser.certificate.privateKeyPEM, isServer: false))
        for datagram in try strangerDTLS.start() { browser.write(datagram, from: stranger) }

        // SRTP with a broken tag, and a replay of a good packet.
        var generator = ToneGenerator(frequencies: [1_000])
        var tampered = try #require(browser.protectedPacket(sequence: 1, generator: &generator))
        tampered[tampered.count - 1] ^= 0xFF
        browser.write(tampered)
        let good = try #require(browser.protectedPacket(sequence: 2, generator: &generator))
        browser.write(good)
        browser.write(good)

        // Counted once each reached the session: the drops are read when the good packet's
        // count shows it was handled (packets on one socket are handled in order).
        var figures = await engine.webRTCFigures("s2")
        for _ in 0..<200_000 where (figures?.received ?? 0) < 1 || (figures?.dropped ?? 0) < 4 {
            await Task.yield()
            figures = await engine.webRTCFigures("s2")
        }
        let drops = engine.webRTCDrops
        #expect(drops["dtls-unchecked-source"] == 1)
        #expect(drops["srtp-not-authentic"] == 2, "the broken tag and the replay: \(drops)")
        #expect(figures?.received == 1)
        #expect(figures?.connected == true, "the session survives it all")
        try await stranger.close()
        await browser.stop()
        await engine.closeAll()
    }

    @Test func aBrowserWhoseCertificateIsNotItsOffersIsRefusedAtTheHandshake() async throws {
        let engine = MediaEngine(host: "127.0.0.1", ports: 33_200...33_299)
        let browser = try await TestBrowser(frequency: 1_000)
        let other = try SelfSignedCertificate.make(commonName: "someone else", names: [])
        let offer = browser.offer.replacingOccurrences(browser.certificate.fingerprint, other.fingerprint)
        let events = SessionEvents()
        try browser.use(answer: try await engine.openWebRTC(try WebRTCOffer(parsing: offer), id: "s3", events: events.handler))
        #expect(try await browser.connect() == true, "the browser's side completes; the server then refuses it")
        #expect(await events.lost.wait())
        #expect(engine.webRTCDrops["dtls-fingerprint-mismatch"] == 1)
        #expect(engine.webRTCSessions == 0)
        await browser.stop()
        await engine.closeAll()
    }

    @Test func aSessionWhoseBrowserStopsCheckingIsLostAfterTheConsentTimeout() async throws {
        let engine = MediaEngine(
            host: "127.0.0.1", ports: 33_300...33_399, webRTC: WebRTCSettings(consentTimeout: .milliseconds(500)))
        let browser = try await TestBrowser(frequency: 1_000)
        let events = SessionEvents()
        try browser.use(answer: try await engine.openWebRTC(try WebRTCOffer(parsing: browser.offer), id: "s4", events: events.handler))
        #expect(try await browser.connect())
        // No more checks: within the watchdog's next rounds the session is lost.
        #expect(await events.lost.wait(bound: .seconds(5)))
        #expect(events.events.withLock { $0 }.last == .lost("the browser stopped answering (consent expired)"))
        #expect(engine.webRTCSessions == 0)
        await browser.stop()
        await engine.closeAll()
    }
}

extension String {
    func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
