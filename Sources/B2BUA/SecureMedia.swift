import Media
import SIP

/// SRTP for a leg, with its keys in the SDP (SDES, RFC 4568). The keys travel in the signalling,
/// so they are offered and answered only on legs whose signalling is TLS; over UDP or TCP a leg is
/// plain RTP, and an offer that insists on SRTP there is refused.
public enum SRTPPolicy: String, Sendable, CaseIterable {
    /// No SRTP anywhere.
    case off
    /// SRTP on TLS legs whose peer offers or accepts it (our offers carry keys in RTP/AVP: best effort).
    case optional
    /// Every TLS leg is SRTP (our offers are RTP/SAVP); a TLS peer that will not is refused.
    case required
}

/// The keys a leg's media is protected with: the suite, ours (what we send) and the peer's.
public struct MediaKeys: Equatable, Sendable, Codable {
    public var suite: String
    public var local: [UInt8]
    public var remote: [UInt8]

    public init(suite: String, local: [UInt8], remote: [UInt8]) { (self.suite, self.local, self.remote) = (suite, local, remote) }
}

public enum SecureMedia {
    public enum Refusal: Error, Equatable, Sendable {
        /// RTP/SAVP over signalling that is not TLS: the keys would go in the clear.
        case needsTLS
        /// SRTP is off here, and the offer insists on it.
        case off
        /// SRTP is required on TLS legs, and the offer has no keys we can use.
        case required

        public var reason: String {
            switch self {
            case .needsTLS: "Not Acceptable Here (SRTP keys are exchanged over TLS only)"
            case .off: "Not Acceptable Here (SRTP is not offered here)"
            case .required: "Not Acceptable Here (SRTP is required)"
            }
        }
    }

    /// The first `a=crypto` of the offer with a suite we do and a key we can read.
    static func usable(_ offer: SessionDescription) -> (SessionDescription.Crypto, SRTPSuite, [UInt8])? {
        for line in offer.crypto {
            guard let suite = SRTPSuite.named(line.suite), let key = line.key, SRTPKey(concatenated: key) != nil else { continue }
            return (line, suite, key)
        }
        return nil
    }

    /// Our answer to `offer` (already negotiated for codecs as `answer`), made secure or not as the
    /// policy and the leg's signalling say; the keys when it is SRTP.
    public static func answer(
        _ offer: SessionDescription, _ answer: SessionDescription, secure: Bool, policy: SRTPPolicy, key: SRTPKey
    ) -> Result<(SessionDescription, MediaKeys?), Refusal> {
        let insists = offer.profile.uppercased() == "RTP/SAVP"
        let usable = Self.usable(offer)
        if insists {
            guard secure else { return .failure(.needsTLS) }
            guard policy != .off else { return .failure(.off) }
            guard usable != nil else { return .failure(.required) }
        }
        guard secure, policy != .off, let (line, suite, theirs) = usable else {
            if secure, policy == .required { return .failure(.required) }
            return .success((answer, nil))
        }
        var secured = answer
        secured.profile = offer.profile
        secured.crypto = [SessionDescription.Crypto(tag: line.tag, suite: suite.name, key: key.concatenated)]
        return .success((secured, MediaKeys(suite: suite.name, local: key.concatenated, remote: theirs)))
    }

    /// Our offer on a leg: plain, with keys in RTP/AVP (optional), or RTP/SAVP (required).
    public static func offer(_ plain: SessionDescription, secure: Bool, policy: SRTPPolicy, key: SRTPKey) -> SessionDescription {
        guard secure, policy != .off else { return plain }
        var offer = plain
        offer.profile = policy == .required ? "RTP/SAVP" : "RTP/AVP"
        offer.crypto = [SessionDescription.Crypto(tag: 1, suite: SRTPSuite.aes128HMACSHA1_80.name, key: key.concatenated)]
        return offer
    }

    /// The keys once our offer is answered (nil: plain RTP), or a refusal when SRTP was required.
    public static func keys(answering offer: SessionDescription, with answer: SessionDescription, key: SRTPKey) -> Result<MediaKeys?, Refusal> {
        guard !offer.crypto.isEmpty else { return .success(nil) }
        guard let (line, suite, theirs) = usable(answer), offer.crypto.contains(where: { $0.tag == line.tag && $0.suite == suite.name }) else {
            return offer.profile.uppercased() == "RTP/SAVP" ? .failure(.required) : .success(nil)
        }
        return .success(MediaKeys(suite: suite.name, local: key.concatenated, remote: theirs))
    }
}

extension SRTPKeys {
    /// The media engine's keys from what the SDP agreed (nil: a suite or key it cannot use).
    public init?(_ keys: MediaKeys) {
        guard let suite = SRTPSuite.named(keys.suite), let local = SRTPKey(concatenated: keys.local),
            let remote = SRTPKey(concatenated: keys.remote)
        else { return nil }
        self.init(suite: suite, local: local, remote: remote)
    }
}
