import CallControl

/// One call's media as a value: its legs (each with the codec it chose), who hears whom (from the
/// core's `MediaPlan`), and each leg's outbound stream. Packets and 20 ms ticks go in; the packets
/// to send come out, each addressed to a leg. No sockets, no clock: the shell binds the ports,
/// latches each leg's address, and calls `tick` every 20 ms.
///
/// - A leg that hears one other party gets that party's packets as they arrive (a relay:
///   transcoded only when the two chose different laws; RFC 4733 events passed through).
/// - A leg in a conversation of three or more gets an N−1 mix on the tick, from every member's
///   jitter buffer, so loss and reordering on one leg never stall the others.
/// - A leg on music gets the music source's current frame on the tick.
/// - A leg that hears nothing gets nothing.
///
/// Each leg's outbound stream keeps one SSRC and continues its sequence numbers and timestamps
/// across changes of source (relay, mix, music), so phones see one steady stream.
public struct CallMedia: Sendable {
    public struct LegMedia: Sendable {
        public var law: G711.Law
        /// The payload type the leg uses for `telephone-event`, if it offered one.
        public var eventPayloadType: UInt8?
        var jitter = JitterBuffer()
        // The leg's outbound stream.
        public let ssrc: UInt32
        public internal(set) var sequence: UInt16
        public internal(set) var timestamp: UInt32
        /// While relaying: how the source's sequence numbers and timestamps map onto ours.
        var relayOffsets: (source: Leg, sequence: UInt16, timestamp: UInt32)?
        /// The SSRC of the stream the leg sends now: a new one (a browser's new session after a
        /// reload, a phone restarting its RTP) numbers its packets afresh.
        var incomingSSRC: UInt32?
    }

    /// A packet to send to a leg (to the address it latched).
    public struct Outbound: Equatable, Sendable {
        public var to: Leg
        public var packet: RTPPacket
    }

    public private(set) var legs: [Leg: LegMedia] = [:]
    public private(set) var plan = MediaPlan.silent
    public private(set) var hearing: [Leg: Hearing] = [:]
    /// Digits sent by each leg (RFC 4733), oldest first: for a later IVR, and the tests.
    public private(set) var digits: [(leg: Leg, digit: Character)] = []
    private var lastEvent: [Leg: UInt32] = [:]
    private var nextSSRC: UInt32
    /// Made from `hearing` when it changes, for the tick: the conversations of three or more (each
    /// member hears all the others), the listeners whose mix is not such a conversation's (a
    /// supervisor monitoring, an agent being coached), and who hears the music.
    private var mixGroups: [[Leg]] = []
    private var mixListeners: [(listener: Leg, sources: [Leg])] = []
    private var musicListeners: [Leg] = []
    /// While the call is recorded: each recorded leg and its channel — the center's (agents, a
    /// barged supervisor: left) or the outside's (the customer, dialled numbers: right). Only the
    /// legs in a conversation or a consult are recorded: never a monitor or a coach, nor a held
    /// customer (what they say on hold was not said to us), nor Agent 1 alone while the customer
    /// is held; those spans are silence, so the file keeps the call's time.
    private var recordedLegs: [(leg: Leg, centerSide: Bool)] = []
    private var recordedSet: Set<Leg> = []
    /// The recording's frame for the last tick: 160 stereo samples, interleaved (left, right);
    /// silence while paused; nil when the call is not recorded.
    public private(set) var recordedFrame: [Int16]?

    public init(seed: UInt32) { nextSSRC = seed }

    public mutating func addLeg(_ leg: Leg, law: G711.Law, eventPayloadType: UInt8?) {
        nextSSRC = nextSSRC &* 1_664_525 &+ 1_013_904_223  // a different SSRC per leg
        legs[leg] = LegMedia(
            law: law, eventPayloadType: eventPayloadType, ssrc: nextSSRC, sequence: UInt16(truncatingIfNeeded: nextSSRC >> 7),
            timestamp: nextSSRC >> 3)
        rehear()
    }

    public mutating func removeLeg(_ leg: Leg) {
        legs[leg] = nil
        rehear()
    }

    public mutating func setPlan(_ plan: MediaPlan) {
        self.plan = plan
        rehear()
    }

    private mutating func rehear() {
        hearing = hearings(for: plan, legs: Set(legs.keys))
        var groups = Set<Set<Leg>>()
        musicListeners = []
        mixListeners = []
        for (leg, heard) in hearing {
            switch heard {
            case .relay(let source):
                if legs[leg]?.relayOffsets?.source == source { continue }
                legs[leg]?.relayOffsets = nil  // a new source: offsets are set by its first packet
            case .mix(let others):
                let group = others.union([leg])
                // A conversation only if every member hears exactly all the others.
                if group.allSatisfy({ hearing[$0] == .mix(of: group.subtracting([$0])) }) {
                    groups.insert(group)
                } else {
                    mixListeners.append((leg, others.sorted { $0.description < $1.description }))
                }
                legs[leg]?.relayOffsets = nil
            case .music:
                musicListeners.append(leg)
                legs[leg]?.relayOffsets = nil
            case .nothing:
                legs[leg]?.relayOffsets = nil
            }
        }
        mixGroups = groups.map(Array.init)
        recordedLegs = []
        if plan.recording != .off {
            // Only what is said in the call's rooms: not a leg still ringing, nor one alone.
            var seen = Set<Leg>()
            for leg in plan.conversation + plan.consultation where legs[leg] != nil && seen.insert(leg).inserted {
                switch leg {
                case .agent, .supervisor: recordedLegs.append((leg, true))  // a supervisor here is barged in
                case .customer, .dialNumber: recordedLegs.append((leg, false))
                }
            }
        }
        recordedSet = Set(recordedLegs.map(\.leg))
        if plan.recording == .off { recordedFrame = nil }
    }

    /// A packet from a leg: relayed at once to whoever hears only that leg; kept for the mix when
    /// the leg is mixed.
    public mutating func received(_ packet: RTPPacket, from source: Leg) -> [Outbound] {
        guard var sender = legs[source] else { return [] }
        if sender.incomingSSRC != packet.ssrc {
            if sender.incomingSSRC != nil { restarted(source) }
            legs[source]?.incomingSSRC = packet.ssrc
            sender = legs[source]!
        }
        let isEvent = sender.eventPayloadType.map { $0 == packet.payloadType } ?? false
        if isEvent, let event = TelephoneEvent(parsing: packet.payload), event.end, lastEvent[source] != packet.timestamp,
            let digit = event.digit
        {
            lastEvent[source] = packet.timestamp  // an event's end is sent three times
            digits.append((source, digit))
        }
        guard isEvent || G711.Law(payloadType: packet.payloadType) != nil else { return [] }  // not a codec we took
        var out: [Outbound] = []
        var mixed = false
        for (listener, heard) in hearing {
            switch heard {
            case .relay(let from) where from == source:
                if let packet = relay(packet, from: source, to: listener, isEvent: isEvent) {
                    out.append(Outbound(to: listener, packet: packet))
                }
            case .mix(let of) where of.contains(source):
                mixed = true
            case .relay, .mix, .music, .nothing:
                break
            }
        }
        if mixed || recordedSet.contains(source), !isEvent, let law = G711.Law(payloadType: packet.payloadType) {
            legs[source]?.jitter.insert(sequence: packet.sequence, frame: G711.decode(packet.payload, law))
        }
        return out
    }

    /// The leg's stream started again under a new SSRC: its old numbers mean nothing now, so its
    /// jitter buffer starts empty and those relaying it map its numbers afresh (their own streams
    /// carry on without a jump).
    private mutating func restarted(_ source: Leg) {
        legs[source]?.jitter = JitterBuffer()
        for (leg, media) in legs where media.relayOffsets?.source == source { legs[leg]?.relayOffsets = nil }
    }

    private mutating func relay(_ packet: RTPPacket, from source: Leg, to listener: Leg, isEvent: Bool) -> RTPPacket? {
        guard var target = legs[listener], let sender = legs[source] else { return nil }
        if target.relayOffsets == nil {
            // Continue our stream where it stopped: the next number, a frame after our last timestamp.
            target.relayOffsets = (
                source, target.sequence &+ 1 &- packet.sequence, target.timestamp &+ UInt32(Frame.samples) &- packet.timestamp
            )
        }
        guard let offsets = target.relayOffsets else { return nil }
        var out = packet
        out.ssrc = target.ssrc
        out.csrcs = []
        out.sequence = packet.sequence &+ offsets.sequence
        out.timestamp = packet.timestamp &+ offsets.timestamp
        if isEvent {
            guard let type = target.eventPayloadType else { return nil }  // the listener takes no events
            out.payloadType = type
        } else if sender.law != target.law {
            out.payloadType = target.law.payloadType
            out.payload = G711.transcode(packet.payload, from: sender.law, to: target.law)
        }
        // Only forward moves the stream on (a reordered packet keeps its place, not ours).
        if sequenceDistance(from: target.sequence, to: out.sequence) > 0 { target.sequence = out.sequence }
        if Int32(bitPattern: out.timestamp &- target.timestamp) > 0 { target.timestamp = out.timestamp }
        legs[listener] = target
        return out
    }

    /// The 20 ms tick: each mixed leg's N−1 mix, and the music to those who hear it (`music`: the
    /// source's frame for this tick, linear; nil when there is none).
    ///
    /// A conversation's frames are summed once; each member's packet is that sum less their own
    /// frame, clipped and encoded in one pass (no frame of linear audio per listener).
    public mutating func tick(music: [Int16]?) -> [Outbound] {
        var out: [Outbound] = []
        out.reserveCapacity(legs.count)
        // Each source's frame for this tick, when listeners outside its conversation hear it too
        // (a jitter buffer gives one frame per tick, whoever hears it). A few legs: a list.
        var pulled: [(leg: Leg, frame: [Int16])] = []
        let keep = !mixListeners.isEmpty || !recordedLegs.isEmpty
        for group in mixGroups {
            // Every member gives one frame per tick, whether or not its packet arrived.
            var frames: [[Int16]] = []
            frames.reserveCapacity(group.count)
            var total = [Int32](repeating: 0, count: Frame.samples)
            for member in group {
                let frame = legs[member]?.jitter.tick() ?? Frame.silence
                let count = min(frame.count, Frame.samples)
                frame.withUnsafeBufferPointer { samples in
                    for i in 0..<count { total[i] &+= Int32(samples[i]) }
                }
                frames.append(frame)
            }
            for (index, listener) in group.enumerated() {
                guard let law = legs[listener]?.law else { continue }
                let payload = G711.encodeMix(total, lessOwn: frames[index], law)
                if let packet = nextPacket(to: listener, payload: payload) { out.append(Outbound(to: listener, packet: packet)) }
            }
            if keep { for (index, member) in group.enumerated() { pulled.append((member, frames[index])) } }
        }
        for (listener, sources) in mixListeners {
            var total = [Int32](repeating: 0, count: Frame.samples)
            for source in sources {
                let frame = take(source, &pulled)
                for i in 0..<min(frame.count, Frame.samples) { total[i] &+= Int32(frame[i]) }
            }
            guard let law = legs[listener]?.law else { continue }
            let payload = G711.encodeMix(total, lessOwn: [], law)
            if let packet = nextPacket(to: listener, payload: payload) { out.append(Outbound(to: listener, packet: packet)) }
        }
        if let music, !musicListeners.isEmpty {
            var encoded: [G711.Law: [UInt8]] = [:]
            for listener in musicListeners {
                guard let law = legs[listener]?.law else { continue }
                let payload = encoded[law] ?? G711.encode(music, law)
                encoded[law] = payload
                if let packet = nextPacket(to: listener, payload: payload) { out.append(Outbound(to: listener, packet: packet)) }
            }
        }
        if plan.recording != .off { record(&pulled) }
        return out
    }

    /// A source's frame for this tick: pulled from its jitter buffer once, whoever needs it.
    private mutating func take(_ source: Leg, _ pulled: inout [(leg: Leg, frame: [Int16])]) -> [Int16] {
        if let taken = pulled.first(where: { $0.leg == source }) { return taken.frame }
        let frame = legs[source]?.jitter.tick() ?? Frame.silence
        pulled.append((source, frame))
        return frame
    }

    /// The recording's stereo frame for this tick: the center's legs summed on the left, the
    /// outside's on the right; silence of the same length while paused (the buffers still move on,
    /// so nothing said during the pause comes out after it).
    private mutating func record(_ pulled: inout [(leg: Leg, frame: [Int16])]) {
        // Interleaved sums (left, right, left, …), clipped once at the end.
        var sums = [Int32](repeating: 0, count: Frame.samples * 2)
        for (leg, centerSide) in recordedLegs {
            let frame = take(leg, &pulled)
            guard plan.recording == .on else { continue }
            let count = min(frame.count, Frame.samples)
            let side = centerSide ? 0 : 1
            sums.withUnsafeMutableBufferPointer { sums in
                frame.withUnsafeBufferPointer { frame in
                    for i in 0..<count { sums[2 * i + side] &+= Int32(frame[i]) }
                }
            }
        }
        recordedFrame = sums.map { Int16(clamping: $0) }
    }

    /// The leg's next packet of its own stream (mix or music).
    private mutating func nextPacket(to listener: Leg, payload: [UInt8]) -> RTPPacket? {
        guard var target = legs[listener] else { return nil }
        target.sequence &+= 1
        target.timestamp &+= UInt32(Frame.samples)
        target.relayOffsets = nil
        legs[listener] = target
        return RTPPacket(
            payloadType: target.law.payloadType, sequence: target.sequence, timestamp: target.timestamp, ssrc: target.ssrc,
            payload: payload)
    }

    /// Loss and lateness seen on a leg's inbound stream (what its jitter buffer counted).
    public func statistics(of leg: Leg) -> (received: Int, lost: Int, late: Int)? {
        legs[leg].map { ($0.jitter.received, $0.jitter.lost, $0.jitter.late) }
    }
}
