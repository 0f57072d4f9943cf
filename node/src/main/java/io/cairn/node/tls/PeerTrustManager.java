package io.cairn.node.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

/**
 * The CA's trust, narrowed to replicas: after the chain checks out, the leaf's CN must start with
 * {@code node:}. A client certificate from the same CA is refused at the handshake.
 */
final class PeerTrustManager extends X509ExtendedTrustManager {
  private final X509TrustManager ca;

  PeerTrustManager(X509TrustManager ca) {
    this.ca = ca;
  }

  private static void requirePeer(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("no certificate");
    }
    String cn = TlsMaterial.principalOf(chain[0]);
    if (!cn.startsWith(TlsMaterial.PEER_PREFIX)) {
      throw new CertificateException(
          "CN=" + cn + " is not a replica's certificate (CN=" + TlsMaterial.PEER_PREFIX + "<id>)");
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType);
    requirePeer(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    ca.checkServerTrusted(chain, authType);
    requirePeer(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    if (ca instanceof X509ExtendedTrustManager x) {
      x.checkClientTrusted(chain, authType, socket);
      requirePeer(chain);
    } else {
      checkClientTrusted(chain, authType);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    if (ca instanceof X509ExtendedTrustManager x) {
      x.checkServerTrusted(chain, authType, socket);
      requirePeer(chain);
    } else {
      checkServerTrusted(chain, authType);
    }
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    if (ca instanceof X509ExtendedTrustManager x) {
      x.checkClientTrusted(chain, authType, engine);
      requirePeer(chain);
    } else {
      checkClientTrusted(chain, authType);
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    if (ca instanceof X509ExtendedTrustManager x) {
      x.checkServerTrusted(chain, authType, engine);
      requirePeer(chain);
    } else {
      checkServerTrusted(chain, authType);
    }
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return ca.getAcceptedIssuers();
  }
}
