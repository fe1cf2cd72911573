import CallControl
import Testing

/// Drives a `CallCenter` with a manual clock and checks, after every accepted command, that the
/// events it returned fold into exactly the live state.
struct Harness {
    var center: CallCenter
    var now = Timestamp(milliseconds: 1_000_000)
    var log: [Event] = []
    let call: InteractionID = "call-1"

    static let agent1: AgentID = "agent1"
    static let agent2: AgentID = "agent2"
    static let agent3: AgentID = "agent3"

    static let supervisor1: SupervisorID = "supervisor1"
    static let supervisor2: SupervisorID = "supervisor2"

    static func configuration(
        agents: Int = 3, maxConferenceParties: Int = 3, monitorsPerCall: Int = 1, recordedQueues: Set<QueueID> = []
    ) -> CenterConfiguration {
        CenterConfiguration(
            agents: (1...agents).map { .init(id: AgentID("agent\($0)"), team: $0 <= 3 ? "blue" : "green") },
            queues: [.init(id: "sales", teams: ["blue"]), .init(id: "support", teams: agents > 3 ? ["blue", "green"] : ["blue"])],
            wrapUpCodes: ["resolved", "escalated", "callback"],
            idleCodes: ["break", "lunch", "training"],
            ringNoAnswerMilliseconds: 10_000,
            autoWrapUpMilliseconds: 60_000,
            defaultWrapUpCode: "resolved",
            maxConferenceParties: maxConferenceParties,
            // supervisor2 looks after support only.
            supervisors: [.init(id: "supervisor1"), .init(id: "supervisor2", queues: ["support"])],
            monitorsPerCall: monitorsPerCall,
            recordedQueues: recordedQueues)
    }

    init(_ configuration: CenterConfiguration = Harness.configuration()) {
        center = CallCenter(configuration: configuration)
    }

    mutating func advance(seconds: Int64) {
        now = now.adding(milliseconds: seconds * 1000)
    }

    /// Sends a command; a rejection must change nothing.
    @discardableResult
    mutating func send(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation)
        -> Outcome
    {
        advance(seconds: 1)
        let before = center
        let outcome = center.handle(command, at: now)
        switch outcome {
        case .rejected:
            #expect(center == before, "a rejected command changed the center", sourceLocation: sourceLocation)
        case .accepted(let events, _):
            log += events
            #expect(
                CallCenter.replay(center.configuration, log) == center, "replaying the events gives another center",
                sourceLocation: sourceLocation)
            for id in Set(events.compactMap(\.interactionID)) {
                #expect(
                    fold(id) == center.interactions[id], "folding \(id)'s events gives another interaction",
                    sourceLocation: sourceLocation)
            }
        }
        return outcome
    }

    /// Sends a command that must be accepted, and returns its actions.
    @discardableResult
    mutating func accept(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation)
        -> [Action]
    {
        let outcome = send(command, sourceLocation: sourceLocation)
        #expect(outcome.rejection == nil, "\(command) was rejected", sourceLocation: sourceLocation)
        return outcome.actions
    }

    /// Sends a command that must be rejected with this code.
    mutating func reject(
        _ command: Command, with rejection: Rejection, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let outcome = send(command, sourceLocation: sourceLocation)
        #expect(outcome.rejection == rejection, sourceLocation: sourceLocation)
    }

    func fold(_ id: InteractionID) -> Interaction? {
        Interaction.fold(
            id: id,
            log.compactMap { event in
                if case .interaction(id, let change) = event.subject { (change, event.at) } else { nil }
            })
    }

    // MARK: - Reading

    var interaction: Interaction { center.interactions[call]! }
    var status: InteractionStatus { interaction.status }

    func allowed(_ agent: AgentID) -> Set<TaskAction> {
        Set(center.allowedActions(for: agent, in: call))
    }

    func agentStatus(_ agent: AgentID) -> AgentStatus { center.agents[agent]!.status }

    func participant(_ agent: AgentID) -> Participant? { interaction.participant(agent: agent) }

    // MARK: - Getting to a state

    mutating func signIn(_ agents: AgentID...) {
        for agent in agents {
            accept(.agent(agent, .login))
            accept(.agent(agent, .setAvailable))
        }
    }

    /// A customer's call to sales, answered by agent1; with `standby`, agent2 and agent3 then
    /// sign in and wait, available.
    mutating func connected(standby: Bool = true) {
        signIn(Self.agent1)
        accept(.arrival(call, queue: "sales", from: "+15550100"))
        #expect(agentStatus(Self.agent1) == .reserved(call))
        accept(.desktop(Self.agent1, call, .accept))
        if standby { signIn(Self.agent2, Self.agent3) }
    }

    /// Agent 1 consulting Agent 2, who has answered.
    mutating func consulting() {
        connected()
        accept(.desktop(Self.agent1, call, .consult(to: .agent(Self.agent2))))
        accept(.desktop(Self.agent2, call, .consultAccept))
    }

    /// The spec's three-party conference: customer, Agent 1 (owner), Agent 2.
    mutating func conference() {
        consulting()
        accept(.desktop(Self.agent1, call, .conference))
    }
}
