import CallControl
import Center
import SIP
import Testing

@testable import SIPTelephony

/// SIP's door against guessing and floods, as a value on a given time.
@Suite struct SIPGuardTests {
    let start = Timestamp(milliseconds: 1_000_000)

    @Test func anAddressIsBlockedFromItsTenthWrongAnswerForThirtySecondsThenLonger() {
        var guarding = SIPGuard()
        for attempt in 1...9 {
            #expect(guarding.failed(user: "agent\(attempt)", host: "192.0.2.9", at: start).isEmpty)
        }
        #expect(guarding.failed(user: "nobody", host: "192.0.2.9", at: start) == [.address("192.0.2.9", milliseconds: 30_000)])
        #expect(guarding.wait(user: "agent1", host: "192.0.2.9", at: start.adding(milliseconds: 1_000)) == 29_000)
        #expect(guarding.wait(user: "agent1", host: "192.0.2.9", at: start.adding(milliseconds: 30_000)) == nil)
        #expect(guarding.failed(user: "agent1", host: "192.0.2.9", at: start.adding(milliseconds: 30_000)).contains(
            .address("192.0.2.9", milliseconds: 60_000)), "each further failure doubles the block")
    }

    @Test func aUserGuessedFromElsewhereIsBlockedOnlyForAddressesThatNeverSignedInAsThem() {
        var guarding = SIPGuard()
        guarding.succeeded(user: "agent1", host: "10.0.0.5", at: start)  // the agent's phone
        var blocks: [SIPGuard.Block] = []
        for attempt in 0..<5 { blocks += guarding.failed(user: "agent1", host: "192.0.2.\(attempt)", at: start) }
        #expect(blocks == [.user("agent1", milliseconds: 30_000)])
        #expect(guarding.wait(user: "agent1", host: "192.0.2.77", at: start) == 30_000, "a new address is refused")
        #expect(guarding.wait(user: "agent1", host: "10.0.0.5", at: start) == nil, "the agent's own phone is not locked out")
        #expect(guarding.wait(user: "agent2", host: "192.0.2.77", at: start) == nil)
    }

    @Test func namesThatDoNotExistCountLikeThoseThatDoSoABlockTellsNoNamesApart() {
        var guarding = SIPGuard()
        var real: [SIPGuard.Block] = [], made: [SIPGuard.Block] = []
        for attempt in 0..<5 {
            real += guarding.failed(user: "agent1", host: "192.0.2.\(attempt)", at: start)
            made += guarding.failed(user: "zorro", host: "198.51.100.\(attempt)", at: start)
        }
        #expect(real == [.user("agent1", milliseconds: 30_000)])
        #expect(made == [.user("zorro", milliseconds: 30_000)])
    }

    @Test func aFloodFromOneAddressIsCutToTheRateWhileOthersGoOn() {
        var guarding = SIPGuard(rate: 50, burst: 200)
        let admitted = (0..<1_000).filter { _ in guarding.admits("192.0.2.9", at: start) }.count
        #expect(admitted == 200, "the burst, then nothing in the same instant")
        let other = guarding.admits("198.51.100.1", at: start)
        #expect(other, "another address is not held back")
        // A second later the bucket holds 50 more.
        let later = (0..<1_000).filter { _ in guarding.admits("192.0.2.9", at: start.adding(milliseconds: 1_000)) }.count
        #expect(later == 50)
    }
}

@Suite(.serialized) struct SIPGuessingOverTheWire {
    @Test func guessesFromAnotherAddressAreBlockedWhileTheAgentsOwnPhoneStillRegisters() async throws {
        let server = try await SIPServerFixture()
        let wire = SIPOverTheWire()
        let phone = try await TestPhone(serverPort: server.port, host: "127.0.0.1")
        #expect(try await wire.register(phone, server, expires: 600)?.status == 200)

        // A guesser on another address: 401 for each wrong answer until its address is blocked,
        // then 403 with Retry-After — even for the right password.
        let guesser = try await TestPhone(serverPort: server.port, host: "127.0.0.2")
        var statuses: [Int] = []
        for guess in 0..<12 {
            statuses.append(try await wire.register(guesser, server, expires: 600, password: "guess\(guess)", callID: "g\(guess)")?.status ?? 0)
        }
        #expect(statuses.filter { $0 == 403 }.count >= 2, "\(statuses)")
        #expect(!statuses.contains(200))
        let right = try await wire.register(guesser, server, expires: 600, callID: "g-right")
        #expect(right?.status == 403)
        #expect(right?.headers["Retry-After"].flatMap { Int($0) }.map { $0 > 0 } == true)

        // A third address has not signed in as agent1 either: the user's block holds there.
        let stranger = try await TestPhone(serverPort: server.port, host: "127.0.0.3")
        #expect(try await wire.register(stranger, server, expires: 600, callID: "s1")?.status == 403)

        // The agent's phone, on its own address, still registers.
        let again = try await wire.register(phone, server, expires: 600, callID: "reg2")
        #expect(again?.status == 200, "\(String(describing: again))")
        for peer in [phone, guesser, stranger] { await peer.close() }
        await server.stop()
    }

    @Test func aCapturedRegisterSentAgainIsChallengedNotAccepted() async throws {
        let server = try await SIPServerFixture()
        let phone = try await TestPhone(serverPort: server.port)
        let wire = SIPOverTheWire()
        guard let captured = try await wire.authorizedRegister(phone, server, expires: 600) else { Issue.record("no challenge"); return }
        let accepted = try await phone.exchange(.request(captured))
        guard case .response(let ok) = accepted.last else { Issue.record("no answer"); return }
        #expect(ok.status == 200)
        // The same REGISTER (same nonce, nc, cnonce), with a new branch so it is a new transaction.
        var replay = captured
        replay.headers.set("Via", "SIP/2.0/UDP 127.0.0.1:\(phone.port);branch=z9hG4bKreplayed")
        let answers = try await phone.exchange(.request(replay))
        guard case .response(let refused) = answers.last else { Issue.record("no answer"); return }
        #expect(refused.status == 401)
        #expect(refused.headers.values("WWW-Authenticate").allSatisfy { $0.contains("stale=TRUE") })
        await phone.close()
        await server.stop()
    }
}

@Suite(.serialized) struct QualifyOverTheWire {
    /// The next request the phone receives of this method (others are skipped), or nil.
    func next(_ method: SIPMethod, from phone: TestPhone) async -> SIPRequest? {
        while let message = await phone.next() {
            if case .request(let request) = message, request.method == method { return request }
        }
        return nil
    }

    @Test func aPhoneThatStopsAnsweringItsOptionsLosesItsRegistrationAndItsAvailableAgentGoesIdle() async throws {
        let server = try await SIPServerFixture(qualify: .seconds(30))
        let phone = try await TestPhone(serverPort: server.port)
        #expect(try await SIPOverTheWire().register(phone, server, expires: 3_600)?.status == 200)
        _ = try await server.center.execute(.agent("agent1", .login))
        _ = try await server.center.execute(.agent("agent1", .setAnswerMode(.phone)))
        _ = try await server.center.execute(.agent("agent1", .setAvailable))

        // Asked, and it answers: nothing changes.
        server.clock.advance(by: 30_000)
        let ping = try #require(await next(.options, from: phone))
        #expect(ping.requestURI == "sip:agent1@127.0.0.1:\(phone.port)")
        try await phone.send(.response(SIPResponse(answering: ping, status: 200, toTag: "phone")))
        #expect(await server.eventually { await server.telephony.endpoint.qualifying.isEmpty }, "the answer was taken")
        #expect(await server.center.agent("agent1")?.status == .available)

        // Asked again, and silent: the OPTIONS goes again (T1, 2×T1…) until Timer F (64×T1) ends it.
        server.clock.advance(by: 30_000)
        var silent = try #require(await next(.options, from: phone))
        while silent.callID == ping.callID { silent = try #require(await next(.options, from: phone)) }
        #expect(await server.eventually { await !server.telephony.endpoint.qualifying.isEmpty })
        server.clock.advance(by: 33_000)
        let idle = await server.eventually {
            await server.center.agent("agent1")?.status == .idle(CenterConfiguration.phoneLostIdleCode)
        }
        #expect(idle, "the agent went idle with phoneLost before any call was offered")
        #expect(await !server.telephony.phoneAvailable(for: "agent1"))
        await phone.close()
        await server.stop()
    }
}
