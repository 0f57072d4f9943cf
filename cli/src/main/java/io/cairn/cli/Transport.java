package io.cairn.cli;

import io.cairn.client.CairnClientBuilder;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.net.ssl.SSLException;

/**
 * How cairnctl reaches the nodes: TLS as {@code user} with the files of {@code certs} ({@code
 * ca.crt}, {@code client.<user>.crt}, {@code client.<user>.key}), or plaintext for nodes with
 * {@code tls.enabled=0}. From the global options --certs-dir, --user and --plaintext.
 */
public record Transport(Path certs, String user, boolean plaintext) {
  /** {@code b} set to this transport. */
  public CairnClientBuilder apply(CairnClientBuilder b) {
    return plaintext ? b.plaintext() : b.certificates(certs, user);
  }

  /** {@code b} (a raw gRPC channel, for the bench tools that use one) set to this transport. */
  public NettyChannelBuilder apply(NettyChannelBuilder b) {
    return plaintext ? b.usePlaintext() : b.sslContext(sslContext());
  }

  /**
   * The client side of TLS 1.3 with this user's certificate.
   *
   * @throws IllegalArgumentException naming a file that is missing or unusable
   */
  public SslContext sslContext() {
    Path ca = certs.resolve("ca.crt");
    Path cert = certs.resolve("client." + user + ".crt");
    Path key = certs.resolve("client." + user + ".key");
    for (Path f : new Path[] {ca, cert, key}) {
      if (!Files.isReadable(f)) {
        throw new IllegalArgumentException(
            "cannot read "
                + f
                + " (scripts/cluster up makes the local certificates; see cairnctl cert --help)");
      }
    }
    try {
      return GrpcSslContexts.forClient()
          .keyManager(cert.toFile(), key.toFile())
          .trustManager(ca.toFile())
          .protocols("TLSv1.3")
          .build();
    } catch (SSLException e) {
      throw new IllegalArgumentException("cannot use " + cert + ": " + e.getMessage(), e);
    }
  }
}
