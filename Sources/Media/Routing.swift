import CallControl

/// What one leg hears, as the media plan says.
public enum Hearing: Hashable, Sendable {
    /// Nothing (no packets are sent to it).
    case nothing
    /// The one other party of a two-way conversation: relayed, decoded only if the codecs differ.
    case relay(from: Leg)
    /// Everyone else in a conversation of three or more: an N−1 mix.
    case mix(of: Set<Leg>)
    /// The music (queued, held, consulting).
    case music
}

/// Who hears what for an interaction's `MediaPlan`, over the legs that have media now (a leg still
/// ringing, or gone, hears nothing and is heard by no one). Every leg gets an answer.
public func hearings(for plan: MediaPlan, legs present: Set<Leg>) -> [Leg: Hearing] {
    var result: [Leg: Hearing] = [:]
    for leg in present { result[leg] = .nothing }
    for group in [plan.conversation, plan.consultation] {
        let members = group.filter(present.contains)
        for leg in members {
            let others = Set(members.filter { $0 != leg })
            switch others.count {
            case 0: result[leg] = .nothing
            case 1: result[leg] = .relay(from: others.first!)
            default: result[leg] = .mix(of: others)
            }
        }
    }
    // The customer on music is in no conversation; music never replaces a conversation.
    if plan.customerHearsMusic, present.contains(.customer), result[.customer] == .nothing {
        result[.customer] = .music
    }
    // Supervisors listening in: each hears its room; a coach is heard by one leg besides.
    for listener in plan.listeners where present.contains(listener.leg) {
        let heard = listener.hears.filter { present.contains($0) && $0 != listener.leg }
        switch heard.count {
        case 0: result[listener.leg] = .nothing
        case 1: result[listener.leg] = .relay(from: heard[0])
        default: result[listener.leg] = .mix(of: Set(heard))
        }
        guard let target = listener.heardBy, present.contains(target), target != listener.leg else { continue }
        switch result[target] ?? .nothing {
        case .nothing: result[target] = .relay(from: listener.leg)
        case .relay(let from): result[target] = .mix(of: [from, listener.leg])
        case .mix(let of): result[target] = .mix(of: of.union([listener.leg]))
        case .music: break  // (an agent never hears the music)
        }
    }
    return result
}
