/// The transaction layer's four state machines (RFC 3261 §17, with RFC 6026's Accepted state for
/// 2xx to INVITE). Each is a value: it takes a message, a response from the transaction user
/// (TU) or a fired timer, and returns the actions to perform — send, start or cancel a timer,
/// deliver to the TU, report a timeout, forget the transaction. No I/O, no clock.
///
/// Retransmission (timers A, E, G) happens only over unreliable transports; the waits that
/// absorb retransmissions (D, I, J, K) are zero over reliable ones, which ends the transaction
/// at once.

public enum TransactionTimer: Hashable, Sendable {
    /// Client INVITE: retransmit the INVITE (A), give up (B), absorb final-response retransmissions (D);
    /// RFC 6026: absorb 2xx retransmissions (M).
    case a, b, d, m
    /// Client non-INVITE: retransmit (E), give up (F), absorb response retransmissions (K).
    case e, f, k
    /// Server INVITE: retransmit the final response (G), give up waiting for the ACK (H), absorb ACK
    /// retransmissions (I); RFC 6026: absorb INVITE retransmissions after a 2xx (L).
    case g, h, i, l
    /// Server non-INVITE: absorb request retransmissions (J).
    case j
}

/// T1, T2, T4 (RFC 3261 §17.1.1.1, table 4).
public struct SIPTimerValues: Sendable, Equatable {
    public var t1: Duration = .milliseconds(500)
    public var t2: Duration = .seconds(4)
    public var t4: Duration = .seconds(5)
    public init() {}
    public init(t1: Duration, t2: Duration, t4: Duration) {
        self.t1 = t1
        self.t2 = t2
        self.t4 = t4
    }
}

public enum TransactionAction: Equatable, Sendable {
    /// To the transport: the request to the next hop, or a response to where the request came from.
    case send(SIPMessage)
    case startTimer(TransactionTimer, Duration)
    case cancelTimer(TransactionTimer)
    /// To the TU: a new request (server) or a response (client).
    case deliver(SIPMessage)
    /// To the TU: no final response came in time (client, timers B and F), or no ACK (server, timer H).
    case timeout
    /// The layer forgets this transaction.
    case terminated
}

// MARK: - Client INVITE

/// ```
///            INVITE sent (A if unreliable, B)
///                  │
///                  ▼      1xx
///              Calling ─────────► Proceeding ──1xx──┐ (to TU)
///               │  │ B             │    │  ◄────────┘
///               │  └─► Terminated  │    │
///      300-699  │   (timeout)      │    │ 2xx
///     ACK sent  ▼   300-699        │    ▼
///           Completed ◄────────────┘  Accepted ──M──► Terminated
///               │ D                   (2xx retransmissions to TU)
///               ▼
///           Terminated
/// ```
public struct ClientInviteTransaction: Sendable {
    public enum State: Equatable, Sendable {
        /// The INVITE is out; `interval` is timer A's next wait.
        case calling(interval: Duration)
        case proceeding
        /// The ACK sent for the final response, sent again when the response is retransmitted.
        case completed(ack: SIPRequest)
        case accepted
        case terminated
    }

    public private(set) var state: State
    let request: SIPRequest
    let reliable: Bool
    let timers: SIPTimerValues

    public static func start(_ invite: SIPRequest, reliable: Bool, timers: SIPTimerValues = SIPTimerValues())
        -> (ClientInviteTransaction, [TransactionAction])
    {
        let machine = ClientInviteTransaction(
            state: .calling(interval: timers.t1), request: invite, reliable: reliable, timers: timers)
        var actions: [TransactionAction] = [.send(.request(invite))]
        if !reliable { actions.append(.startTimer(.a, timers.t1)) }
        actions.append(.startTimer(.b, timers.t1 * 64))
        return (machine, actions)
    }

    public mutating func receive(_ response: SIPResponse) -> [TransactionAction] {
        switch state {
        case .calling, .proceeding:
            let leaving: [TransactionAction] = state == .proceeding ? [] : [.cancelTimer(.a), .cancelTimer(.b)]
            if response.isProvisional {
                state = .proceeding
                return leaving + [.deliver(.response(response))]
            }
            if response.status < 300 {
                state = .accepted
                return leaving + [.deliver(.response(response)), .startTimer(.m, timers.t1 * 64)]
            }
            let ack = ClientInviteTransaction.ack(for: request, response: response)
            state = .completed(ack: ack)
            return leaving + [
                .send(.request(ack)), .deliver(.response(response)),
                .startTimer(.d, reliable ? .zero : .seconds(32)),
            ]
        case .completed(let ack):
            // A retransmitted final response: the ACK again, nothing to the TU.
            return response.status >= 300 ? [.send(.request(ack))] : []
        case .accepted:
            // 2xx retransmissions go to the TU, which ACKs each (RFC 6026 §7.2).
            return response.status >= 200 && response.status < 300 ? [.deliver(.response(response))] : []
        case .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        switch (state, timer) {
        case (.calling(let interval), .a):
            state = .calling(interval: interval * 2)
            return [.send(.request(request)), .startTimer(.a, interval * 2)]
        case (.calling, .b):
            state = .terminated
            return [.cancelTimer(.a), .timeout, .terminated]
        case (.completed, .d), (.accepted, .m):
            state = .terminated
            return [.terminated]
        case (.calling, _), (.proceeding, _), (.completed, _), (.accepted, _), (.terminated, _):
            return []
        }
    }

    /// The transport could not deliver the request: the same as a timeout (RFC 3261 §17.1.1.2).
    public mutating func transportError() -> [TransactionAction] {
        switch state {
        case .calling, .proceeding:
            state = .terminated
            return [.cancelTimer(.a), .cancelTimer(.b), .timeout, .terminated]
        case .completed, .accepted, .terminated:
            return []
        }
    }

    /// The ACK for a non-2xx final response (RFC 3261 §17.1.1.3): same Request-URI, Call-ID, From,
    /// top Via and CSeq number as the INVITE; the To of the response (with its tag); its Routes.
    static func ack(for invite: SIPRequest, response: SIPResponse) -> SIPRequest {
        var headers = SIPHeaders()
        if let via = invite.headers.values("Via").first { headers.add("Via", via) }
        for route in invite.headers.values("Route") { headers.add("Route", route) }
        headers.add("Max-Forwards", "70")
        headers.add("From", invite.headers["From"] ?? "")
        headers.add("To", response.headers["To"] ?? invite.headers["To"] ?? "")
        headers.add("Call-ID", invite.headers["Call-ID"] ?? "")
        headers.add("CSeq", "\(invite.cseq?.number ?? 1) ACK")
        return SIPRequest(method: .ack, requestURI: invite.requestURI, headers: headers)
    }
}

// MARK: - Client non-INVITE

/// ```
///          request sent (E if unreliable, F)
///                  │
///                  ▼      1xx
///               Trying ─────────► Proceeding ──1xx, E──┐
///                 │  │ F             │   │ F  ◄────────┘
///                 │  └──────────┐    │   └──► Terminated (timeout)
///        200-699  │             ▼    │ 200-699
///                 ▼         Terminated
///             Completed ◄────────────┘
///                 │ K
///                 ▼
///             Terminated
/// ```
public struct ClientNonInviteTransaction: Sendable {
    public enum State: Equatable, Sendable {
        /// `interval` is timer E's next wait.
        case trying(interval: Duration)
        case proceeding
        case completed
        case terminated
    }

    public private(set) var state: State
    let request: SIPRequest
    let reliable: Bool
    let timers: SIPTimerValues

    public static func start(_ request: SIPRequest, reliable: Bool, timers: SIPTimerValues = SIPTimerValues())
        -> (ClientNonInviteTransaction, [TransactionAction])
    {
        let machine = ClientNonInviteTransaction(
            state: .trying(interval: timers.t1), request: request, reliable: reliable, timers: timers)
        var actions: [TransactionAction] = [.send(.request(request))]
        if !reliable { actions.append(.startTimer(.e, timers.t1)) }
        actions.append(.startTimer(.f, timers.t1 * 64))
        return (machine, actions)
    }

    public mutating func receive(_ response: SIPResponse) -> [TransactionAction] {
        switch state {
        case .trying, .proceeding:
            if response.isProvisional {
                state = .proceeding
                return [.deliver(.response(response))]
            }
            state = reliable ? .terminated : .completed
            let ending: [TransactionAction] = reliable ? [.terminated] : [.startTimer(.k, timers.t4)]
            return [.cancelTimer(.e), .cancelTimer(.f), .deliver(.response(response))] + ending
        case .completed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        switch (state, timer) {
        case (.trying(let interval), .e):
            let next = min(interval * 2, timers.t2)
            state = .trying(interval: next)
            return [.send(.request(request)), .startTimer(.e, next)]
        case (.proceeding, .e):
            return [.send(.request(request)), .startTimer(.e, timers.t2)]
        case (.trying, .f), (.proceeding, .f):
            state = .terminated
            return [.cancelTimer(.e), .timeout, .terminated]
        case (.completed, .k):
            state = .terminated
            return [.terminated]
        case (.trying, _), (.proceeding, _), (.completed, _), (.terminated, _):
            return []
        }
    }

    public mutating func transportError() -> [TransactionAction] {
        switch state {
        case .trying, .proceeding:
            state = .terminated
            return [.cancelTimer(.e), .cancelTimer(.f), .timeout, .terminated]
        case .completed, .terminated:
            return []
        }
    }
}

// MARK: - Server INVITE

/// ```
///      INVITE received: 100 Trying sent, INVITE to TU
///                  │
///                  ▼   1xx from TU (sent); INVITE again: last 1xx again
///             Proceeding ◄──┐
///              │   │  └─────┘
///      300-699 │   │ 2xx from TU
///     (G, H)   │   ▼
///              │ Accepted ──L──► Terminated      (INVITE again: absorbed;
///              ▼                                  2xx again from TU: sent)
///          Completed ──H──► Terminated (timeout)
///       G: final again; INVITE again: final again
///              │ ACK
///              ▼
///          Confirmed ──I──► Terminated
/// ```
public struct ServerInviteTransaction: Sendable {
    public enum State: Equatable, Sendable {
        case proceeding(lastProvisional: SIPResponse)
        /// `interval` is timer G's next wait.
        case completed(final: SIPResponse, interval: Duration)
        case confirmed
        case accepted
        case terminated
    }

    public private(set) var state: State
    let reliable: Bool
    let timers: SIPTimerValues

    /// A new INVITE: 100 Trying at once (so the client stops retransmitting), and the INVITE to the TU.
    public static func start(_ invite: SIPRequest, reliable: Bool, timers: SIPTimerValues = SIPTimerValues())
        -> (ServerInviteTransaction, [TransactionAction])
    {
        let trying = SIPResponse(answering: invite, status: 100)
        let machine = ServerInviteTransaction(
            state: .proceeding(lastProvisional: trying), reliable: reliable, timers: timers)
        return (machine, [.send(.response(trying)), .deliver(.request(invite))])
    }

    /// The INVITE again, or its ACK.
    public mutating func receive(_ request: SIPRequest) -> [TransactionAction] {
        switch (state, request.method) {
        case (.proceeding(let last), .invite):
            return [.send(.response(last))]
        case (.completed(let final, _), .invite):
            return [.send(.response(final))]
        case (.completed, .ack):
            guard !reliable else {
                state = .terminated
                return [.cancelTimer(.g), .cancelTimer(.h), .terminated]
            }
            state = .confirmed
            return [.cancelTimer(.g), .cancelTimer(.h), .startTimer(.i, timers.t4)]
        case (.accepted, .ack):
            // An ACK for the 2xx that reuses the INVITE's branch (RFC 2543 style): the TU's.
            return [.deliver(.request(request))]
        case (.proceeding, _), (.completed, _), (.confirmed, _), (.accepted, _), (.terminated, _):
            return []
        }
    }

    /// A response from the TU.
    public mutating func send(_ response: SIPResponse) -> [TransactionAction] {
        switch state {
        case .proceeding:
            if response.isProvisional {
                state = .proceeding(lastProvisional: response)
                return [.send(.response(response))]
            }
            if response.status < 300 {
                state = .accepted
                return [.send(.response(response)), .startTimer(.l, timers.t1 * 64)]
            }
            state = .completed(final: response, interval: timers.t1)
            let retransmit: [TransactionAction] = reliable ? [] : [.startTimer(.g, timers.t1)]
            return [.send(.response(response))] + retransmit + [.startTimer(.h, timers.t1 * 64)]
        case .accepted:
            // The TU retransmits its 2xx until the ACK comes (RFC 3261 §13.3.1.4).
            return response.status >= 200 && response.status < 300 ? [.send(.response(response))] : []
        case .completed, .confirmed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        switch (state, timer) {
        case (.completed(let final, let interval), .g):
            let next = min(interval * 2, timers.t2)
            state = .completed(final: final, interval: next)
            return [.send(.response(final)), .startTimer(.g, next)]
        case (.completed, .h):
            state = .terminated
            return [.cancelTimer(.g), .timeout, .terminated]
        case (.confirmed, .i), (.accepted, .l):
            state = .terminated
            return [.terminated]
        case (.proceeding, _), (.completed, _), (.confirmed, _), (.accepted, _), (.terminated, _):
            return []
        }
    }
}

// MARK: - Server non-INVITE

/// ```
///      request received: to TU
///                  │
///                  ▼        1xx from TU
///               Trying ─────────────► Proceeding ──1xx; request again: last 1xx──┐
///     (request again: absorbed)        │    ◄─────────────────────────────────────┘
///                  │ 200-699 from TU    │ 200-699 from TU
///                  ▼                    ▼
///               Completed ◄─────────────┘   (request again: final again)
///                  │ J
///                  ▼
///               Terminated
/// ```
public struct ServerNonInviteTransaction: Sendable {
    public enum State: Equatable, Sendable {
        case trying
        case proceeding(last: SIPResponse)
        case completed(final: SIPResponse)
        case terminated
    }

    public private(set) var state: State
    let reliable: Bool
    let timers: SIPTimerValues

    public static func start(_ request: SIPRequest, reliable: Bool, timers: SIPTimerValues = SIPTimerValues())
        -> (ServerNonInviteTransaction, [TransactionAction])
    {
        (ServerNonInviteTransaction(state: .trying, reliable: reliable, timers: timers), [.deliver(.request(request))])
    }

    /// The request again.
    public mutating func receive(_ request: SIPRequest) -> [TransactionAction] {
        switch state {
        case .trying, .terminated: []
        case .proceeding(let last): [.send(.response(last))]
        case .completed(let final): [.send(.response(final))]
        }
    }

    public mutating func send(_ response: SIPResponse) -> [TransactionAction] {
        switch state {
        case .trying, .proceeding:
            if response.isProvisional {
                state = .proceeding(last: response)
                return [.send(.response(response))]
            }
            guard !reliable else {
                state = .terminated
                return [.send(.response(response)), .terminated]
            }
            state = .completed(final: response)
            return [.send(.response(response)), .startTimer(.j, timers.t1 * 64)]
        case .completed, .terminated:
            return []
        }
    }

    public mutating func timerFired(_ timer: TransactionTimer) -> [TransactionAction] {
        switch (state, timer) {
        case (.completed, .j):
            state = .terminated
            return [.terminated]
        case (.trying, _), (.proceeding, _), (.completed, _), (.terminated, _):
            return []
        }
    }
}
