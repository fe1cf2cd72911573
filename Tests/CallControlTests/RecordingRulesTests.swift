import CallControl
import Testing

private let agent1 = Harness.agent1
private let agent2 = Harness.agent2

/// Recording as rules: a recorded queue's call is recorded from an agent's answer until the
/// customer's contact ends; only the owning agent pauses and resumes it.
@Suite("Recording")
struct RecordingRulesTests {
    private func recorded() -> Harness { Harness(Harness.configuration(recordedQueues: ["sales"])) }

    private func recording(_ h: Harness) -> MediaPlan.Recording { h.center.mediaPlan(of: h.interaction).recording }

    @Test func aRecordedQueuesCallIsRecordedFromTheAnswerUntilTheCustomerLeaves() {
        var h = recorded()
        h.signIn(agent1)
        let arrived = h.accept(.arrival(h.call, queue: "sales", from: "+15550100"))
        #expect(recording(h) == .off, "music while queued and ringing is not recorded")
        #expect(!arrived.contains { if case .setMedia(_, let plan) = $0 { plan.recording != .off } else { false } })
        let accepted = h.accept(.desktop(agent1, h.call, .accept))
        #expect(recording(h) == .on)
        #expect(accepted.contains { if case .setMedia(_, let plan) = $0 { plan.recording == .on } else { false } })
        h.accept(.desktop(agent1, h.call, .hold))
        #expect(recording(h) == .on, "on hold the recording runs on (silence: nobody talks to anyone on the call)")
        h.accept(.desktop(agent1, h.call, .resume))
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(recording(h) == .off)
    }

    @Test func aCallOfAQueueThatDoesNotRecordIsNeverRecordedAndCannotBePaused() {
        var h = recorded()
        h.signIn(agent1)
        h.accept(.arrival(h.call, queue: "support", from: "+15550100"))
        h.accept(.desktop(agent1, h.call, .accept))
        #expect(recording(h) == .off)
        h.reject(.desktop(agent1, h.call, .pauseRecording), with: .notRecorded)
        #expect(!h.allowed(agent1).contains(.pauseRecording))
    }

    @Test func theOwningAgentPausesAndResumesTheRecordingAndNobodyElseMay() {
        var h = recorded()
        h.consulting()
        #expect(h.allowed(agent1).contains(.pauseRecording))
        #expect(!h.allowed(agent2).contains(.pauseRecording))
        h.reject(.desktop(agent2, h.call, .pauseRecording), with: .notOwner)
        h.reject(.desktop(agent1, h.call, .resumeRecording), with: .recordingNotPaused)
        let paused = h.accept(.desktop(agent1, h.call, .pauseRecording))
        #expect(recording(h) == .paused)
        #expect(paused.contains { if case .setMedia(_, let plan) = $0 { plan.recording == .paused } else { false } })
        #expect(paused.contains(.notifyAgent(agent1, h.call)), "the desktop shows the pause")
        h.reject(.desktop(agent1, h.call, .pauseRecording), with: .recordingAlreadyPaused)
        #expect(h.allowed(agent1).contains(.resumeRecording) && !h.allowed(agent1).contains(.pauseRecording))
        h.accept(.desktop(agent1, h.call, .resumeRecording))
        #expect(recording(h) == .on)
    }

    @Test func aPauseCarriesOverToTheNewOwnerAfterATransferWhoMayResumeIt() {
        var h = recorded()
        h.consulting()
        h.accept(.desktop(agent1, h.call, .pauseRecording))
        h.accept(.desktop(agent1, h.call, .consultTransfer))
        #expect(recording(h) == .paused)
        h.accept(.desktop(agent2, h.call, .resumeRecording))
        #expect(recording(h) == .on)
    }

    @Test func inWrapUpAssistNothingIsRecordedAndNothingPaused() {
        var h = recorded()
        h.conference()
        h.accept(.line(h.call, .hungUp(.customer)))
        #expect(recording(h) == .off)
        h.reject(.desktop(agent1, h.call, .pauseRecording), with: .notAllowedInWrapUpAssist)
    }
}
