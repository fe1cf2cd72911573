import COpenSSL

/// Switchboard's one crypto provider: the system's OpenSSL 3 (libcrypto), through `COpenSSL`.
/// Hashes for SIP digest (MD5, SHA-256, RFC 8760) and for keeping sign-in tokens hashed, HMAC for
/// nonces and SRTP's authentication tag, certificate fingerprints (SHA-384, SHA-512) for DTLS, AES for SRTP's keystream, random bytes for keys.
public enum HashFunction: Sendable, CaseIterable {
    case md5, sha1, sha256, sha384, sha512

    /// OpenSSL's message digest for it (built in, never freed).
    var evp: OpaquePointer {
        switch self {
        case .md5: EVP_md5()
        case .sha1: EVP_sha1()
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// OpenSSL's name for it, as EVP_MAC's `digest` parameter takes it.
    var name: String {
        switch self {
        case .md5: "MD5"
        case .sha1: "SHA1"
        case .sha256: "SHA256"
        case .sha384: "SHA384"
        case .sha512: "SHA512"
        }
    }

    public var outputSize: Int {
        switch self {
        case .md5: 16
        case .sha1: 20
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }
}

public enum Hash {
    public static func digest(_ function: HashFunction, _ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        let done = bytes.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &size, function.evp, nil)
            }
        }
        // Only a broken libcrypto fails a digest of memory it was given.
        precondition(done == 1, "OpenSSL's \(function.name) failed")
        return Array(out.prefix(Int(size)))
    }

    public static func md5(_ bytes: [UInt8]) -> [UInt8] { digest(.md5, bytes) }
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] { digest(.sha256, bytes) }

    /// Lower-case hexadecimal, as digest and token hashes are written.
    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.underestimatedCount * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// RFC 2104's HMAC, once (a nonce's MAC). For a key used on every packet, see `HMACKey`.
public enum HMAC {
    public static func code(_ function: HashFunction, key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size = 0
        let made = key.withUnsafeBytes { key in
            message.withUnsafeBytes { message in
                out.withUnsafeMutableBufferPointer { output in
                    EVP_Q_mac(
                        nil, "HMAC", nil, function.name, nil, key.baseAddress, key.count,
                        message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, output.baseAddress, output.count,
                        &size)
                }
            }
        }
        precondition(made != nil, "OpenSSL's HMAC-\(function.name) failed")
        return Array(out.prefix(size))
    }
}

/// Random bytes from OpenSSL's CSPRNG: keys, salts.
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let done = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(done == 1, "OpenSSL's random generator failed")
        return out
    }
}

/// What OpenSSL said went wrong, from its error queue (emptied).
func openSSLError() -> String {
    var messages: [String] = []
    while case let code = ERR_get_error(), code != 0 {
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        messages.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
    }
    return messages.isEmpty ? "unknown OpenSSL error" : messages.joined(separator: "; ")
}

public struct CryptographyError: Error, CustomStringConvertible {
    public var description: String
    init(_ what: String) { description = "\(what): \(openSSLError())" }
}
