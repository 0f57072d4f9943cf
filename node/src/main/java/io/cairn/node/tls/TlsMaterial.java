package io.cairn.node.tls;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * A node's TLS material, read once from PEM files: its own certificate and key, and the CA it
 * trusts. The API port and the Raft port are built from the same instance, with two different trust
 * rules: any certificate of the CA on the API port ({@link #clientTrust}), only peers' ({@code
 * CN=node:<id>}) on the Raft port ({@link #peerTrust}), so that a client's certificate can never
 * pose as a replica.
 *
 * <p>Only the JDK is used here; the transports wrap these managers in their own SSL contexts.
 */
public final class TlsMaterial {
  /** The CN prefix that marks a replica's certificate ({@code cairnctl cert create-node}). */
  public static final String PEER_PREFIX = "node:";

  private final X509Certificate cert;
  private final X509Certificate ca;
  private final KeyManager keyManager;
  private final X509ExtendedTrustManager caTrust;

  private TlsMaterial(
      X509Certificate cert, X509Certificate ca, KeyManager km, X509ExtendedTrustManager t) {
    this.cert = cert;
    this.ca = ca;
    this.keyManager = km;
    this.caTrust = t;
  }

  /**
   * Reads {@code certFile} (this node's leaf certificate, PEM), {@code keyFile} (its PKCS#8 PEM
   * key, EC or RSA) and {@code caFile} (the CA's certificate, PEM).
   *
   * @throws IOException naming the file that is missing, unreadable or not what it should be
   */
  public static TlsMaterial load(Path certFile, Path keyFile, Path caFile) throws IOException {
    X509Certificate cert = readCertificates(certFile).get(0);
    X509Certificate ca = readCertificates(caFile).get(0);
    PrivateKey key = readPrivateKey(keyFile, cert.getPublicKey().getAlgorithm());
    try {
      cert.verify(ca.getPublicKey());
    } catch (GeneralSecurityException e) {
      throw new IOException(certFile + " is not signed by the CA in " + caFile, e);
    }
    try {
      char[] none = new char[0];
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("self", key, none, new X509Certificate[] {cert});
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, none);
      KeyStore ts = KeyStore.getInstance("PKCS12");
      ts.load(null, null);
      ts.setCertificateEntry("ca", ca);
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ts);
      // The JDK's PKIX factory gives an extended manager, which checks per connection.
      X509ExtendedTrustManager trust = null;
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          trust = x;
        }
      }
      if (trust == null) {
        throw new IOException("the JDK gave no X509ExtendedTrustManager for " + caFile);
      }
      return new TlsMaterial(cert, ca, kmf.getKeyManagers()[0], trust);
    } catch (GeneralSecurityException e) {
      throw new IOException("cannot build TLS key and trust managers: " + e.getMessage(), e);
    }
  }

  /** This node's certificate and key, as a JSSE key manager. */
  public KeyManager keyManager() {
    return keyManager;
  }

  /** Trusts every certificate the CA signed: the API port's rule (clients of any name). */
  public X509TrustManager clientTrust() {
    return caTrust;
  }

  /**
   * Trusts only replicas: a certificate the CA signed whose CN starts with {@link #PEER_PREFIX}, in
   * both directions (a peer dialling in, and the peer dialled). The Raft port's rule.
   */
  public X509TrustManager peerTrust() {
    return new PeerTrustManager(caTrust);
  }

  /** This node's own certificate. */
  public X509Certificate certificate() {
    return cert;
  }

  /** The CA's certificate. */
  public X509Certificate ca() {
    return ca;
  }

  /**
   * The principal a certificate names: its subject's CN, or "" when it has none. Only meaningful
   * for a certificate the handshake has already verified against the CA.
   */
  public static String principalOf(X509Certificate cert) {
    String dn =
        cert.getSubjectX500Principal().getName(javax.security.auth.x500.X500Principal.RFC2253);
    try {
      for (javax.naming.ldap.Rdn rdn : new javax.naming.ldap.LdapName(dn).getRdns()) {
        if (rdn.getType().equalsIgnoreCase("CN")) {
          return rdn.getValue().toString();
        }
      }
    } catch (javax.naming.InvalidNameException e) {
      return "";
    }
    return "";
  }

  static List<X509Certificate> readCertificates(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (var c : cf.generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      if (out.isEmpty()) {
        throw new IOException(file + " holds no PEM certificate");
      }
      return out;
    } catch (CertificateException e) {
      throw new IOException(file + " is not a PEM certificate: " + e.getMessage(), e);
    }
  }

  static PrivateKey readPrivateKey(Path file, String algorithm) throws IOException {
    String pem = Files.readString(file, StandardCharsets.US_ASCII);
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new IOException(file + " is not a PKCS#8 PEM private key (BEGIN PRIVATE KEY)");
    }
    String body = pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end);
    try {
      byte[] der = Base64.getMimeDecoder().decode(body);
      return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
    } catch (IllegalArgumentException | GeneralSecurityException e) {
      throw new IOException(file + " is not a readable " + algorithm + " private key", e);
    }
  }
}
