import COpenSSL

/// An HMAC key used over and over (SRTP's authentication tag, one per packet): OpenSSL's MAC
/// context is keyed once, and each message only re-initialises it with that key. Not for
/// sharing between threads: one per SRTP stream, used on its event loop.
public final class HMACKey: @unchecked Sendable {
    private let context: OpaquePointer
    public let function: HashFunction

    public init(_ function: HashFunction, key: [UInt8]) throws {
        self.function = function
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw CryptographyError("EVP_MAC_fetch(HMAC)") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { throw CryptographyError("EVP_MAC_CTX_new") }
        self.context = context
        let keyed = function.name.withCString { name in
            "digest".withCString { parameter in
                var parameters = [
                    OSSL_PARAM_construct_utf8_string(parameter, UnsafeMutablePointer(mutating: name), 0),
                    OSSL_PARAM_construct_end(),
                ]
                return key.withUnsafeBufferPointer { EVP_MAC_init(context, $0.baseAddress, $0.count, &parameters) }
            }
        }
        guard keyed == 1 else { throw CryptographyError("EVP_MAC_init") }
    }

    deinit { EVP_MAC_CTX_free(context) }

    /// The MAC of the parts one after the other, its first `length` bytes written to `output`.
    public func code(_ parts: [UnsafeRawBufferPointer], into output: UnsafeMutableRawBufferPointer) {
        // On the stack: this runs for every packet.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: Int(EVP_MAX_MD_SIZE)) { full in
            var size = 0
            // A nil key re-keys with the one set at init (OpenSSL 3).
            var done = EVP_MAC_init(context, nil, 0, nil) == 1
            for part in parts where done {
                done = EVP_MAC_update(context, part.baseAddress?.assumingMemoryBound(to: UInt8.self), part.count) == 1
            }
            done = done && EVP_MAC_final(context, full.baseAddress, &size, full.count) == 1
            precondition(done, "OpenSSL's HMAC failed on a keyed context")
            for index in 0..<min(output.count, size) { output[index] = full[index] }
        }
    }

    public func code(_ message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: function.outputSize)
        message.withUnsafeBytes { message in out.withUnsafeMutableBytes { code([message], into: $0) } }
        return out
    }
}

/// AES in counter mode: SRTP's AES-CM (RFC 3711 §4.1.1), keyed once, each packet with its own
/// 16-byte initial counter. Encrypting and decrypting are the same XOR with the keystream. Not for
/// sharing between threads.
public final class AESCounterMode: @unchecked Sendable {
    private let context: OpaquePointer

    /// `key`: 16 bytes (AES-128) or 32 (AES-256).
    public init(key: [UInt8]) throws {
        let cipher: OpaquePointer?
        switch key.count {
        case 16: cipher = EVP_aes_128_ctr()
        case 32: cipher = EVP_aes_256_ctr()
        default: throw CryptographyError("AES-CM needs a 16- or 32-byte key, not \(key.count)")
        }
        guard let context = EVP_CIPHER_CTX_new() else { throw CryptographyError("EVP_CIPHER_CTX_new") }
        self.context = context
        let zero = [UInt8](repeating: 0, count: 16)
        guard key.withUnsafeBufferPointer({ EVP_EncryptInit_ex(context, cipher, nil, $0.baseAddress, zero) }) == 1 else {
            throw CryptographyError("EVP_EncryptInit_ex(AES-CTR)")
        }
    }

    deinit { EVP_CIPHER_CTX_free(context) }

    /// XORs `bytes` in place with the keystream that starts at `counter` (16 bytes).
    public func apply(counter: UnsafeRawBufferPointer, to bytes: UnsafeMutableRawBufferPointer) {
        guard bytes.count > 0 else { return }
        var written: Int32 = 0
        let pointer = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let done = EVP_EncryptInit_ex(context, nil, nil, nil, counter.baseAddress?.assumingMemoryBound(to: UInt8.self)) == 1
            && EVP_EncryptUpdate(context, pointer, &written, pointer, Int32(bytes.count)) == 1
        precondition(done && Int(written) == bytes.count, "OpenSSL's AES-CTR failed")
    }

    /// The keystream itself (`count` bytes from `counter`): key derivation and the RFC's vectors.
    public func keystream(counter: [UInt8], count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        counter.withUnsafeBytes { counter in out.withUnsafeMutableBytes { apply(counter: counter, to: $0) } }
        return out
    }
}
