// The system's OpenSSL 3 (Debian's libssl-dev): the one C library Switchboard links. Hashes, HMAC,
// AES for SRTP, random bytes, the key and certificate SIP over TLS starts with, DTLS for WebRTC.
#ifndef SWITCHBOARD_COPENSSL_SHIM_H
#define SWITCHBOARD_COPENSSL_SHIM_H
#include <openssl/opensslv.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/core_names.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/pem.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/ssl.h>
#include <openssl/tls1.h>
#include <openssl/srtp.h>
#include <stdint.h>

// Options built from the SSL_OP_BIT macro, which Swift cannot import.
static const uint64_t switchboard_op_no_query_mtu = SSL_OP_NO_QUERY_MTU;
static const uint64_t switchboard_op_no_renegotiation = SSL_OP_NO_RENEGOTIATION;
#endif
