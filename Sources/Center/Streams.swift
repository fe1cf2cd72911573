import CallControl
import Foundation

/// The users' event streams (docs/architecture.md, docs/ha.md): opening and closing sessions, and
/// catching up a desktop from before this node served.

/// Calls finished lately, each with the log number of the event that finished it and who was on
/// it: what a desktop catching up from before this node served must drop. Bounded: the newest
/// `kept` to `2 × kept` endings; a client asking from before them resyncs.
struct RecentEndings {
    static let kept = 1_000

    struct Ending {
        var id: InteractionID
        var at: Int
        var agents: [AgentID]
        var version: Int
    }

    /// Every ending numbered from here on is known.
    private(set) var knownFrom: Int
    private var endings: [Ending] = []

    init(knownFrom: Int) { self.knownFrom = knownFrom }

    mutating func record(_ interaction: Interaction, at sequence: Int) {
        endings.append(Ending(
            id: interaction.id, at: sequence, agents: interaction.participants.compactMap(\.party.agent), version: interaction.version))
        if endings.count >= 2 * Self.kept {
            knownFrom = endings[Self.kept - 1].at + 1
            endings.removeFirst(Self.kept)
        }
    }

    /// The endings numbered from `sequence` on; nil when some of them are no longer known.
    func from(_ sequence: Int) -> [Ending]? {
        guard sequence >= knownFrom else { return nil }
        return endings.filter { $0.at >= sequence }
    }
}

extension ContactCenter {
    /// Opens a session on the user's stream: the messages from `since` on (none without it; nil
    /// when they are no longer all kept, see `Feed` and `catchUp`), then everything new.
    /// `position` is the log's number the session is up to: every message numbered up to it has
    /// been sent (a command not yet durable sends its messages later, numbered above it).
    public func subscribe(_ user: String, since: Int?)
        -> (id: UUID, missed: [String]?, position: Int, stream: AsyncStream<String>)
    {
        let (stream, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(Feed.sessionBuffer))
        let id = UUID()
        var feed = feeds[user] ?? Feed()
        // This node's feeds hold what it published since it began serving; a client from before
        // that (a restart, another node that was active) catches up from the live state.
        let missed = since.map { $0 >= servingSince ? feed.messages(from: $0) : catchUp(user, since: $0) } ?? []
        feed.subscribers[id] = continuation
        feeds[user] = feed
        clearDesktopGrace(AgentID(user))  // a desktop is back: its grace period is over
        return (id, missed, position, stream)
    }

    /// The log's number every durable event is up to (what the stream's messages are numbered by).
    var position: Int { durableThrough - 1 }

    public func unsubscribe(_ user: String, _ id: UUID) {
        feeds[user]?.subscribers.removeValue(forKey: id)?.finish()
        let agent = AgentID(user)
        if center.agents[agent]?.status == .available, !hasDesktop(agent) { armDesktopGrace(agent) }
    }

    /// A desktop whose last message came from before this node served (the other node of a pair
    /// was active, or this one restarted) catches up from the live state: the tasks that ended
    /// for the user since (`taskRemoved`), then every task and agent the user sees as it is now,
    /// all numbered `position`. More than a replay from the feed would send, never less; nil
    /// (resync) when the calls that ended since are no longer all known.
    func catchUp(_ user: String, since: Int) -> [String]? {
        guard let ended = recentEndings.from(since) else { return nil }
        let supervisor = configuration.supervisors.contains { $0.id == user }
        let agent = supervisor ? nil : AgentID(user)
        var notices: [Notice] = []
        for ending in ended where agent.map(ending.agents.contains) ?? true {
            notices.append(Notice(type: "taskRemoved", taskId: ending.id.rawValue, version: ending.version))
        }
        if let agent {
            // Calls the agent left while they go on: gone from the agent's view.
            for (id, interaction) in center.interactions where interaction.participant(agent: agent) != nil && !sees(id, agent) {
                notices.append(Notice(type: "taskRemoved", taskId: id.rawValue, version: interaction.version))
            }
        }
        for task in tasks(for: agent) { notices.append(Notice(type: "task", task: task, taskId: task.id)) }
        let agents = agent.map { [$0] } ?? center.agents.keys.sorted()
        for id in agents {
            if let view = agentView(id) { notices.append(Notice(type: "agent", agent: view)) }
        }
        return notices.map { notice in
            var numbered = notice
            numbered.seq = position
            return numbered.json()
        }
    }
}
