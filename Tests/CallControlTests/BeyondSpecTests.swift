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
        let consult = h.accept(.consult(h.call, to: .agent(agent2)), as: .agent(agent1))
        #expect(consult.contains(.ring(h.call, .agent(agent2))))
        #expect(h.interaction.customer.state == .held)
        #expect(h.agentStatus(agent2) == .reserved(h.call))
        let cancel = h.accept(.consultEnd(h.call), as: .agent(agent1))
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
        h.accept(.setIdle("break"), as: .agent(agent2))
        h.reject(.consult(h.call, to: .agent(agent2)), as: .agent(agent1), with: .agentUnavailable)
        h.reject(.consult(h.call, to: .agent(agent1)), as: .agent(agent1), with: .cannotTargetSelf)
        h.reject(.consult(h.call, to: .agent("nobody")), as: .agent(agent1), with: .unknownAgent)
        h.reject(.consult(h.call, to: .queue("nowhere")), as: .agent(agent1), with: .unknownQueue)
        h.reject(.consult(h.call, to: .dialNumber("call me")), as: .agent(agent1), with: .invalidDialNumber)
    }

    @Test func aConsultToAQueueRingsItsLongestAvailableAgent() {
        var h = Harness()
        h.connected()  // agent2 became available before agent3
        let actions = h.accept(.consult(h.call, to: .queue("sales")), as: .agent(agent1))
        #expect(actions.contains(.ring(h.call, .agent(agent2))))
        #expect(h.participant(agent2)?.role == .consulted)
        h.accept(.consultAccept(h.call), as: .agent(agent2))
        h.accept(.conference(h.call), as: .agent(agent1))
        #expect(h.status == .conferenced)
    }

    @Test func aConsultToAQueueWaitsUntilAnAgentIsFree() {
        var h = Harness()
        h.connected(standby: false)
        h.accept(.consult(h.call, to: .queue("sales")), as: .agent(agent1))
        #expect(h.center.waiting["sales"]?.map(\.purpose) == [.consult])
        #expect(h.allowed(agent1) == [.consultEnd])
        h.accept(.login, as: .agent(agent2))
        let actions = h.accept(.setAvailable, as: .agent(agent2))
        #expect(actions.contains(.ring(h.call, .agent(agent2))))
        #expect(h.center.waiting["sales"] == [])
    }

    @Test func aConsultToADialNumberRingsItAndItsAnswerConnectsIt() {
        var h = Harness()
        h.connected()
        let number: DialNumber = "+442079460000"
        let actions = h.accept(.consult(h.call, to: .dialNumber(number)), as: .agent(agent1))
        #expect(actions.contains(.ring(h.call, .dialNumber(number))))
        h.reject(.conference(h.call), as: .agent(agent1), with: .consultNotAnswered)
        h.accept(.dialedPartyAnswered(h.call), as: .dialedParty)
        h.accept(.conference(h.call), as: .agent(agent1))
        #expect(h.interaction.mediaPlan == MediaPlan(conversation: [.customer, .agent(agent1), .dialNumber(number)]))
        // The outside party hangs up: the call goes on between Agent 1 and the customer.
        h.accept(.dialedPartyHungUp(h.call), as: .dialedParty)
        #expect(h.status == .connected)
    }

    @Test func consultTransferHandsTheCallToTheConsultedAgent() {
        var h = Harness()
        h.consulting()
        let actions = h.accept(.consultTransfer(h.call), as: .agent(agent1))
        #expect(h.interaction.owner?.party == .agent(agent2))
        #expect(h.interaction.customer.state == .connected)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent2)]))))
    }

    @Test func consultTransferToADialNumberHandsTheCustomerOut() {
        var h = Harness()
        h.connected()
        h.accept(.consult(h.call, to: .dialNumber("+15559990000")), as: .agent(agent1))
        h.accept(.dialedPartyAnswered(h.call), as: .dialedParty)
        let actions = h.accept(.consultTransfer(h.call), as: .agent(agent1))
        #expect(actions.contains(.handOff(h.call, toNumber: "+15559990000")))
        #expect(!actions.contains(.hangUp(h.call, .customer)))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func whenTheConsultedAgentHangsUpTheCustomerStaysOnHoldForAgent1() {
        var h = Harness()
        h.consulting()
        let actions = h.accept(.agentPhoneHungUp(h.call), as: .phone(agent2))
        #expect(!actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(h.status == .held)
        #expect(h.interaction.customer.state == .held)
        #expect(h.agentStatus(agent2) == .available)
        #expect(h.allowed(agent1) == [.resume, .consult, .transfer, .end])
        h.accept(.resume(h.call), as: .agent(agent1))
        #expect(h.status == .connected)
    }

    @Test func whenTheCustomerHangsUpDuringAConsultTheAgentsMayKeepTalkingAndAgent1OwesTheWrapUp() {
        var h = Harness()
        h.consulting()
        h.accept(.customerHungUp(h.call), as: .customer)
        #expect(h.status == .wrapUpAssist)
        #expect(h.participant(agent1)?.owesWrapUp == true)
        #expect(h.allowed(agent1) == [.end, .wrapUp])
        #expect(h.allowed(agent2) == [.exitConference])
        // Agent 1 wraps up straight away: the assist is over for both.
        h.accept(.wrapUp(h.call, code: "callback", notes: "call back tomorrow"), as: .agent(agent1))
        #expect(h.interaction.isFinished)
        #expect(h.agentStatus(agent1) == .available)
        #expect(h.agentStatus(agent2) == .available)
    }

    @Test func whenTheCustomerHangsUpWhileTheConsultStillRingsTheConsultIsCalledOff() {
        var h = Harness()
        h.connected()
        h.accept(.consult(h.call, to: .agent(agent2)), as: .agent(agent1))
        let actions = h.accept(.customerHungUp(h.call), as: .customer)
        #expect(actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent2) == .available)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func aConsultThatRingsOutGoesBackToAgent1WithTheCustomerOnHold() {
        var h = Harness()
        h.connected()
        h.accept(.consult(h.call, to: .agent(agent2)), as: .agent(agent1))
        h.advance(seconds: 10)
        h.accept(.timerFired(.ringNoAnswer(h.call, agent2)), as: .timer)
        #expect(h.status == .held)
        #expect(h.agentStatus(agent2) == .idle(CenterConfiguration.ringNoAnswerIdleCode))
    }
}

@Suite("Transfers and hold")
struct TransferTests {
    @Test func holdAndResumeOutsideAConference() {
        var h = Harness()
        h.connected()
        let hold = h.accept(.hold(h.call), as: .agent(agent1))
        #expect(hold == [.setMedia(h.call, MediaPlan(customerHearsMusic: true)), .notifyAgent(agent1, h.call)])
        h.reject(.hold(h.call), as: .agent(agent1), with: .alreadyHeld)
        h.accept(.resume(h.call), as: .agent(agent1))
        h.reject(.resume(h.call), as: .agent(agent1), with: .notHeld)
    }

    @Test func aBlindTransferToAnAgentRingsThemAndAgent1WrapsUp() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.transfer(h.call, to: .agent(agent2)), as: .agent(agent1))
        #expect(actions.contains(.ring(h.call, .agent(agent2))))
        #expect(h.status == .offered)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        h.accept(.accept(h.call), as: .agent(agent2))
        #expect(h.interaction.owner?.party == .agent(agent2))
    }

    @Test func aBlindTransferToAQueueRequeuesTheCall() {
        var h = Harness()
        h.connected(standby: false)
        h.accept(.transfer(h.call, to: .queue("support")), as: .agent(agent1))
        #expect(h.status == .queued)
        #expect(h.interaction.queue == "support")
        #expect(h.center.waiting["support"]?.map(\.interaction) == [h.call])
    }

    @Test func aBlindTransferToADialNumberHandsTheCustomerOut() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.transfer(h.call, to: .dialNumber("+15551234")), as: .agent(agent1))
        #expect(actions.contains(.handOff(h.call, toNumber: "+15551234")))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func transfersAreNotAllowedDuringAConsultOrAConference() {
        var h = Harness()
        h.consulting()
        h.reject(.transfer(h.call, to: .queue("sales")), as: .agent(agent1), with: .consultInProgress)
        h.accept(.conference(h.call), as: .agent(agent1))
        h.reject(.transfer(h.call, to: .queue("sales")), as: .agent(agent1), with: .notAllowedInConference)
        h.reject(.consultTransfer(h.call), as: .agent(agent1), with: .notAllowedInConference)
        h.reject(.end(h.call), as: .agent(agent1), with: .notAllowedInConference)
    }
}

@Suite("Conferences beyond three parties")
struct LargerConferenceTests {
    @Test func aFullConferenceCannotConsultAnotherParty() {
        var h = Harness()
        h.conference()
        h.reject(.consult(h.call, to: .agent(agent3)), as: .agent(agent1), with: .conferenceFull)
        #expect(!h.allowed(agent1).contains(.consult))
    }

    @Test func withRoomAgent1ConsultsFromTheConferenceWhileTheOthersKeepTalking() {
        var h = Harness(Harness.configuration(agents: 3, maxConferenceParties: 4))
        h.conference()
        h.accept(.consult(h.call, to: .agent(agent3)), as: .agent(agent1))
        h.accept(.consultAccept(h.call), as: .agent(agent3))
        #expect(h.interaction.customer.state == .connected, "the customer is never held in a conference")
        #expect(
            h.interaction.mediaPlan == MediaPlan(conversation: [.customer, .agent(agent2)], consultation: [.agent(agent1), .agent(agent3)]))
        h.accept(.conference(h.call), as: .agent(agent1))
        #expect(h.interaction.mediaPlan == MediaPlan(conversation: [.customer, .agent(agent1), .agent(agent2), .agent(agent3)]))
        h.reject(.consult(h.call, to: .queue("sales")), as: .agent(agent1), with: .conferenceFull)
        // Agent 1 hands the conference to the agent who joined first.
        h.accept(.conferenceTransfer(h.call), as: .agent(agent1))
        #expect(h.interaction.owner?.party == .agent(agent2))
        #expect(h.status == .conferenced)
    }

    @Test func whenTheLastOtherPartyLeavesDuringAConsultFromTheConferenceTheCustomerIsHeld() {
        var h = Harness(Harness.configuration(agents: 3, maxConferenceParties: 4))
        h.conference()
        h.accept(.consult(h.call, to: .agent(agent3)), as: .agent(agent1))
        h.accept(.exitConference(h.call), as: .agent(agent2))
        #expect(h.status == .consulting)
        #expect(h.interaction.customer.state == .held)
    }
}

@Suite("Routing and ring-no-answer")
struct RoutingTests {
    @Test func aWaitingCallIsOfferedToTheLongestAvailableAgentOfTheQueuesTeams() {
        var h = Harness(Harness.configuration(agents: 4))
        h.signIn("agent4", agent3, agent2)  // agent4 is on the green team, which does not serve sales
        let actions = h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        #expect(actions.contains(.ring(h.call, .agent(agent3))))
        #expect(actions.contains(.startTimer(.ringNoAnswer(h.call, agent3), deadline: h.now.adding(milliseconds: 10_000))))
        #expect(h.agentStatus(agent3) == .reserved(h.call))
    }

    @Test func aCallWaitsInItsQueueUntilAnAgentBecomesAvailable() {
        var h = Harness()
        h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        #expect(h.status == .queued)
        #expect(h.interaction.mediaPlan.customerHearsMusic)
        h.accept(.login, as: .agent(agent1))
        h.accept(.setAvailable, as: .agent(agent1))
        #expect(h.status == .offered)
    }

    @Test func ringNoAnswerMakesTheAgentIdleAndReoffersTheCall() {
        var h = Harness()
        h.signIn(agent1, agent2)
        h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        h.reject(.timerFired(.ringNoAnswer(h.call, agent1)), as: .timer, with: .timerNotActive)  // not due yet
        h.advance(seconds: 10)
        let actions = h.accept(.timerFired(.ringNoAnswer(h.call, agent1)), as: .timer)
        #expect(h.agentStatus(agent1) == .idle(CenterConfiguration.ringNoAnswerIdleCode))
        #expect(actions.contains(.hangUp(h.call, .agent(agent1))))
        #expect(actions.contains(.ring(h.call, .agent(agent2))))
        #expect(h.participant(agent2)?.state == .ringing)
        h.reject(.timerFired(.ringNoAnswer(h.call, agent1)), as: .timer, with: .timerNotActive)
    }

    @Test func aCallThatRingsOutWithNobodyElseFreeGoesBackToTheHeadOfItsQueue() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        h.accept(.customerCall("call-2", queue: "sales", from: "+15550101"), as: .customer)
        h.advance(seconds: 10)
        h.accept(.timerFired(.ringNoAnswer(h.call, agent1)), as: .timer)
        #expect(h.center.waiting["sales"]?.map(\.interaction) == [h.call, "call-2"])
    }

    @Test func aCustomerWhoHangsUpWhileRingingFreesTheAgent() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        h.accept(.customerHungUp(h.call), as: .customer)
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .available)
        #expect(h.interaction.isFinished, "no agent handled it: no wrap-up is owed")
    }

    @Test func unknownQueuesDuplicateCallsAndBadNumbersAreRejected() {
        var h = Harness()
        h.reject(.customerCall(h.call, queue: "nowhere", from: "+15550100"), as: .customer, with: .unknownQueue)
        h.reject(.customerCall(h.call, queue: "sales", from: "anonymous"), as: .customer, with: .invalidDialNumber)
        h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        h.reject(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer, with: .interactionExists)
        h.reject(.customerCall("call-2", queue: "sales", from: "+15550100"), as: .agent(agent1), with: .actorNotPermitted)
        h.reject(.accept("call-9"), as: .agent(agent1), with: .unknownInteraction)
    }
}

@Suite("Wrap-up and agent state")
struct WrapUpAndAgentStateTests {
    @Test func aWrapUpIsAppliedOnceAndARetryIsRejected() {
        var h = Harness()
        h.connected()
        h.accept(.end(h.call), as: .agent(agent1))
        h.reject(.wrapUp(h.call, code: "nonsense", notes: ""), as: .agent(agent1), with: .unknownWrapUpCode)
        h.accept(.wrapUp(h.call, code: "resolved", notes: "all good"), as: .agent(agent1))
        h.reject(.wrapUp(h.call, code: "resolved", notes: "all good"), as: .agent(agent1), with: .wrapUpNotRequired)
        #expect(h.agentStatus(agent1) == .available)
    }

    @Test func autoWrapUpAppliesTheDefaultCodeWhenTheTimerFires() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.end(h.call), as: .agent(agent1))
        let deadline = h.now.adding(milliseconds: 60_000)
        #expect(actions.contains(.startTimer(.autoWrapUp(h.call, agent1), deadline: deadline)))
        h.advance(seconds: 58)  // each send moves the clock one more second: this one lands a second early
        h.reject(.timerFired(.autoWrapUp(h.call, agent1)), as: .timer, with: .timerNotActive)
        let fired = h.send(.timerFired(.autoWrapUp(h.call, agent1)), as: .timer)
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
        h.accept(.setIdle("lunch"), as: .agent(agent1))
        #expect(h.agentStatus(agent1) == .engaged(h.call))
        h.accept(.end(h.call), as: .agent(agent1))
        h.accept(.wrapUp(h.call, code: "resolved", notes: ""), as: .agent(agent1))
        #expect(h.agentStatus(agent1) == .idle("lunch"))
    }

    @Test func choosingAvailableAgainDuringACallCancelsThePendingIdle() {
        var h = Harness()
        h.connected()
        h.accept(.setIdle("lunch"), as: .agent(agent1))
        h.accept(.setAvailable, as: .agent(agent1))
        h.accept(.end(h.call), as: .agent(agent1))
        h.accept(.wrapUp(h.call, code: "resolved", notes: ""), as: .agent(agent1))
        #expect(h.agentStatus(agent1) == .available)
    }

    @Test func agentStateChangesAreCheckedAndIdleCodesMustBeConfigured() {
        var h = Harness()
        h.reject(.setAvailable, as: .agent(agent1), with: .agentLoggedOut)
        h.accept(.login, as: .agent(agent1))
        #expect(h.agentStatus(agent1) == .idle("break"))
        h.reject(.login, as: .agent(agent1), with: .alreadyInState)
        h.reject(.setIdle("nap"), as: .agent(agent1), with: .unknownIdleCode)
        h.reject(.setIdle(CenterConfiguration.ringNoAnswerIdleCode), as: .agent(agent1), with: .unknownIdleCode)
        h.accept(.setIdle("training"), as: .agent(agent1))
        h.accept(.setAvailable, as: .agent(agent1))
        h.reject(.setAvailable, as: .agent(agent1), with: .alreadyInState)
        h.reject(.login, as: .agent("nobody"), with: .unknownAgent)
        h.accept(.customerCall(h.call, queue: "sales", from: "+15550100"), as: .customer)
        h.reject(.logout, as: .agent(agent1), with: .agentBusy)
    }
}
