package io.cairn.node.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The CA's trust, narrowed to replicas: after the CA's own checks pass, the leaf's CN must start
 * with {@code node:}. A client certificate from the same CA is refused at the handshake.
 */
final class PeerTrustManager extends X509ExtendedTrustManager {
  private final X509ExtendedTrustManager ca;

  PeerTrustManager(X509ExtendedTrustManager ca) {
    this.ca = ca;
  }

  private static void requirePeer(X509Certificate[] chain) throws CertificateException {
    String cn = chain == null || chain.length == 0 ? "" : TlsMaterial.principalOf(chain[0]);
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
    ca.checkClientTrusted(chain, authType, socket);
    requirePeer(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    ca.checkServerTrusted(chain, authType, socket);
    requirePeer(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    ca.checkClientTrusted(chain, authType, engine);
    requirePeer(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    ca.checkServerTrusted(chain, authType, engine);
    requirePeer(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return ca.getAcceptedIssuers();
  }
}
