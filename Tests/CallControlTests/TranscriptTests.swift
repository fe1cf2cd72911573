import CallControl
import Testing

/// A whole conference lifecycle as a transcript: every event and every action of every step.
@Suite("Transcripts")
struct TranscriptTests {
    @Test func aConferenceLifecycleProducesExactlyTheseEventsAndActions() {
        var h = Harness()
        h.signIn(Harness.agent1, Harness.agent2)
        let call = h.call
        let a1 = Harness.agent1
        let a2 = Harness.agent2

        func step(_ command: Command, _ events: [InteractionEvent], _ actions: [Action],
                  sourceLocation: SourceLocation = #_sourceLocation) {
            let outcome = h.send(command, sourceLocation: sourceLocation)
            #expect(outcome.events.map(\.subject) == events.map { .interaction(call, $0) }, sourceLocation: sourceLocation)
            #expect(outcome.actions == actions, sourceLocation: sourceLocation)
        }

        // agent1 has been available longest, so routing offers the call to agent1.
        h.advance(seconds: 1)
        let ringDeadline = h.now.adding(milliseconds: 11_000)
        step(.arrival(call, queue: "sales", from: "+15550100"),
             [.arrived(queue: "sales", caller: "+15550100"), .offered(to: a1)],
             [.startTimer(.ringNoAnswer(call, a1), deadline: ringDeadline), .answerCustomer(call),
              .ring(call, .agent(a1), .desktop), .setMedia(call, MediaPlan(customerHearsMusic: true)),
              .notifyAgent(a1, call), .agentStateChanged(a1)])
        step(.desktop(a1, call, .accept),
             [.accepted(by: a1)],
             [.cancelTimer(.ringNoAnswer(call, a1)),
              .setMedia(call, MediaPlan(conversation: [.customer, .agent(a1)])),
              .notifyAgent(a1, call), .agentStateChanged(a1)])
        let consultDeadline = h.now.adding(milliseconds: 11_000)
        step(.desktop(a1, call, .consult(to: .agent(a2))),
             [.consultStarted(.agent(a2))],
             [.startTimer(.ringNoAnswer(call, a2), deadline: consultDeadline), .ring(call, .agent(a2), .desktop),
              .setMedia(call, MediaPlan(customerHearsMusic: true)),
              .notifyAgent(a1, call), .notifyAgent(a2, call), .agentStateChanged(a2)])
        step(.desktop(a2, call, .consultAccept),
             [.consultAnswered(.agent(a2))],
             [.cancelTimer(.ringNoAnswer(call, a2)),
              .setMedia(call, MediaPlan(consultation: [.agent(a1), .agent(a2)], customerHearsMusic: true)),
              .notifyAgent(a1, call), .notifyAgent(a2, call), .agentStateChanged(a2)])
        step(.desktop(a1, call, .conference),
             [.conferenceStarted],
             [.setMedia(call, MediaPlan(conversation: [.customer, .agent(a1), .agent(a2)])),
              .notifyAgent(a1, call), .notifyAgent(a2, call)])
        step(.desktop(a2, call, .exitConference),
             [.conferenceExited(.agent(a2))],
             [.hangUp(call, .agent(a2)),
              .setMedia(call, MediaPlan(conversation: [.customer, .agent(a1)])),
              .notifyAgent(a1, call), .notifyAgent(a2, call), .agentStateChanged(a2)])
        let wrapUpDeadline = h.now.adding(milliseconds: 61_000)
        step(.desktop(a1, call, .end),
             [.endedByOwner],
             [.startTimer(.autoWrapUp(call, a1), deadline: wrapUpDeadline),
              .hangUp(call, .agent(a1)), .hangUp(call, .customer), .setMedia(call, .silent),
              .notifyAgent(a1, call), .agentStateChanged(a1)])
        step(.desktop(a1, call, .wrapUp(code: "resolved", notes: "sorted")),
             [.wrapUpApplied(agent: a1, code: "resolved", notes: "sorted", automatic: false)],
             [.cancelTimer(.autoWrapUp(call, a1)), .notifyAgent(a1, call), .agentStateChanged(a1)])
        #expect(h.interaction.isFinished)
        #expect(h.interaction.version == 9)
        h.center.purgeFinished()
        #expect(h.center.interactions.isEmpty)
    }

    @Test func aRestartedShellRearmsTheSameTimersFromTheReplayedState() {
        var h = Harness()
        h.connected()
        h.accept(.desktop(Harness.agent1, h.call, .consult(to: .agent(Harness.agent2))))
        let replayed = CallCenter.replay(h.center.configuration, h.log)
        let timers = replayed.activeTimers()
        #expect(timers.map(\.0) == [.ringNoAnswer(h.call, Harness.agent2)])
        #expect(timers.map(\.1) == h.center.activeTimers().map(\.1))
    }

    @Test func aConfigurationNamesEachProblemWithItsField() {
        var configuration = Harness.configuration()
        #expect(configuration.problems().isEmpty)
        configuration.defaultWrapUpCode = "missing"
        configuration.queues.append(.init(id: "billing", teams: ["purple"]))
        configuration.maxConferenceParties = 2
        let fields = configuration.problems().map(\.field)
        #expect(fields == ["queues.billing.teams", "defaultWrapUpCode", "maxConferenceParticipants"])
    }

    @Test func idsLongerThanFifteenBytesAndMalformedNumbersAreRefusedNotCut() {
        var h = Harness()
        let long = InteractionID("call-with-a-very-long-id")
        #expect(!long.isValid)
        #expect(long != InteractionID("call-with-a-ver"), "a cut ID never matches a whole one")
        h.reject(.arrival(long, queue: "sales", from: "+15550100"), with: .invalidIdentifier)
        h.reject(.arrival(h.call, queue: "sales", from: "+1234567890123456"), with: .invalidDialNumber)
        h.reject(.arrival(h.call, queue: "sales", from: "+1"), with: .invalidDialNumber)
        #expect(DialNumber("+442079460000").rawValue == "+442079460000")
        #expect(DialNumber("442079460000") != DialNumber("+442079460000"))
        var configuration = Harness.configuration()
        configuration.wrapUpCodes.append("a-wrap-up-code-that-is-long")
        #expect(configuration.problems().map(\.field) == ["wrapUpCodes"])
    }
}

@Suite("Desktop commands")
struct DesktopCommandTests {
    @Test func everyControlMakesTheCommandItNamesAndOnlyWithTheArgumentsItNeeds() {
        for action in TaskAction.allCases {
            #expect(DesktopCommand(action, to: .queue("sales"), wrapUp: ("resolved", ""))?.action == action)
        }
        #expect(DesktopCommand(.consult) == nil)
        #expect(DesktopCommand(.transfer, wrapUp: ("resolved", "")) == nil)
        #expect(DesktopCommand(.wrapUp, to: .agent("agent2")) == nil)
        #expect(DesktopCommand(.hold) == .hold)
    }
}
