import COpenSSL

/// A key pair and a self-signed certificate for it, made at start when the operator gives none
/// (SIP over TLS in the demo; the browser's DTLS in a later issue). An ECDSA P-256 key, SHA-256
/// signature, the given names as subject alternative names, valid from an hour ago for `days`.
public struct SelfSignedCertificate: Sendable {
    public let certificatePEM: String
    public let privateKeyPEM: String
    /// SHA-256 of the certificate's DER, as `AA:BB:…` (RFC 8122's fingerprint form).
    public let fingerprint: String

    /// `names`: DNS names or IP addresses (an IP literal becomes an `IP:` name).
    public static func make(commonName: String, names: [String], days: Int = 365) throws -> SelfSignedCertificate {
        guard let keyContext = EVP_PKEY_CTX_new_from_name(nil, "EC", nil) else { throw CryptographyError("EVP_PKEY_CTX_new_from_name") }
        defer { EVP_PKEY_CTX_free(keyContext) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(keyContext) == 1, EVP_PKEY_CTX_set_group_name(keyContext, "P-256") == 1,
            EVP_PKEY_generate(keyContext, &key) == 1, let key
        else { throw CryptographyError("generating a P-256 key") }
        defer { EVP_PKEY_free(key) }

        guard let certificate = X509_new() else { throw CryptographyError("X509_new") }
        defer { X509_free(certificate) }
        var serial = SecureRandom.bytes(16)
        serial[0] &= 0x7F  // a positive serial number
        let serialNumber = serial.withUnsafeBufferPointer { BN_bin2bn($0.baseAddress, Int32($0.count), nil) }
        defer { BN_free(serialNumber) }
        guard X509_set_version(certificate, 2) == 1,
            BN_to_ASN1_INTEGER(serialNumber, X509_get_serialNumber(certificate)) != nil,
            X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil,
            X509_gmtime_adj(X509_getm_notAfter(certificate), Int(days) * 86_400) != nil,
            X509_set_pubkey(certificate, key) == 1
        else { throw CryptographyError("filling the certificate") }
        let subject = X509_get_subject_name(certificate)
        guard X509_NAME_add_entry_by_txt(subject, "CN", Self.asciiString, commonName, -1, -1, 0) == 1,
            X509_set_issuer_name(certificate, subject) == 1
        else { throw CryptographyError("the certificate's name") }
        let alternatives = names.map { name in (name.contains(":") || name.allSatisfy { $0.isNumber || $0 == "." } ? "IP:" : "DNS:") + name }
        if !alternatives.isEmpty {
            guard let extensionValue = X509V3_EXT_conf_nid(nil, nil, NID_subject_alt_name, alternatives.joined(separator: ",")),
                X509_add_ext(certificate, extensionValue, -1) == 1
            else { throw CryptographyError("the subject alternative names") }
            X509_EXTENSION_free(extensionValue)
        }
        guard X509_sign(certificate, key, EVP_sha256()) > 0 else { throw CryptographyError("X509_sign") }

        let certificatePEM = try Self.pem { PEM_write_bio_X509($0, certificate) }
        let privateKeyPEM = try Self.pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var size: UInt32 = 0
        guard X509_digest(certificate, EVP_sha256(), &digest, &size) == 1 else { throw CryptographyError("X509_digest") }
        let fingerprint = digest.prefix(Int(size)).map { byte in
            let hex = Hash.hex([byte])
            return hex.uppercased()
        }.joined(separator: ":")
        return SelfSignedCertificate(certificatePEM: certificatePEM, privateKeyPEM: privateKeyPEM, fingerprint: fingerprint)
    }

    /// MBSTRING_ASC: the name's text is ASCII.
    static let asciiString: Int32 = 0x1000 | 1

    private static func pem(_ write: (OpaquePointer) -> Int32) throws -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { throw CryptographyError("BIO_new") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw CryptographyError("writing PEM") }
        var data: UnsafeMutablePointer<CChar>?
        // BIO_get_mem_data is a macro: BIO_ctrl(BIO_CTRL_INFO).
        let length = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data)
        guard length > 0, let data else { throw CryptographyError("reading PEM") }
        return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
    }
}
