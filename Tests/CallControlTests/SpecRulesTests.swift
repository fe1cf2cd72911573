import CallControl
import Testing

private let agent1 = Harness.agent1
private let agent2 = Harness.agent2

/// Every row of the participant table in shared/spec/initiate-a-conference.txt, one test each
/// (docs/rules.md maps the rows to these names).
@Suite("Spec: customer")
struct CustomerRules {
    @Test func customerCannotInitiateAConference() {
        var h = Harness()
        h.consulting()
        // The customer's only input is their line: none of its events can start a conference
        // (the desktop's controls are commands of agents, and the customer is not one).
        for event in [LineEvent.answered(.customer), .transferRequested(.customer), .ringFailed(.customer, .declined)] {
            h.reject(.line(h.call, event), with: .actorNotPermitted)
        }
        for command in allDesktopCommands(h.call, by: "customer") {
            h.reject(command, with: .notAParticipant)
        }
        #expect(h.status == .consulting)
    }

    @Test func customerIsTakenOffHoldWhenAgent1StartsTheConferenceAndHearsBothAgents() {
        var h = Harness()
        h.consulting()
        #expect(h.interaction.customer.state == .held)
        #expect(h.interaction.mediaPlan.customerHearsMusic)
        let actions = h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.interaction.customer.state == .connected)
        let everyone = MediaPlan(conversation: [.customer, .agent(agent1), .agent(agent2)])
        #expect(actions.contains(.setMedia(h.call, everyone)))
    }

    @Test func customerCannotBePutOnHoldDuringAConferenceByAnyone() {
        var h = Harness()
        h.conference()
        h.reject(.desktop(agent1, h.call, .hold), with: .holdNotAllowedInConference)
        h.reject(.desktop(agent2, h.call, .hold), with: .holdNotAllowedInConference)
        h.reject(.desktop(Harness.agent3, h.call, .hold), with: .notAParticipant)
        h.reject(.line(h.call, .transferRequested(.agent(agent1))), with: .useAgentDesktop)
        #expect(!h.allowed(agent1).contains(.hold))
        #expect(!h.allowed(agent2).contains(.hold))
        #expect(h.interaction.customer.state == .connected)
    }
}

@Suite("Spec: Agent 1")
struct Agent1Rules {
    @Test func agent1CanStartAndEndAConference() {
        var h = Harness()
        h.consulting()
        #expect(h.allowed(agent1).contains(.conference))
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.status == .conferenced)
        #expect(h.allowed(agent1).contains(.endConference))
        h.accept(.desktop(agent1, h.call, .endConference))
        #expect(h.status == .ended)
    }

    @Test func agent1StartsAConferenceWithAgent2ByClickingConference() {
        var h = Harness()
        h.connected()
        // No consult yet: nothing to merge.
        h.reject(.desktop(agent1, h.call, .conference), with: .noActiveConsult)
        h.accept(.desktop(agent1, h.call, .consult(to: .agent(agent2))))
        // Agent 2 has not answered yet.
        h.reject(.desktop(agent1, h.call, .conference), with: .consultNotAnswered)
        h.reject(.desktop(agent2, h.call, .conference), with: .notConnected)
        h.accept(.desktop(agent2, h.call, .consultAccept))
        h.reject(.desktop(agent2, h.call, .conference), with: .notOwner)
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.status == .conferenced)
        #expect(h.participant(agent1)?.role == .owner)
        #expect(h.participant(agent2)?.role == .conferenced)
    }

    @Test func agent1CannotHoldTheCustomerOrAgent2DuringAConference() {
        var h = Harness()
        h.conference()
        h.reject(.desktop(agent1, h.call, .hold), with: .holdNotAllowedInConference)
        h.reject(.desktop(agent1, h.call, .resume), with: .notAllowedInConference)
        #expect(h.allowed(agent1) == [.conferenceTransfer, .endConference])
        // Nobody in the conference is on hold, and no control could put them there.
        #expect(h.interaction.customer.state == .connected)
        #expect(h.participant(agent2)?.state == .connected)
        #expect(!h.interaction.mediaPlan.customerHearsMusic)
    }

    @Test func agent1TransfersToAgent2AndGetsTheWrapUpReasonsDialog() {
        var h = Harness()
        h.conference()
        let actions = h.accept(.desktop(agent1, h.call, .conferenceTransfer))
        // Agent 1 leaves at once and owes a wrap-up.
        #expect(h.participant(agent1)?.state == .left)
        #expect(h.participant(agent1)?.owesWrapUp == true)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        #expect(h.allowed(agent1) == [.wrapUp])
        #expect(actions.contains(.hangUp(h.call, .agent(agent1))))
        // The call continues between Agent 2 and the customer.
        #expect(h.status == .connected)
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent2)]))))
    }

    @Test func whenTheCustomerDropsFromTheConferenceTheInteractionEndsForThemAndAgent1MustWrapUp() {
        var h = Harness()
        h.conference()
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(h.interaction.customer.state == .left)
        #expect(h.participant(agent1)?.owesWrapUp == true)
        #expect(h.allowed(agent1).contains(.wrapUp))
        #expect(h.participant(agent2)?.owesWrapUp == false)
        h.accept(.desktop(agent1, h.call, .wrapUp(code: "resolved", notes: "customer dropped")))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .available)
        #expect(h.agentStatus(agent2) == .available)
    }

    @Test func agent1EndsTheConferenceWithEndConferenceDroppingTheCustomerAndAgent2() {
        var h = Harness()
        h.conference()
        let actions = h.accept(.desktop(agent1, h.call, .endConference))
        #expect(actions.contains(.hangUp(h.call, .customer)))
        #expect(actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent2) == .available)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        #expect(h.allowed(agent1) == [.wrapUp])
    }

    @Test func agent1EndsTheConferenceByHangingUpThePhone() {
        var h = Harness()
        h.conference()
        let actions = h.accept(.line(h.call, .hungUp(.agent(agent1))))
        #expect(actions.contains(.hangUp(h.call, .customer)))
        #expect(actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(!actions.contains(.hangUp(h.call, .agent(agent1))), "Agent 1's phone hung up by itself")
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        #expect(h.agentStatus(agent2) == .available)
    }
}

@Suite("Spec: Agent 2")
struct Agent2Rules {
    @Test func agent2CannotEndAConference() {
        var h = Harness()
        h.conference()
        h.reject(.desktop(agent2, h.call, .endConference), with: .notOwner)
        #expect(Rejection.notOwner.kind == .role)
        #expect(!h.allowed(agent2).contains(.endConference))
        #expect(h.status == .conferenced)
    }

    @Test func agent2CannotApplyAWrapUpReasonForAConference() {
        var h = Harness()
        h.conference()
        h.reject(.desktop(agent2, h.call, .wrapUp(code: "resolved", notes: "")), with: .wrapUpNotRequired)
        h.accept(.desktop(agent1, h.call, .endConference))
        #expect(!h.allowed(agent2).contains(.wrapUp))
        h.reject(.desktop(agent2, h.call, .wrapUp(code: "resolved", notes: "")), with: .wrapUpNotRequired)
        #expect(h.agentStatus(agent2) == .available)
    }

    @Test func agent2ExitsTheConferenceAndTheCallContinuesBetweenAgent1AndTheCustomer() {
        var h = Harness()
        h.conference()
        #expect(h.allowed(agent2) == [.exitConference])
        let actions = h.accept(.desktop(agent2, h.call, .exitConference))
        #expect(h.status == .connected)
        #expect(h.participant(agent2)?.state == .left)
        #expect(h.participant(agent2)?.owesWrapUp == false)
        #expect(h.agentStatus(agent2) == .available)
        #expect(actions.contains(.hangUp(h.call, .agent(agent2))))
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.customer, .agent(agent1)]))))
        #expect(h.allowed(agent1) == [.hold, .consult, .transfer, .end])
    }

    @Test func agent2BecomesPartOfTheConferenceWhenAgent1StartsItWhileConsulting() {
        var h = Harness()
        h.consulting()
        #expect(h.participant(agent2)?.role == .consulted)
        h.accept(.desktop(agent1, h.call, .conference))
        #expect(h.participant(agent2)?.role == .conferenced)
        #expect(h.participant(agent2)?.state == .connected)
        #expect(h.agentStatus(agent2) == .engaged(h.call))
    }

    @Test func agent2AcceptsATransferAgent1MakesDuringTheConference() {
        var h = Harness()
        h.conference()
        let actions = h.accept(.desktop(agent1, h.call, .conferenceTransfer))
        // Agent 2 is already connected, so the hand-over is immediate: no ringing, no accept.
        #expect(!actions.contains { if case .ring = $0 { true } else { false } })
        #expect(h.interaction.owner?.party == .agent(agent2))
        #expect(h.participant(agent2)?.state == .connected)
        #expect(h.allowed(agent2) == [.hold, .consult, .transfer, .end])
    }

    @Test func whenTheCustomerLeavesBothAgentsContinueInWrapUpAssistWithoutHoldResumeOrConsult() {
        var h = Harness()
        h.conference()
        let actions = h.accept(.line(h.call, .hungUp(.customer)))
        #expect(h.status == .wrapUpAssist)
        #expect(actions.contains(.setMedia(h.call, MediaPlan(conversation: [.agent(agent1), .agent(agent2)]))))
        for agent in [agent1, agent2] {
            h.reject(.desktop(agent, h.call, .hold), with: .notAllowedInWrapUpAssist)
            h.reject(.desktop(agent, h.call, .resume), with: .notAllowedInWrapUpAssist)
            h.reject(.desktop(agent, h.call, .consult(to: .queue("sales"))), with: .notAllowedInWrapUpAssist)
            #expect(h.allowed(agent).isDisjoint(with: [.hold, .resume, .consult]))
        }
        #expect(h.participant(agent1)?.owesWrapUp == true)
        #expect(h.participant(agent2)?.owesWrapUp == false)
        // The agents finish talking: Agent 2 leaves, Agent 1 wraps up.
        h.accept(.desktop(agent2, h.call, .exitConference))
        #expect(h.status == .ended)
        #expect(h.agentStatus(agent1) == .wrapUp(h.call))
        h.accept(.desktop(agent1, h.call, .wrapUp(code: "resolved", notes: "")))
        #expect(h.interaction.isFinished)
    }
}

@Suite("Spec: desktop, not phone")
struct DesktopNotPhoneRules {
    @Test func aTransferOrConferenceFromAnAgentPhoneIsRejectedWithUseAgentDesktop() {
        var h = Harness()
        h.consulting()
        // The phone's own transfer or conference (a REFER, a second call): refused, the call untouched.
        h.reject(.line(h.call, .transferRequested(.agent(agent1))), with: .useAgentDesktop)
        h.reject(.line(h.call, .transferRequested(.agent(agent2))), with: .useAgentDesktop)
        #expect(h.status == .consulting)
        h.accept(.desktop(agent1, h.call, .conference))
        h.reject(.line(h.call, .transferRequested(.agent(agent1))), with: .useAgentDesktop)
        h.reject(.line(h.call, .transferRequested(.agent(agent2))), with: .useAgentDesktop)
        #expect(h.status == .conferenced)
        #expect(Rejection.useAgentDesktop.kind == .role)
    }
}

func allDesktopCommands(_ call: InteractionID, by agent: AgentID) -> [Command] {
    [
        .accept, .hold, .resume, .consult(to: .agent("agent3")), .consultAccept, .consultEnd, .conference,
        .consultTransfer, .conferenceTransfer, .exitConference, .endConference, .transfer(to: .queue("sales")), .end,
        .wrapUp(code: "resolved", notes: ""),
    ].map { Command.desktop(agent, call, $0) }
}
