/// The registrar (RFC 3261 §10.3): which contacts each user's phone registered, until when.
/// Pure: the time comes in with every call, and the shell runs `expire(now:)` when
/// `nextExpiry` comes. The REGISTER has been authenticated before it gets here.
public struct Registrar: Sendable {
    public struct Binding: Equatable, Sendable, Codable {
        /// The Contact's address (where INVITEs for the user go).
        public var contact: String
        public var expiresAt: Duration
        public var callID: String
        public var cseq: UInt32
        /// Where the REGISTER came from: a phone behind NAT is reached there.
        public var source: SIPPeer
        /// The REGISTER came through a proxy (more than one Via): `source` is the proxy's, shared
        /// by every phone and trunk behind it, so it does not tell this phone apart (its Contact does).
        public var proxied: Bool?

        public init(contact: String, expiresAt: Duration, callID: String, cseq: UInt32, source: SIPPeer, proxied: Bool = false) {
            (self.contact, self.expiresAt, self.callID, self.cseq, self.source) = (contact, expiresAt, callID, cseq, source)
            self.proxied = proxied ? true : nil
        }
    }

    public enum Change: Equatable, Sendable {
        /// The user had no binding and now has one.
        case registered(user: String)
        /// The user's last binding is gone: removed by the phone, or expired.
        case unregistered(user: String, expired: Bool)
    }

    public var minimumExpires = 60
    public var maximumExpires = 3600
    public var defaultExpires = 3600
    public private(set) var bindings: [String: [Binding]] = [:]

    public init() {}

    public func contacts(of user: String) -> [Binding] { bindings[user] ?? [] }

    public var nextExpiry: Duration? { bindings.values.joined().map(\.expiresAt).min() }

    /// Applies an authenticated REGISTER for `user` (the To URI's user) and answers it.
    public mutating func register(
        _ request: SIPRequest, user: String, from peer: SIPPeer, now: Duration, toTag: String
    ) -> (SIPResponse, [Change]) {
        let before = !(bindings[user] ?? []).isEmpty
        guard let callID = request.callID, let cseq = request.cseq?.number else {
            return (SIPResponse(answering: request, status: 400, toTag: toTag), [])
        }
        let contacts = request.headers.values("Contact")
        let headerExpires = request.headers["Expires"].flatMap { Int($0) }
        var current = bindings[user] ?? []

        if contacts.contains("*") {
            // Remove all: only with Expires: 0 and no other contact (RFC 3261 §10.3 step 6).
            guard contacts.count == 1, headerExpires == 0 else {
                return (SIPResponse(answering: request, status: 400, reason: "Bad Request (* needs Expires: 0)", toTag: toTag), [])
            }
            if current.contains(where: { $0.callID == callID && $0.cseq >= cseq }) {
                return (SIPResponse(answering: request, status: 500, reason: "Server Internal Error (out of order)", toTag: toTag), [])
            }
            current = []
        } else {
            for text in contacts {
                guard let contact = try? SIPNameAddress(parsing: text) else {
                    return (SIPResponse(answering: request, status: 400, reason: "Bad Request (invalid Contact)", toTag: toTag), [])
                }
                let asked = (contact.parameters["expires"] ?? nil).flatMap { Int($0) } ?? headerExpires ?? defaultExpires
                if asked > 0 && asked < minimumExpires {
                    var response = SIPResponse(answering: request, status: 423, toTag: toTag)
                    response.headers.add("Min-Expires", String(minimumExpires))
                    return (response, [])
                }
                let seconds = min(asked, maximumExpires)
                if let index = current.firstIndex(where: { Self.sameContact($0.contact, contact.address) }) {
                    let existing = current[index]
                    if existing.callID == callID && existing.cseq >= cseq {
                        // An older REGISTER arriving late: the update is aborted (step 7).
                        return (SIPResponse(answering: request, status: 500, reason: "Server Internal Error (out of order)", toTag: toTag), [])
                    }
                    current.remove(at: index)
                }
                if seconds > 0 {
                    current.append(Binding(
                        contact: contact.address, expiresAt: now + .seconds(seconds), callID: callID, cseq: cseq, source: peer,
                        proxied: request.headers.values("Via").count > 1))
                }
            }
        }
        bindings[user] = current.isEmpty ? nil : current

        var response = SIPResponse(answering: request, status: 200, toTag: toTag)
        for binding in current {
            let remaining = max(0, (binding.expiresAt - now).components.seconds)
            response.headers.add("Contact", "<\(binding.contact)>;expires=\(remaining)")
        }
        let after = !current.isEmpty
        let changes: [Change] = before == after ? [] : after ? [.registered(user: user)] : [.unregistered(user: user, expired: false)]
        return (response, changes)
    }

    /// A user's bindings as another run wrote them down (a restart, a takeover): those still
    /// unexpired at `now` are kept, so the phone is reached before it registers again.
    public mutating func restore(user: String, _ written: [Binding], now: Duration) -> [Change] {
        let kept = written.filter { $0.expiresAt > now }
        guard !kept.isEmpty else { return [] }
        let before = !(bindings[user] ?? []).isEmpty
        bindings[user] = kept
        return before ? [] : [.registered(user: user)]
    }

    /// Drops the bindings whose time is up; reports the users left with none.
    public mutating func expire(now: Duration) -> [Change] {
        var changes: [Change] = []
        for (user, current) in bindings {
            let kept = current.filter { $0.expiresAt > now }
            guard kept.count != current.count else { continue }
            bindings[user] = kept.isEmpty ? nil : kept
            if kept.isEmpty { changes.append(.unregistered(user: user, expired: true)) }
        }
        return changes.sorted { "\($0)" < "\($1)" }
    }

    /// Removes one binding: its phone stopped answering (a qualify timed out).
    public mutating func remove(user: String, contact: String) -> [Change] {
        guard var current = bindings[user], let index = current.firstIndex(where: { $0.contact == contact }) else { return [] }
        current.remove(at: index)
        bindings[user] = current.isEmpty ? nil : current
        return current.isEmpty ? [.unregistered(user: user, expired: true)] : []
    }

    /// Removes a user's bindings (their credentials were removed from the configuration).
    public mutating func remove(user: String) -> [Change] {
        guard bindings.removeValue(forKey: user) != nil else { return [] }
        return [.unregistered(user: user, expired: false)]
    }

    /// Whether `contact` is a registered phone's (the same binding, RFC 3261 §19.1.4).
    public func isRegistered(contact: String) -> Bool {
        bindings.values.joined().contains { Self.sameContact($0.contact, contact) }
    }

    /// Two contact URIs are the same binding when they compare equal (RFC 3261 §19.1.4);
    /// here: the same text ignoring the scheme's and host's case.
    static func sameContact(_ a: String, _ b: String) -> Bool {
        guard let x = try? SIPURI(parsing: a), let y = try? SIPURI(parsing: b) else { return a == b }
        return x.secure == y.secure && x.user == y.user && x.host.lowercased() == y.host.lowercased()
            && (x.port ?? 5060) == (y.port ?? 5060)
    }
}
