import CallControl
import Foundation
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

        func step(_ command: Command, _ actor: Actor, _ events: [InteractionEvent], _ actions: [Action],
                  sourceLocation: SourceLocation = #_sourceLocation) {
            let outcome = h.send(command, as: actor, sourceLocation: sourceLocation)
            #expect(outcome.events.map(\.subject) == events.map { .interaction(call, $0) }, sourceLocation: sourceLocation)
            #expect(outcome.actions == actions, sourceLocation: sourceLocation)
        }

        // agent1 has been available longest, so routing offers the call to agent1.
        h.advance(seconds: 1)
        let ringDeadline = h.now.adding(milliseconds: 11_000)
        step(.customerCall(call, queue: "sales", from: "+15550100"), .customer,
             [.arrived(queue: "sales", customerNumber: "+15550100"), .offered(to: a1)],
             [.startTimer(.ringNoAnswer(call, a1), deadline: ringDeadline), .ring(call, .agent(a1)),
              .setMedia(call, MediaPlan(customerHearsMusic: true)), .notifyAgent(a1, call),
              .agentStateChanged(a1)])
        step(.accept(call), .agent(a1), [.accepted(by: a1)],
             [.cancelTimer(.ringNoAnswer(call, a1)),
              .setMedia(call, MediaPlan(conversation: [.customer, .agent(a1)])),
              .notifyAgent(a1, call), .agentStateChanged(a1)])
        let consultDeadline = h.now.adding(milliseconds: 11_000)
        step(.consult(call, to: .agent(a2)), .agent(a1), [.consultStarted(.agent(a2))],
             [.startTimer(.ringNoAnswer(call, a2), deadline: consultDeadline), .ring(call, .agent(a2)),
              .setMedia(call, MediaPlan(customerHearsMusic: true)),
              .notifyAgent(a1, call), .notifyAgent(a2, call), .agentStateChanged(a2)])
        step(.consultAccept(call), .agent(a2), [.consultAnswered(.agent(a2))],
             [.cancelTimer(.ringNoAnswer(call, a2)),
              .setMedia(call, MediaPlan(consultation: [.agent(a1), .agent(a2)], customerHearsMusic: true)),
              .notifyAgent(a1, call), .notifyAgent(a2, call), .agentStateChanged(a2)])
        step(.conference(call), .agent(a1), [.conferenceStarted],
             [.setMedia(call, MediaPlan(conversation: [.customer, .agent(a1), .agent(a2)])),
              .notifyAgent(a1, call), .notifyAgent(a2, call)])
        step(.exitConference(call), .agent(a2), [.conferenceExited(.agent(a2))],
             [.hangUp(call, .agent(a2)),
              .setMedia(call, MediaPlan(conversation: [.customer, .agent(a1)])),
              .notifyAgent(a1, call), .notifyAgent(a2, call), .agentStateChanged(a2)])
        let wrapUpDeadline = h.now.adding(milliseconds: 61_000)
        step(.end(call), .agent(a1), [.endedByOwner],
             [.startTimer(.autoWrapUp(call, a1), deadline: wrapUpDeadline),
              .hangUp(call, .agent(a1)), .hangUp(call, .customer), .setMedia(call, .silent),
              .notifyAgent(a1, call), .agentStateChanged(a1)])
        step(.wrapUp(call, code: "resolved", notes: "sorted"), .agent(a1),
             [.wrapUpApplied(agent: a1, code: "resolved", notes: "sorted", automatic: false)],
             [.cancelTimer(.autoWrapUp(call, a1)), .notifyAgent(a1, call), .agentStateChanged(a1)])
        #expect(h.interaction.isFinished)
        #expect(h.interaction.version == 9)
        h.center.purgeFinished()
        #expect(h.center.interactions.isEmpty)
    }

    @Test func eventsSurviveAJSONRoundTripAndReplayToTheSameCenter() throws {
        var h = Harness()
        h.conference()
        h.accept(.customerHungUp(h.call), as: .customer)
        let data = try JSONEncoder().encode(h.log)
        let decoded = try JSONDecoder().decode([Event].self, from: data)
        #expect(decoded == h.log)
        #expect(CallCenter.replay(h.center.configuration, decoded) == h.center)
    }

    @Test func aRestartedShellRearmsTheSameTimersFromTheReplayedState() {
        var h = Harness()
        h.connected()
        h.accept(.consult(h.call, to: .agent(Harness.agent2)), as: .agent(Harness.agent1))
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
        h.reject(.customerCall(long, queue: "sales", from: "+15550100"), as: .customer, with: .invalidIdentifier)
        h.reject(.customerCall(h.call, queue: "sales", from: "+1234567890123456"), as: .customer, with: .invalidDialNumber)
        h.reject(.customerCall(h.call, queue: "sales", from: "+1"), as: .customer, with: .invalidDialNumber)
        #expect(DialNumber("+442079460000").rawValue == "+442079460000")
        #expect(DialNumber("442079460000") != DialNumber("+442079460000"))
        var configuration = Harness.configuration()
        configuration.wrapUpCodes.append("a-wrap-up-code-that-is-long")
        #expect(configuration.problems().map(\.field) == ["wrapUpCodes"])
    }
}
