import Cryptography
import Testing

func bytes(_ hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace }.utf8)
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
}

/// The system OpenSSL's primitives, as Switchboard calls them, against the standards' vectors.
@Suite struct Hashes {
    // RFC 1321 appendix A.5.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
        (String(repeating: "1234567890", count: 8), "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func md5MatchesRFC1321(input: String, expected: String) {
        #expect(Hash.hex(Hash.md5(Array(input.utf8))) == expected)
    }

    // FIPS 180-4 examples.
    @Test(arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
        ("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"),
    ])
    func sha256MatchesFIPS180(input: String, expected: String) {
        #expect(Hash.hex(Hash.sha256(Array(input.utf8))) == expected)
    }
}

@Suite struct HMACs {
    static let longKey = [UInt8](repeating: 0xaa, count: 131)

    // RFC 4231 §4.2–4.8 (test case 5, truncation, is the caller's business).
    @Test(arguments: [
        (bytes("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b"), Array("Hi There".utf8),
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (Array("Jefe".utf8), Array("what do ya want for nothing?".utf8),
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        ([UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xdd, count: 50),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
        (Array(1...25), [UInt8](repeating: 0xcd, count: 50),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (longKey, Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        (longKey, Array(("This is a test using a larger than block-size key and a larger than block-size data. The key needs "
                         + "to be hashed before being used by the HMAC algorithm.").utf8),
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
    ] as [([UInt8], [UInt8], String)])
    func hmacSHA256MatchesRFC4231(key: [UInt8], message: [UInt8], expected: String) throws {
        #expect(Hash.hex(HMAC.code(.sha256, key: key, message: message)) == expected)
        // The keyed context, used twice, says the same each time.
        let keyed = try HMACKey(.sha256, key: key)
        #expect(Hash.hex(keyed.code(message)) == expected)
        #expect(Hash.hex(keyed.code(message)) == expected)
    }

    // RFC 2202 §3, test cases 1 and 2: SRTP's tag is HMAC-SHA1.
    @Test func hmacSHA1MatchesRFC2202() throws {
        #expect(Hash.hex(try HMACKey(.sha1, key: [UInt8](repeating: 0x0b, count: 20)).code(Array("Hi There".utf8)))
            == "b617318655057264e28bc0b6fb378c8ef146be00")
        #expect(Hash.hex(HMAC.code(.sha1, key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8)))
            == "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79")
    }
}

@Suite struct AESCounterModeTests {
    // RFC 3711 appendix B.2: the AES-CM keystream.
    @Test func theKeystreamMatchesRFC3711AppendixB2() throws {
        let cipher = try AESCounterMode(key: bytes("2B7E151628AED2A6ABF7158809CF4F3C"))
        let stream = cipher.keystream(counter: bytes("F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000"), count: 48)
        #expect(stream == bytes("E03EAD0935C95E80E166B16DD92B4EB4 D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0"))
        // Counter 0xFEFF onwards: the counter's low 16 bits roll over inside one packet's stream.
        let late = cipher.keystream(counter: bytes("F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"), count: 48)
        #expect(late == bytes("EC8CDF7398607CB0F2D21675EA9EA1E4 362B7C3C6773516318A077D7FC5073AE 6A2CC3787889374FBEB4C81B17BA6C44"))
    }

    @Test func aKeyOfAnotherLengthIsRefused() {
        #expect(throws: CryptographyError.self) { try AESCounterMode(key: [1, 2, 3]) }
    }
}

@Suite struct Certificates {
    @Test func aSelfSignedCertificateIsPEMWithAKeyAndAFingerprint() throws {
        let made = try SelfSignedCertificate.make(commonName: "switchboard", names: ["127.0.0.1", "localhost"])
        #expect(made.certificatePEM.hasPrefix("-----BEGIN CERTIFICATE-----"))
        #expect(made.privateKeyPEM.hasPrefix("-----BEGIN PRIVATE KEY-----"))
        #expect(made.fingerprint.split(separator: ":").count == 32)
        let other = try SelfSignedCertificate.make(commonName: "switchboard", names: [])
        #expect(other.fingerprint != made.fingerprint)
    }
}
