/// Where a message came from or goes: a transport and an address. Over TCP the shell maps the
/// peer to its connection.
public struct SIPPeer: Hashable, Sendable, Codable, CustomStringConvertible {
    public enum Transport: String, Sendable, Codable { case udp = "UDP", tcp = "TCP", tls = "TLS" }
    public var transport: Transport
    public var host: String
    public var port: Int

    public init(_ transport: Transport, host: String, port: Int) {
        self.transport = transport
        self.host = host
        self.port = port
    }

    /// TCP and TLS: no retransmissions, and the absorbing waits are zero.
    public var reliable: Bool { transport != .udp }
    public var description: String { "\(transport.rawValue.lowercased()):\(SIPSyntax.hostText(host)):\(port)" }
}

/// A server transaction is found by its top Via's branch and sent-by, and its method with ACK
/// standing for INVITE (RFC 3261 §17.2.3); a CANCEL has a transaction of its own.
public struct ServerTransactionID: Hashable, Sendable {
    public var branch: String
    public var sentBy: String
    public var method: SIPMethod

    /// The INVITE transaction a CANCEL with this ID is about.
    public var cancelledInvite: ServerTransactionID { ServerTransactionID(branch: branch, sentBy: sentBy, method: .invite) }
}

/// A client transaction is found by the branch it put in the top Via and the CSeq method of
/// the response (RFC 3261 §17.1.3).
public struct ClientTransactionID: Hashable, Sendable {
    public var branch: String
    public var method: SIPMethod

    /// The client transaction a request we sent began (its top Via's branch).
    public init(of request: SIPRequest) { (branch, method) = (request.topVia?.branch ?? "", request.method) }
    init(branch: String, method: SIPMethod) { (self.branch, self.method) = (branch, method) }
}

public enum TransactionID: Hashable, Sendable {
    case server(ServerTransactionID)
    case client(ClientTransactionID)
}

public struct TransactionTimerID: Hashable, Sendable {
    public var transaction: TransactionID
    public var timer: TransactionTimer
}

/// The transaction layer: matches each message to its transaction (a retransmission is
/// absorbed there and never reaches the TU twice), keeps the four machines, and turns their
/// actions into outputs for the shell (send to a peer, start or cancel a timer) and for the TU
/// (a new request, a response, an ACK for a 2xx, a timeout). Pure: no I/O, no clock.
public struct TransactionLayer: Sendable {
    public enum Output: Equatable, Sendable {
        case send(SIPMessage, to: SIPPeer)
        case startTimer(TransactionTimerID, Duration)
        case cancelTimer(TransactionTimerID)
        /// A new request for the TU, to be answered with `respond(_:to:)`.
        case request(SIPRequest, ServerTransactionID, from: SIPPeer)
        /// An ACK that belongs to no transaction: the ACK of a 2xx, for the dialog.
        case ack(SIPRequest, from: SIPPeer)
        case response(SIPResponse, ClientTransactionID)
        case timeout(TransactionID)
    }

    enum Server: Sendable {
        case invite(ServerInviteTransaction)
        case nonInvite(ServerNonInviteTransaction)
    }

    enum Client: Sendable {
        case invite(ClientInviteTransaction)
        case nonInvite(ClientNonInviteTransaction)
    }

    private var servers: [ServerTransactionID: (machine: Server, peer: SIPPeer)] = [:]
    private var clients: [ClientTransactionID: (machine: Client, peer: SIPPeer)] = [:]
    /// T1, T2, T4 per transport: UDP's, and the stream transports' (TCP, TLS), whose absorbing
    /// waits are zero anyway and whose T1 only sets the give-up timers (B, F, H: 64×T1).
    public let timers: SIPTimerValues
    public let streamTimers: SIPTimerValues

    public init(timers: SIPTimerValues = SIPTimerValues(), streamTimers: SIPTimerValues? = nil) {
        self.timers = timers
        self.streamTimers = streamTimers ?? timers
    }

    func timers(for peer: SIPPeer) -> SIPTimerValues { peer.reliable ? streamTimers : timers }

    public var transactionCount: Int { servers.count + clients.count }

    /// A message from the transport.
    public mutating func receive(_ message: SIPMessage, from peer: SIPPeer) -> [Output] {
        switch message {
        case .request(let request): receive(request, from: peer)
        case .response(let response): receive(response)
        }
    }

    private mutating func receive(_ incoming: SIPRequest, from peer: SIPPeer) -> [Output] {
        let request = Self.stampingReceived(incoming, from: peer)
        guard let id = Self.serverID(request) else { return [] }
        let destination = Self.responseDestination(request, from: peer)
        if let (machine, _) = servers[id] {
            switch machine {
            case .invite(var invite):
                let actions = invite.receive(request)
                servers[id] = (.invite(invite), destination)
                return outputs(actions, .server(id), destination)
            case .nonInvite(var nonInvite):
                let actions = nonInvite.receive(request)
                servers[id] = (.nonInvite(nonInvite), destination)
                return outputs(actions, .server(id), destination)
            }
        }
        switch request.method {
        case .ack:
            return [.ack(request, from: peer)]
        case .invite:
            let (machine, actions) = ServerInviteTransaction.start(request, reliable: peer.reliable, timers: timers(for: peer))
            servers[id] = (.invite(machine), destination)
            return outputs(actions, .server(id), destination, from: peer)
        case .bye, .cancel, .register, .options, .info, .update, .refer, .prack, .subscribe, .notify, .message, .other:
            let (machine, actions) = ServerNonInviteTransaction.start(request, reliable: peer.reliable, timers: timers(for: peer))
            servers[id] = (.nonInvite(machine), destination)
            return outputs(actions, .server(id), destination, from: peer)
        }
    }

    private mutating func receive(_ response: SIPResponse) -> [Output] {
        guard let branch = response.topVia?.branch, let method = response.cseq?.method else { return [] }
        let id = ClientTransactionID(branch: branch, method: method)
        // A response no transaction is waiting for is dropped (RFC 3261 §18.1.2); a 2xx
        // retransmission after Accepted still reaches its transaction.
        guard let (machine, peer) = clients[id] else { return [] }
        switch machine {
        case .invite(var invite):
            let actions = invite.receive(response)
            clients[id] = (.invite(invite), peer)
            return outputs(actions, .client(id), peer)
        case .nonInvite(var nonInvite):
            let actions = nonInvite.receive(response)
            clients[id] = (.nonInvite(nonInvite), peer)
            return outputs(actions, .client(id), peer)
        }
    }

    /// The TU's response to a request it was given.
    public mutating func respond(_ response: SIPResponse, to id: ServerTransactionID) -> [Output] {
        guard let (machine, peer) = servers[id] else { return [] }
        switch machine {
        case .invite(var invite):
            let actions = invite.send(response)
            servers[id] = (.invite(invite), peer)
            return outputs(actions, .server(id), peer)
        case .nonInvite(var nonInvite):
            let actions = nonInvite.send(response)
            servers[id] = (.nonInvite(nonInvite), peer)
            return outputs(actions, .server(id), peer)
        }
    }

    /// Whether a server transaction is still known (a CANCEL asks for its INVITE's).
    public func isPending(_ id: ServerTransactionID) -> Bool {
        guard let (machine, _) = servers[id] else { return false }
        switch machine {
        case .invite(let invite):
            if case .proceeding = invite.state { return true }
            return false
        case .nonInvite(let nonInvite):
            switch nonInvite.state {
            case .trying, .proceeding: return true
            case .completed, .terminated: return false
            }
        }
    }

    /// Sends a request of the TU's in a new client transaction. The request's top Via must carry
    /// a unique branch (the TU makes it).
    public mutating func send(_ request: SIPRequest, to peer: SIPPeer) -> (ClientTransactionID, [Output]) {
        let id = ClientTransactionID(of: request)
        switch request.method {
        case .invite:
            let (machine, actions) = ClientInviteTransaction.start(request, reliable: peer.reliable, timers: timers(for: peer))
            clients[id] = (.invite(machine), peer)
            return (id, outputs(actions, .client(id), peer))
        case .ack:
            // An ACK for a 2xx is sent outside any transaction.
            return (id, [.send(.request(request), to: peer)])
        case .bye, .cancel, .register, .options, .info, .update, .refer, .prack, .subscribe, .notify, .message, .other:
            let (machine, actions) = ClientNonInviteTransaction.start(request, reliable: peer.reliable, timers: timers(for: peer))
            clients[id] = (.nonInvite(machine), peer)
            return (id, outputs(actions, .client(id), peer))
        }
    }

    public mutating func timerFired(_ timer: TransactionTimerID) -> [Output] {
        switch timer.transaction {
        case .server(let id):
            guard let (machine, peer) = servers[id] else { return [] }
            switch machine {
            case .invite(var invite):
                let actions = invite.timerFired(timer.timer)
                servers[id] = (.invite(invite), peer)
                return outputs(actions, timer.transaction, peer)
            case .nonInvite(var nonInvite):
                let actions = nonInvite.timerFired(timer.timer)
                servers[id] = (.nonInvite(nonInvite), peer)
                return outputs(actions, timer.transaction, peer)
            }
        case .client(let id):
            guard let (machine, peer) = clients[id] else { return [] }
            switch machine {
            case .invite(var invite):
                let actions = invite.timerFired(timer.timer)
                clients[id] = (.invite(invite), peer)
                return outputs(actions, timer.transaction, peer)
            case .nonInvite(var nonInvite):
                let actions = nonInvite.timerFired(timer.timer)
                clients[id] = (.nonInvite(nonInvite), peer)
                return outputs(actions, timer.transaction, peer)
            }
        }
    }

    /// The transport failed to reach a client transaction's peer.
    public mutating func transportError(_ id: ClientTransactionID) -> [Output] {
        guard let (machine, peer) = clients[id] else { return [] }
        switch machine {
        case .invite(var invite):
            let actions = invite.transportError()
            clients[id] = (.invite(invite), peer)
            return outputs(actions, .client(id), peer)
        case .nonInvite(var nonInvite):
            let actions = nonInvite.transportError()
            clients[id] = (.nonInvite(nonInvite), peer)
            return outputs(actions, .client(id), peer)
        }
    }

    private mutating func outputs(
        _ actions: [TransactionAction], _ id: TransactionID, _ peer: SIPPeer, from source: SIPPeer? = nil
    ) -> [Output] {
        actions.compactMap { action -> Output? in
            switch action {
            case .send(let message): return .send(message, to: peer)
            case .startTimer(let timer, let after): return .startTimer(TransactionTimerID(transaction: id, timer: timer), after)
            case .cancelTimer(let timer): return .cancelTimer(TransactionTimerID(transaction: id, timer: timer))
            case .deliver(.request(let request)):
                guard case .server(let serverID) = id else { return nil }
                return request.method == .ack ? .ack(request, from: source ?? peer) : .request(request, serverID, from: source ?? peer)
            case .deliver(.response(let response)):
                guard case .client(let clientID) = id else { return nil }
                return .response(response, clientID)
            case .timeout: return .timeout(id)
            case .terminated:
                switch id {
                case .server(let serverID): servers[serverID] = nil
                case .client(let clientID): clients[clientID] = nil
                }
                return nil
            }
        }
    }

    /// The server transaction a request belongs to (RFC 3261 §17.2.3).
    public static func serverID(_ request: SIPRequest) -> ServerTransactionID? {
        guard let via = request.topVia else { return nil }
        let method: SIPMethod = request.method == .ack ? .invite : request.method
        let sentBy = via.host.lowercased() + ":" + String(via.port ?? 5060)
        if let branch = via.branch, branch.hasPrefix("z9hG4bK") {
            return ServerTransactionID(branch: branch, sentBy: sentBy, method: method)
        }
        // An RFC 2543 peer without a magic cookie: the request's identity stands in for the branch.
        let fromTag = request.from?.tag ?? ""
        let number = request.cseq?.number ?? 0
        let branch = "2543;\(request.callID ?? "");\(fromTag);\(number);\(request.requestURI)"
        return ServerTransactionID(branch: branch, sentBy: sentBy, method: method)
    }

    /// RFC 3261 §18.2.1 and RFC 3581: the top Via records the address the request came from
    /// (`received`) when it differs from sent-by, and the source port where `rport` asks for it.
    static func stampingReceived(_ request: SIPRequest, from peer: SIPPeer) -> SIPRequest {
        var vias = request.headers.values("Via")
        guard let first = vias.first, var via = try? SIPVia(parsing: first) else { return request }
        let wantsPort = via.parameters["rport"] != nil
        guard via.host != peer.host || wantsPort else { return request }
        via.parameters["received"] = .some(peer.host)
        if wantsPort { via.parameters["rport"] = .some(String(peer.port)) }
        vias[0] = via.text
        var stamped = request
        var headers = SIPHeaders()
        var wroteVias = false
        for field in request.headers {
            if field.name == "Via" {
                if !wroteVias { for value in vias { headers.add("Via", value) } }
                wroteVias = true
            } else {
                headers.add(field.name, field.value)
            }
        }
        stamped.headers = headers
        return stamped
    }

    /// Where responses go (RFC 3261 §18.2.2): over TCP, back on the connection; over UDP, to the
    /// `received` address and the `rport` port or else the sent-by port.
    public static func responseDestination(_ request: SIPRequest, from peer: SIPPeer) -> SIPPeer {
        guard !peer.reliable, let via = request.topVia else { return peer }
        let host = (via.parameters["received"] ?? nil) ?? via.host
        let port = ((via.parameters["rport"] ?? nil).flatMap { Int($0) }) ?? via.port ?? 5060
        return SIPPeer(peer.transport, host: host, port: port)
    }
}
