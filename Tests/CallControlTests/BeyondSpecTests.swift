import CallControl
import Testing

private let agent1 = Harness.agent1
private let agent2 = Harness.agent2
private let agent3 = Harness.agent3

/// What the best contact centers do where the spec is silent.
@Suite("Consults")
struct ConsultTests {
    @Test func consultingPutsTheCustomerOnHoldAndCancellingItResumesThem() {
        var h = Harness()
        h.connected()
        let consult = h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        #expect(consult.contains(.ring(h.call, .agent(agent2), .desktop)))
        #expect(h.interaction.customer.state == .held)
        #expect(h.agentStatus(agent2) == .reserved(h.call))
        let cancel = h.accept(.desktop(agent1, h.call, .consultEnd))
        #expect(cancel.contains(.hangUp(h.call, .agent(agent2))))
        #expect(cancel.contains(.cancelTimer(.ringNoAnswer(h.call, agent2))))
        #expect(h.status == .connected)
        #expect(h.interaction.customer.state == .connected)
        #expect(h.agentStatus(agent2) == .available)
        #expect(h.participant(agent2) == nil, "a consult that was never answered leaves no participant")
    }

    @Test func consultingAnAgentWhoIsNotAvailableIsRejected() {
        var h = Harness()
        h.connected()
        h.accept(.agent(agent2, .setIdle("break")))
        h.reject(.desktop(agent1, h.call, .consult(to: .agent(agent2))), with: .agentUnavailable)
        h.reject(.desktop(agent1, h.call, .consult(to: .agent(agent1))), with: .cannotTargetSelf)
        h.reject(.desktop(agent1, h.call, .consult(to: .agent("nobody"))), with: .unknownAgent)
        h.reject(.desktop(agent1, h.call, .consult(to: .queue("nowhere"))), with: .unknownQueue)
        h.reject(.desktop(agent1, h.call, .consult(to: .dialNumber("call me"))), with: .invalidDialNumber)
    }

    @Test func aConsultToAQueueRingsItsLongestAvailableAgent() {
        var h = Harness()
        h.connected()  // agent2 became available before agent3
        let actions = h.accept(.desktop(agent1, h.call, .consult(to: .queue("sales"))))
        #expect(actions.contains(.ring(h.call, .agent(agent2), .desktop)))
        #expect(h.participant(agent2)?.role == .consulted)
        h.accept(.desktop(agent2, h.call, .consultAccept))
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.status == .conferenced)
    }

    @Test func aConsultToAQueueWaitsUntilAnAgentIsFree() {
        var h = Harness()
        h.connected(standby: false)
        h.accept(.desktop(agent1, h.call, .consult(to: .queue("sales"))))
        #expect(h.center.waiting["sales"]?.map(\.purpose) == [.consult])
        #expect(h.allowed(agent1) == [.consultEnd])
        h.accept(.agent(agent2, .login))
        let actions = h.accept(.agent(agent2, .setAvailable))
        #expect(actions.contains(.ring(h.call, .agent(agent2), .desktop)))
        #expect(h.center.waiting["sales"] == [])
    }

    @Test func aConsultToADialNumberRingsItAndItsAnswerConnectsIt() {
        var h = Harness()
        h.connected()
        let number: DialNumber = "+442079460000"
        let actions = h.accept(.desktop(agent1, h.call, .consult(to: .dialNumber(number))))
        #expect(actions.contains(.ring(h.call, .dialNumber(number), .outsideLine)))
        h.reject(.desktop(agent1, h.call, .conference), with: .consultNotAnswered)
        h.accept(.line(h.call, .answered(.dialNumber(number))))
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.interaction.mediaPlan == MediaPlan(conversation: [.customer, .agent(agent1), .dialNumber(number)]))
        // The outside party hangs up: the call goes on between Agent 1 and the customer.
        h.accept(.line(h.call, .hungUp(.dialNumber(number))))
        #expect(h.status == .connected)
    }

    @Test func consultTransferHandsTheCallToTheConsultedAgent() {
        var h = Harness()
        h.consulting()
        let actions = h.accept(.desktop(agent1, h.call, .consultTransfer))
        #expect(h.interaction.owner?.party == .agent(agent2))
        #expect(h.interaction.customer.state == .connected)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent2)]))))
    }

    @Test func consultTransferToADialNumberHandsTheCustomerOut() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .consult(to: .dialNumber("+15559990000"))))
        h.accept(.line(h.call, .answered(.dialNumber("+15559990000"))))
        let actions = h.accept(.desktop(agent1, h.call, .consultTransfer))
        #expect(actions.contains(.handOff(h.call, toNumber: "+15559990000")))
        #expect(!actions.contains(.hangUp(h.call, .customer)))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func whenTheConsultedAgentHangsUpTheCustomerStaysOnHoldForAgent1() {
        var h = Harness()
        h.consulting()
        let actions = h.accept(.line(h.call, .hungUp(.agent(agent2))))
        #expect(!actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(h.status == .held)
        #expect(h.interaction.customer.state == .held)
        #expect(h.agentStatus(agent2) == .available)
        #expect(h.allowed(agent1) == [.resume, .consult, .transfer, .end])
        h.accept(.desktop(agent1, h.call, .resume))
        #expect(h.status == .connected)
    }

    @Test func whenTheCustomerHangsUpDuringAConsultTheAgentsMayKeepTalkingAndAgent1OwesTheWrapUp() {
        var h = Harness()
        h.consulting()
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(h.status == .wrapUpAssist)
        #expect(h.participant(agent1)?.owesWrapUp == true)
        #expect(h.allowed(agent1) == [.end, .wrapUp])
        #expect(h.allowed(agent2) == [.exitConference])
        // Agent 1 wraps up straight away: the assist is over for both.
        h.accept(.desktop(agent1, h.call, .wrapUp(code: "callback", notes: "call back tomorrow")))
        #expect(h.interaction.isFinished)
        #expect(h.agentStatus(agent1) == .available)
        #expect(h.agentStatus(agent2) == .available)
    }

    @Test func whenTheCustomerHangsUpWhileTheConsultStillRingsTheConsultIsCalledOff() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        let actions = h.accept(.line(h.call, .hungUp(.customer)))
        #expect(actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent2) == .available)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func aConsultThatRingsOutGoesBackToAgent1WithTheCustomerOnHold() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        h.advance(seconds: 10)
        h.accept(.timerFired(.ringNoAnswer(h.call, agent2)))
        #expect(h.status == .held)
        #expect(h.agentStatus(agent2) == .idle(CenterConfiguration.ringNoAnswerIdleCode))
    }
}

@Suite("Transfers and hold")
struct TransferTests {
    @Test func holdAndResumeOutsideAConference() {
        var h = Harness()
        h.connected()
        let hold = h.accept(.desktop(agent1, h.call, .hold))
        #expect(hold == [.setMedia(h.call, MediaPlan(customerHearsMusic: true)), .notifyAgent(agent1, h.call)])
        h.reject(.desktop(agent1, h.call, .hold), with: .alreadyHeld)
        h.accept(.desktop(agent1, h.call, .resume))
        h.reject(.desktop(agent1, h.call, .resume), with: .notHeld)
    }

    @Test func aBlindTransferToAnAgentRingsThemAndAgent1WrapsUp() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.desktop(agent1, h.call, .transfer(to: .agent(agent2))))
        #expect(actions.contains(.ring(h.call, .agent(agent2), .desktop)))
        #expect(h.status == .offered)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        h.accept(.desktop(agent2, h.call, .accept))
        #expect(h.interaction.owner?.party == .agent(agent2))
    }

    @Test func aBlindTransferToAQueueRequeuesTheCall() {
        var h = Harness()
        h.connected(standby: false)
        h.accept(.desktop(agent1, h.call, .transfer(to: .queue("support"))))
        #expect(h.status == .queued)
        #expect(h.interaction.queue == "support")
        #expect(h.center.waiting["support"]?.map(\.interaction) == [h.call])
    }

    @Test func aBlindTransferToADialNumberHandsTheCustomerOut() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.desktop(agent1, h.call, .transfer(to: .dialNumber("+15551234"))))
        #expect(actions.contains(.handOff(h.call, toNumber: "+15551234")))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func transfersAreNotAllowedDuringAConsultOrAConference() {
        var h = Harness()
        h.consulting()
        h.reject(.desktop(agent1, h.call, .transfer(to: .queue("sales"))), with: .consultInProgress)
        h.accept(.desktop(agent1, h.call, .conference))
        h.reject(.desktop(agent1, h.call, .transfer(to: .queue("sales"))), with: .notAllowedInConference)
        h.reject(.desktop(agent1, h.call, .consultTransfer), with: .notAllowedInConference)
        h.reject(.desktop(agent1, h.call, .end), with: .notAllowedInConference)
    }
}

@Suite("Conferences beyond three parties")
struct LargerConferenceTests {
    @Test func aFullConferenceCannotConsultAnotherParty() {
        var h = Harness()
        h.conference()
        h.reject(.desktop(agent1, h.call, .consult(to: .agent(agent3))), with: .conferenceFull)
        #expect(!h.allowed(agent1).contains(.consult))
    }

    @Test func withRoomAgent1ConsultsFromTheConferenceWhileTheOthersKeepTalking() {
        var h = Harness(Harness.configuration(agents: 3, maxConferenceParties: 4))
        h.conference()
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent3))))
        h.accept(.desktop(agent3, h.call, .consultAccept))
        #expect(h.interaction.customer.state == .connected, "the customer is never held in a conference")
        #expect(
            h.interaction.mediaPlan == MediaPlan(conversation: [.customer, .agent(agent2)], consultation: [.agent(agent1), .agent(agent3)]))
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.interaction.mediaPlan == MediaPlan(conversation: [.customer, .agent(agent1), .agent(agent2), .agent(agent3)]))
        h.reject(.desktop(agent1, h.call, .consult(to: .queue("sales"))), with: .conferenceFull)
        // Agent 1 hands the conference to the agent who joined first.
        h.accept(.desktop(agent1, h.call, .conferenceTransfer))
        #expect(h.interaction.owner?.party == .agent(agent2))
        #expect(h.status == .conferenced)
    }

    @Test func whenTheLastOtherPartyLeavesDuringAConsultFromTheConferenceTheCustomerIsHeld() {
        var h = Harness(Harness.configuration(agents: 3, maxConferenceParties: 4))
        h.conference()
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent3))))
        h.accept(.desktop(agent2, h.call, .exitConference))
        #expect(h.status == .consulting)
        #expect(h.interaction.customer.state == .held)
    }
}

@Suite("Routing and ring-no-answer")
struct RoutingTests {
    @Test func aWaitingCallIsOfferedToTheLongestAvailableAgentOfTheQueuesTeams() {
        var h = Harness(Harness.configuration(agents: 4))
        h.signIn("agent4", agent3, agent2)  // agent4 is on the green team, which does not serve sales
        let actions = h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        #expect(actions.contains(.ring(h.call, .agent(agent3), .desktop)))
        #expect(actions.contains(.startTimer(.ringNoAnswer(h.call, agent3), deadline: h.now.adding(milliseconds: 10_000))))
        #expect(h.agentStatus(agent3) == .reserved(h.call))
    }

    @Test func aCallWaitsInItsQueueUntilAnAgentBecomesAvailable() {
        var h = Harness()
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        #expect(h.status == .queued)
        #expect(h.interaction.mediaPlan.customerHearsMusic)
        h.accept(.agent(agent1, .login))
        h.accept(.agent(agent1, .setAvailable))
        #expect(h.status == .offered)
    }

    @Test func ringNoAnswerMakesTheAgentIdleAndReoffersTheCall() {
        var h = Harness()
        h.signIn(agent1, agent2)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.reject(.timerFired(.ringNoAnswer(h.call, agent1)), with: .timerNotActive)  // not due yet
        h.advance(seconds: 10)
        let actions = h.accept(.timerFired(.ringNoAnswer(h.call, agent1)))
        #expect(h.agentStatus(agent1) == .idle(CenterConfiguration.ringNoAnswerIdleCode))
        #expect(actions.contains(.hangUp(h.call, .agent(agent1))))
        #expect(actions.contains(.ring(h.call, .agent(agent2), .desktop)))
        #expect(h.participant(agent2)?.state == .ringing)
        h.reject(.timerFired(.ringNoAnswer(h.call, agent1)), with: .timerNotActive)
    }

    @Test func aCallThatRingsOutWithNobodyElseFreeGoesBackToTheHeadOfItsQueue() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.accept(.arrival("call-2", queue: "sales", from: "+15550101"))
        h.advance(seconds: 10)
        h.accept(.timerFired(.ringNoAnswer(h.call, agent1)))
        #expect(h.center.waiting["sales"]?.map(\.interaction) == [h.call, "call-2"])
    }

    @Test func aCustomerWhoHangsUpWhileRingingFreesTheAgent() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .available)
        #expect(h.interaction.isFinished, "no agent handled it: no wrap-up is owed")
    }

    @Test func unknownQueuesDuplicateCallsAndBadNumbersAreRejected() {
        var h = Harness()
        h.reject(.arrival(h.call, queue: "nowhere", from: "+15550100"), with: .unknownQueue)
        h.reject(.arrival(h.call, queue: "sales", from: "anonymous"), with: .invalidDialNumber)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.reject(.arrival(h.call, queue: "sales", from: "+15550100"), with: .interactionExists)
        h.reject(.desktop(agent1, "call-9", .accept), with: .unknownInteraction)
    }

    @Test(arguments: [
        Caller.withheld, Caller(address: "alice@example.com"), Caller(name: "Alice"),
        Caller(address: "alice@example.com", name: "Alice"), Caller(number: "+15550100", name: "Bob"), Caller(),
    ])
    func everyCallerIsQueuedAndOfferedWhateverTheLineSaysOfThem(_ caller: Caller) {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.arrival(h.call, queue: "sales", from: caller))
        #expect(h.interaction.customer.caller == caller)
        #expect(h.agentStatus(agent1) == .reserved(h.call))
    }

    @Test func aCallersNameAndAddressAreBoundedPrintableText() {
        let caller = Caller(address: "bob@\u{0}example.com", name: "  Bob\r\n\tSmith " + String(repeating: "é", count: 100))
        #expect(caller.address == "bob@ example.com")
        #expect(caller.name?.hasPrefix("Bob Smith éé") == true)
        #expect((caller.name?.utf8.count ?? 0) <= Caller.maximumNameBytes)
        #expect(Caller(name: " \n ").name == nil)
        #expect(Caller.withheld.label == "Withheld number")
        #expect(Caller(number: "+15550100", name: "Alice").label == "Alice (+15550100)")
        #expect(Caller(address: "alice@example.com").label == "alice@example.com")
        #expect(Caller().label == "Unknown caller")
    }
}

@Suite("Wrap-up and agent state")
struct WrapUpAndAgentStateTests {
    @Test func aWrapUpIsAppliedOnceAndARetryIsRejected() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .end))
        h.reject(.desktop(agent1, h.call, .wrapUp(code: "nonsense", notes: "")), with: .unknownWrapUpCode)
        h.accept(.desktop(agent1, h.call, .wrapUp(code: "resolved", notes: "all good")))
        h.reject(.desktop(agent1, h.call, .wrapUp(code: "resolved", notes: "all good")), with: .wrapUpNotRequired)
        #expect(h.agentStatus(agent1) == .available)
    }

    @Test func autoWrapUpAppliesTheDefaultCodeWhenTheTimerFires() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.desktop(agent1, h.call, .end))
        let deadline = h.now.adding(milliseconds: 60_000)
        #expect(actions.contains(.startTimer(.autoWrapUp(h.call, agent1), deadline: deadline)))
        h.advance(seconds: 58)  // each send moves the clock one more second: this one lands a second early
        h.reject(.timerFired(.autoWrapUp(h.call, agent1)), with: .timerNotActive)
        let fired = h.send(.timerFired(.autoWrapUp(h.call, agent1)))
        #expect(h.now == deadline)
        #expect(
            fired.events.map(\.subject) == [
                .interaction(h.call, .wrapUpApplied(agent: agent1, code: "resolved", notes: "", automatic: true))
            ])
        #expect(h.agentStatus(agent1) == .available)
    }

    @Test func choosingIdleDuringACallTakesEffectWhenTheCallEnds() {
        var h = Harness()
        h.connected()
        h.accept(.agent(agent1, .setIdle("lunch")))
        #expect(h.agentStatus(agent1) == .engaged(h.call))
        h.accept(.desktop(agent1, h.call, .end))
        h.accept(.desktop(agent1, h.call, .wrapUp(code: "resolved", notes: "")))
        #expect(h.agentStatus(agent1) == .idle("lunch"))
    }

    @Test func choosingAvailableAgainDuringACallCancelsThePendingIdle() {
        var h = Harness()
        h.connected()
        h.accept(.agent(agent1, .setIdle("lunch")))
        h.accept(.agent(agent1, .setAvailable))
        h.accept(.desktop(agent1, h.call, .end))
        h.accept(.desktop(agent1, h.call, .wrapUp(code: "resolved", notes: "")))
        #expect(h.agentStatus(agent1) == .available)
    }

    @Test func agentStateChangesAreCheckedAndIdleCodesMustBeConfigured() {
        var h = Harness()
        h.reject(.agent(agent1, .setAvailable), with: .agentLoggedOut)
        h.accept(.agent(agent1, .login))
        #expect(h.agentStatus(agent1) == .idle("break"))
        h.reject(.agent(agent1, .login), with: .alreadyInState)
        h.reject(.agent(agent1, .setIdle("nap")), with: .unknownIdleCode)
        h.reject(.agent(agent1, .setIdle(CenterConfiguration.ringNoAnswerIdleCode)), with: .unknownIdleCode)
        h.accept(.agent(agent1, .setIdle("training")))
        h.accept(.agent(agent1, .setAvailable))
        h.reject(.agent(agent1, .setAvailable), with: .alreadyInState)
        h.reject(.agent("nobody", .login), with: .unknownAgent)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.reject(.agent(agent1, .logout), with: .agentBusy)
    }
}
