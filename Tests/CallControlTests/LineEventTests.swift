import CallControl
import Testing

private let agent1 = Harness.agent1
private let agent2 = Harness.agent2

/// The telephony's events, each naming its leg, and the line actions the core asks for.
@Suite("Line events")
struct LineEventTests {
    @Test func aNewCallIsAnsweredAsItEntersItsQueueAndOnlyThen() {
        var h = Harness()
        let actions = h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        #expect(actions.contains(.answerCustomer(h.call)))
        #expect(actions.contains(.setMedia(h.call, MediaPlan(customerHearsMusic: true))))
        h.signIn(agent1)
        h.accept(.desktop(agent1, h.call, .accept))
        // Sent back to a queue, the customer's leg is already answered: no second answer.
        let again = h.accept(.desktop(agent1, h.call, .transfer(to: .queue("support"))))
        #expect(!again.contains(.answerCustomer(h.call)))
    }

    @Test func anAgentsPhoneAnsweringTheOfferAcceptsIt() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        let actions = h.accept(.line(h.call, .answered(.agent(agent1))))
        #expect(h.status == .connected)
        #expect(h.agentStatus(agent1) == .engaged(h.call))
        #expect(actions.contains(.cancelTimer(.ringNoAnswer(h.call, agent1))))
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent1)]))))
        #expect(!actions.contains { if case .ring = $0 { true } else { false } })
    }

    @Test func anAgentsPhoneAnsweringAConsultOfferAnswersTheConsult() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        h.accept(.line(h.call, .answered(.agent(agent2))))
        #expect(h.participant(agent2)?.state == .connected)
        #expect(h.interaction.mediaPlan.consultation == [.agent(agent1), .agent(agent2)])
    }

    @Test func aPhoneThatIsNotRingingCannotAnswer() {
        var h = Harness()
        h.connected()
        h.reject(.line(h.call, .answered(.agent(agent1))), with: .notOffered)
        h.reject(.line(h.call, .answered(.agent(agent2))), with: .notAParticipant)
        h.reject(.line(h.call, .answered(.customer)), with: .actorNotPermitted)
    }

    @Test(arguments: RingFailure.allCases)
    func aFailedRingWithdrawsTheOfferAtOnceAndTheAgentIsHandledAsOnRingNoAnswer(reason: RingFailure) {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.accept(.arrival("call-2", queue: "sales", from: "+15550101"))
        let actions = h.accept(.line(h.call, .ringFailed(.agent(agent1), reason)))
        #expect(h.status == .queued)
        #expect(h.agentStatus(agent1) == .idle(CenterConfiguration.ringNoAnswerIdleCode))
        #expect(h.center.waiting["sales"]?.map(\.interaction) == [h.call, "call-2"], "the call keeps its place at the head")
        #expect(actions.contains(.cancelTimer(.ringNoAnswer(h.call, agent1))))
        #expect(!actions.contains(.hangUp(h.call, .agent(agent1))), "the failed leg is gone already")
        #expect(h.participant(agent1) == nil)
    }

    @Test func aConsultRingThatFailsEndsTheConsultAndTheCustomerStaysOnHold() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        h.accept(.line(h.call, .ringFailed(.agent(agent2), .busy)))
        #expect(h.status == .held)
        #expect(h.interaction.customer.state == .held)
        #expect(h.agentStatus(agent2) == .idle(CenterConfiguration.ringNoAnswerIdleCode))
        #expect(h.allowed(agent1).contains(.resume))
    }

    @Test func aDialledNumberThatFailsOrGivesUpLeavesTheConsult() {
        var h = Harness()
        h.connected()
        let number: DialNumber = "+442079460000"
        h.accept(.desktop(agent1, h.call, .consult(to: .dialNumber(number))))
        h.reject(.line(h.call, .ringFailed(.dialNumber("+442079460001"), .unreachable)), with: .notAParticipant)
        let actions = h.accept(.line(h.call, .ringFailed(.dialNumber(number), .declined)))
        #expect(h.status == .held)
        #expect(h.interaction.participant(.dialNumber(number)) == nil)
        #expect(!actions.contains(.hangUp(h.call, .dialNumber(number))))
        h.accept(.desktop(agent1, h.call, .consult(to: .dialNumber(number))))
        h.accept(.line(h.call, .hungUp(.dialNumber(number))))
        #expect(h.status == .held)
    }

    @Test func inAConferenceWithTwoOutsideNumbersTheOneThatHangsUpIsTheOneThatLeaves() {
        var h = Harness(Harness.configuration(maxConferenceParties: 4))
        h.connected()
        let first: DialNumber = "+442079460001"
        let second: DialNumber = "+442079460002"
        for number in [first, second] {
            h.accept(.desktop(agent1, h.call, .consult(to: .dialNumber(number))))
            h.accept(.line(h.call, .answered(.dialNumber(number))))
            h.accept(.desktop(agent1, h.call, .conference))
        }
        let actions = h.accept(.line(h.call, .hungUp(.dialNumber(second))))
        #expect(h.interaction.participant(.dialNumber(second))?.state == .left)
        #expect(h.interaction.participant(.dialNumber(first))?.state == .connected)
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent1), .dialNumber(first)]))))
        #expect(!actions.contains { if case .hangUp = $0 { true } else { false } })
    }

    @Test func anAgentWhoAnswersOnThePhoneIsNotOfferedAcceptOnTheDesktop() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.agent(agent1, .setAnswerMode(.phone)))
        h.reject(.agent(agent1, .setAnswerMode(.phone)), with: .alreadyInState)
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        #expect(!h.allowed(agent1).contains(.accept))
        h.reject(.desktop(agent1, h.call, .accept), with: .answerOnPhone)
        h.accept(.line(h.call, .answered(.agent(agent1))))
        #expect(h.status == .connected)
        // Consult offers too.
        h.signIn(agent2)
        h.accept(.agent(agent2, .setAnswerMode(.phone)))
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        #expect(h.allowed(agent2) == [.consultEnd])
        h.reject(.desktop(agent2, h.call, .consultAccept), with: .answerOnPhone)
        h.accept(.line(h.call, .answered(.agent(agent2))))
        #expect(h.interaction.consulted?.state == .connected)
    }

    @Test func anAgentWhoseStationIsTheBrowserIsRungThereAndAcceptsOnTheDesktop() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.agent(agent1, .setAnswerMode(.browser)))
        let actions = h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        // The telephony attaches the agent's browser session to the leg; Accept answers it.
        #expect(actions.contains(.ring(h.call, .agent(agent1), .browser)))
        #expect(h.allowed(agent1).contains(.accept))
        let accepted = h.accept(.desktop(agent1, h.call, .accept))
        #expect(h.status == .connected)
        #expect(accepted.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent1)]))))
    }

    @Test func aLostBrowserIdlesOnlyAnAvailableBrowserAgentAndALostPhoneOnlyAPhoneAgent() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.agent(agent1, .setAnswerMode(.browser)))
        // A phone unregistering says nothing about the browser.
        h.reject(.agent(agent1, .phoneLost), with: .alreadyInState)
        h.accept(.agent(agent1, .browserLost))
        #expect(h.center.agents[agent1]?.status == .idle(CenterConfiguration.browserLostIdleCode))
        // Already idle: nothing more to do.
        h.reject(.agent(agent1, .browserLost), with: .alreadyInState)
        h.signIn(agent2)
        h.accept(.agent(agent2, .setAnswerMode(.phone)))
        h.reject(.agent(agent2, .browserLost), with: .alreadyInState)
        #expect(h.center.agents[agent2]?.status == .available)
    }

    @Test func aBrowserAgentOnACallIsNotTouchedByALostBrowser() {
        var h = Harness()
        h.signIn(agent1)
        h.accept(.agent(agent1, .setAnswerMode(.browser)))
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.accept(.desktop(agent1, h.call, .accept))
        // The telephony keeps the call for its grace period, then hangs the leg up itself.
        h.reject(.agent(agent1, .browserLost), with: .alreadyInState)
        #expect(h.status == .connected)
    }

    @Test func aSignedOutAgentHasNoAnswerModeToChange() {
        var h = Harness()
        h.reject(.agent(agent1, .setAnswerMode(.phone)), with: .agentLoggedOut)
        h.reject(.agent("nobody", .setAnswerMode(.phone)), with: .unknownAgent)
    }

    @Test func onlyAnAgentsPhoneIsToldToUseTheDesktopForATransfer() {
        var h = Harness()
        h.connected()
        h.reject(.line(h.call, .transferRequested(.agent(agent1))), with: .useAgentDesktop)
        h.reject(.line(h.call, .transferRequested(.customer)), with: .actorNotPermitted)
        h.reject(.line(h.call, .transferRequested(.dialNumber("+15550100"))), with: .actorNotPermitted)
        #expect(h.status == .connected)
    }
}
