import CallControl
import Testing

private let agent1 = Harness.agent1
private let agent2 = Harness.agent2
private let agent3 = Harness.agent3
private let supervisor = Harness.supervisor1

/// A supervisor listening in: monitor, coach and barge, as rules of the core. The spec's rules
/// keep holding with a supervisor on the line.
@Suite("Supervisors on calls")
struct MonitoringTests {
    /// The supervisor's listener entry in the plan, if any.
    private func listener(_ h: Harness) -> MediaPlan.Listener? {
        h.interaction.mediaPlan.listeners.first { $0.leg == .supervisor(supervisor) }
    }

    @Test func monitoringRingsTheSupervisorsStationAndTheyHearEveryoneButNobodyHearsThem() {
        var h = Harness()
        h.connected()
        let actions = h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)))
        #expect(actions.contains(.ring(h.call, .supervisor(supervisor), .phone)))
        #expect(h.interaction.monitor(supervisor)?.state == .ringing)
        let answered = h.accept(.line(h.call, .answered(.supervisor(supervisor))))
        let plan = h.interaction.mediaPlan
        #expect(answered.contains(.setMedia(h.call, plan)))
        #expect(plan.conversation == [.customer, .agent(agent1)], "the call itself is unchanged")
        #expect(listener(h) == MediaPlan.Listener(leg: .supervisor(supervisor), hears: [.customer, .agent(agent1)], heardBy: nil))
    }

    @Test func aCoachIsHeardByTheOwningAgentOnly() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.coach, .desktop)))
        #expect(h.interaction.monitor(supervisor)?.state == .connected, "a desktop station has no line: on at once")
        #expect(listener(h)?.heardBy == .agent(agent1))
        #expect(!h.interaction.mediaPlan.conversation.contains(.supervisor(supervisor)))
    }

    @Test func bargingMakesTheSupervisorAFullPartyOfTheConversation() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)))
        #expect(h.interaction.mediaPlan.conversation == [.customer, .agent(agent1), .supervisor(supervisor)])
        #expect(h.interaction.mediaPlan.listeners.isEmpty)
    }

    @Test func switchingModeKeepsTheSameLegAndRingsNothing() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)))
        h.accept(.line(h.call, .answered(.supervisor(supervisor))))
        for mode in [MonitorMode.coach, .barge, .monitor] {
            let actions = h.accept(.supervisor(supervisor, h.call, .monitor(mode, .phone)))
            #expect(!actions.contains { if case .ring = $0 { true } else { false } })
            #expect(!actions.contains { if case .hangUp = $0 { true } else { false } })
            #expect(h.interaction.monitor(supervisor)?.mode == mode)
        }
        h.reject(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)), with: .alreadyInState)
    }

    @Test func leavingHangsUpOnlyTheSupervisorsLeg() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)))
        let actions = h.accept(.supervisor(supervisor, h.call, .leave))
        #expect(actions.filter { if case .hangUp = $0 { true } else { false } } == [.hangUp(h.call, .supervisor(supervisor))])
        #expect(h.status == .connected)
        #expect(h.interaction.mediaPlan.conversation == [.customer, .agent(agent1)])
        h.reject(.supervisor(supervisor, h.call, .leave), with: .notMonitoring)
    }

    @Test func theSupervisorsPhoneHangingUpEndsOnlyTheirLeg() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)))
        h.accept(.line(h.call, .answered(.supervisor(supervisor))))
        let actions = h.accept(.line(h.call, .hungUp(.supervisor(supervisor))))
        #expect(!actions.contains(.hangUp(h.call, .supervisor(supervisor))), "it hung up by itself")
        #expect(h.interaction.monitors.isEmpty)
        #expect(h.status == .connected)
    }

    @Test func aStationThatCannotRingEndsTheMonitor() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)))
        h.accept(.line(h.call, .ringFailed(.supervisor(supervisor), .unreachable)))
        #expect(h.interaction.monitors.isEmpty)
    }

    @Test func onlyConfiguredSupervisorsForTheirQueuesMayListen() {
        var h = Harness()
        h.connected()  // a sales call
        h.reject(.supervisor("agent2", h.call, .monitor(.monitor, .phone)), with: .notASupervisor)
        h.reject(.supervisor(Harness.supervisor2, h.call, .monitor(.monitor, .phone)), with: .notSupervisedQueue)
        h.reject(.supervisor(supervisor, "no-such-call", .monitor(.monitor, .phone)), with: .unknownInteraction)
    }

    @Test func oneSupervisorPerCallUnlessTheConfigurationAllowsMore() {
        var one = Harness(Harness.configuration(agents: 3))
        one.signIn(agent1)
        one.accept(.arrival(one.call, queue: "support", from: "+15550100"))
        one.accept(.desktop(agent1, one.call, .accept))
        one.accept(.supervisor(supervisor, one.call, .monitor(.monitor, .phone)))
        one.reject(.supervisor(Harness.supervisor2, one.call, .monitor(.monitor, .phone)), with: .monitorLimitReached)

        var two = Harness(Harness.configuration(agents: 3, monitorsPerCall: 2))
        two.signIn(agent1)
        two.accept(.arrival(two.call, queue: "support", from: "+15550100"))
        two.accept(.desktop(agent1, two.call, .accept))
        two.accept(.supervisor(supervisor, two.call, .monitor(.monitor, .phone)))
        two.accept(.supervisor(Harness.supervisor2, two.call, .monitor(.coach, .phone)))
        #expect(two.interaction.monitors.count == 2)
    }

    @Test func aCallThatIsNotAnsweredYetCannotBeMonitored() {
        var h = Harness()
        h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        h.reject(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)), with: .notConnected)
        h.reject(.supervisor(supervisor, h.call, .monitor(.barge, .phone)), with: .notConnected)
    }

    // MARK: - Following the call

    @Test func whileTheCustomerIsHeldTheMonitorHearsTheAgentNotTheMusic() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .desktop)))
        h.accept(.desktop(agent1, h.call, .hold))
        #expect(h.interaction.mediaPlan.customerHearsMusic)
        #expect(listener(h)?.hears == [.agent(agent1)])
    }

    @Test func duringAConsultTheMonitorHearsTheOwningAgentsSideOfTheConsult() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.coach, .desktop)))
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        h.accept(.desktop(agent2, h.call, .consultAccept))
        #expect(listener(h)?.hears == [.agent(agent1), .agent(agent2)])
        #expect(listener(h)?.heardBy == .agent(agent1), "the coach whispers to Agent 1 only, not to Agent 2")
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(listener(h)?.hears == [.customer, .agent(agent1), .agent(agent2)])
    }

    @Test func theMonitorStaysWithTheCallWhenItIsTransferredToAgent2() {
        var h = Harness()
        h.consulting()
        h.accept(.supervisor(supervisor, h.call, .monitor(.coach, .desktop)))
        h.accept(.desktop(agent1, h.call, .consultTransfer))
        #expect(h.interaction.monitor(supervisor) != nil)
        #expect(listener(h)?.hears == [.customer, .agent(agent2)])
        #expect(listener(h)?.heardBy == .agent(agent2), "the coach now whispers to the call's new owner")
    }

    @Test func inWrapUpAssistTheMonitorHearsTheAgentsStillTalking() {
        var h = Harness()
        h.conference()
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .desktop)))
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(h.status == .wrapUpAssist)
        #expect(listener(h)?.hears == [.agent(agent1), .agent(agent2)])
    }

    @Test func whenTheCallEndsTheSupervisorsLegEnds() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .phone)))
        h.accept(.line(h.call, .answered(.supervisor(supervisor))))
        let actions = h.accept(.line(h.call, .hungUp(.customer)))
        #expect(actions.contains(.hangUp(h.call, .supervisor(supervisor))))
        #expect(h.interaction.monitors.isEmpty)
    }

    // MARK: - A barge under the spec's rules

    @Test func aBargeCountsAgainstTheConferenceLimit() {
        var h = Harness()  // three parties at most
        h.conference()
        h.reject(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)), with: .conferenceFull)
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .desktop)))
        h.reject(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)), with: .conferenceFull)

        var four = Harness(Harness.configuration(maxConferenceParties: 4))
        four.conference()
        four.accept(.supervisor(supervisor, four.call, .monitor(.barge, .desktop)))
        #expect(four.interaction.mediaPlan.conversation.count == 4)
        four.reject(.desktop(agent1, four.call, .consult(to: .agent(agent3))), with: .conferenceFull)
    }

    @Test func withASupervisorBargedInTheCustomerCannotBeHeldNorAConsultStarted() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)))
        h.reject(.desktop(agent1, h.call, .hold), with: .holdNotAllowedInConference)
        h.reject(.desktop(agent1, h.call, .consult(to: .agent(agent2))), with: .supervisorBargedIn)
        #expect(!h.allowed(agent1).contains(.hold))
        #expect(!h.allowed(agent1).contains(.consult))
        h.accept(.supervisor(supervisor, h.call, .monitor(.monitor, .desktop)))
        h.accept(.desktop(agent1, h.call, .hold))
    }

    @Test func aSupervisorCannotBargeIntoAHeldCallOrAConsult() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(agent1, h.call, .hold))
        h.reject(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)), with: .alreadyHeld)
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        h.reject(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)), with: .consultInProgress)
    }

    @Test func agent1EndingTheConferenceDropsABargedSupervisorWithEveryoneElse() {
        var h = Harness(Harness.configuration(maxConferenceParties: 4))
        h.conference()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .phone)))
        h.accept(.line(h.call, .answered(.supervisor(supervisor))))
        let actions = h.accept(.desktop(agent1, h.call, .endConference))
        #expect(actions.contains(.hangUp(h.call, .supervisor(supervisor))))
        #expect(actions.contains(.hangUp(h.call, .customer)))
        #expect(h.participant(agent1)?.owesWrapUp == true, "Agent 1 wraps up, as the spec says")
    }

    @Test func aBargedSupervisorLeavingIsLikeAgent2ExitingTheCallGoesOn() {
        var h = Harness(Harness.configuration(maxConferenceParties: 4))
        h.conference()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)))
        h.accept(.supervisor(supervisor, h.call, .leave))
        #expect(h.status == .conferenced)
        #expect(h.interaction.mediaPlan.conversation == [.customer, .agent(agent1), .agent(agent2)])
        #expect(h.participant(agent1)?.owesWrapUp == false)
    }

    @Test func aBargedSupervisorOwesNoWrapUpAndTheCustomerLeavingEndsTheCall() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)))
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(h.status == .ended, "a supervisor is no second agent: no wrap-up assist")
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
    }

    @Test func theSupervisorsLegIsNoParticipantOfTheCall() {
        var h = Harness()
        h.connected()
        h.accept(.supervisor(supervisor, h.call, .monitor(.barge, .desktop)))
        #expect(h.interaction.participants.count == 1)
        h.reject(.line(h.call, .transferRequested(.supervisor(supervisor))), with: .actorNotPermitted)
        h.accept(.supervisor(supervisor, h.call, .leave))
        h.reject(.supervisor(supervisor, h.call, .monitor(.monitor, .outsideLine)), with: .actorNotPermitted)
    }
}
