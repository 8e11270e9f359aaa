/*
 * tls.c: one store of trusted certificates for all the TLS connections of
 * a client, instead of one per connection.
 *
 * libcurl (OpenSSL flavour) reads its CA file into a new store for every
 * connection it opens; its CA cache (CURLOPT_CA_CACHE_TIMEOUT, 7.87) does
 * not apply while a CA directory is set, and Debian's libcurl always has
 * one (/etc/ssl/certs). With the system bundle (about 140 certificates,
 * 220 KB of PEM) OpenSSL 3 spends about 250 million instructions, 30 ms
 * and more, on each of them: a reconnect, or each of 16 HTTP/1.1
 * connections of a fan-out, paid it again. Here the client loads the same
 * file and directory into one store once, libcurl is told to load nothing
 * (CAINFO and CAPATH unset), and CURLOPT_SSL_CTX_FUNCTION hands the store
 * to each new connection's SSL_CTX before its handshake. Certificates are
 * still checked by OpenSSL with the flags libcurl sets (trusted first,
 * partial chains), and the host name by libcurl.
 *
 * Used only when libcurl's TLS library is the OpenSSL this module is linked
 * to (same version string): an SSL_CTX of another TLS library must never
 * reach OpenSSL's functions. Otherwise libcurl loads its certificates
 * itself, as before.
 */

#include <string.h>

#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "gl.h"

/* 1 when libcurl's TLS backend is this OpenSSL: libcurl says
 * "OpenSSL/3.0.19" (in parentheses when another backend was chosen),
 * OpenSSL "OpenSSL 3.0.19 27 Jan 2026". */
int gl_tls_shared_store_ok(void) {
  const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
  const char *cv = vi ? vi->ssl_version : NULL, *ov = OpenSSL_version(OPENSSL_VERSION);
  size_t n;
  if (!cv || strncmp(cv, "OpenSSL/", 8) != 0 || !ov || strncmp(ov, "OpenSSL ", 8) != 0) return 0;
  cv += 8; ov += 8;
  n = strcspn(cv, " ");
  return n > 0 && strncmp(cv, ov, n) == 0 && (ov[n] == ' ' || ov[n] == '\0');
}

/* A store with the certificates of cafile and the directory capath (each
 * may be NULL), as libcurl would fill it; NULL when one cannot be read
 * (libcurl then tries itself and reports the failure in its words). */
void *gl_tls_store_new(const char *cafile, const char *capath) {
  X509_STORE *s = X509_STORE_new();
  if (!s) return NULL;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  if ((cafile && !X509_STORE_load_file(s, cafile)) || (capath && !X509_STORE_load_path(s, capath))) {
#else
  if ((cafile || capath) && !X509_STORE_load_locations(s, cafile, capath)) {
#endif
    X509_STORE_free(s);
    return NULL;
  }
  /* what libcurl sets on the stores it fills (no CRL file, partial chains
   * allowed: CURLSSLOPT_NO_PARTIALCHAIN is not used here) */
  X509_STORE_set_flags(s, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
  return s;
}

void gl_tls_store_free(void *store) {
  if (store) X509_STORE_free((X509_STORE *)store);
}

/* CURLOPT_SSL_CTX_FUNCTION; parm points at the client's store (NULL once
 * the client let it go: the connection then trusts nothing and fails).
 * libcurl calls it for an HTTPS proxy's connection too, whose store it has
 * filled from the proxy's CA options: that one is left as it is. */
CURLcode gl_tls_ctx_callback(CURL *curl, void *sslctx, void *parm) {
  X509_STORE *shared = *(X509_STORE **)parm;
  X509_STORE *own = SSL_CTX_get_cert_store((SSL_CTX *)sslctx);
  (void)curl;
  if (own && sk_X509_OBJECT_num(X509_STORE_get0_objects(own)) > 0) return CURLE_OK;
  if (shared) SSL_CTX_set1_cert_store((SSL_CTX *)sslctx, shared);
  return CURLE_OK;
}
