package io.cairn.cli.cert;

import static java.util.concurrent.TimeUnit.MILLISECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The certificates work for what they are made for: a real TLS 1.3 mutual handshake on loopback,
 * JDK only, as a node's API port would do it (node cert, client auth required, trust in ca.crt).
 */
@Timeout(60)
class MutualTlsTest {
  static final int TIMEOUT_MILLIS = 10_000;
  static final Duration YEAR = Duration.ofDays(365);

  @TempDir Path dir;

  @Test
  void theServerSeesTheClientsNameAndTheClientChecksTheServersAddress() throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    Path[] node = ca.issueNode("n1", List.of("localhost", "127.0.0.1"), YEAR);
    Path[] client = ca.issueClient("alice", YEAR);
    Path caCrt = dir.resolve("ca.crt");
    try (SSLServerSocket server = listen(Pem.tls(node[0], node[1], caCrt))) {
      CompletableFuture<String> seen = serveOne(server);
      try (SSLSocket s = connect(Pem.tls(client[0], client[1], caCrt), server.getLocalPort())) {
        s.startHandshake();
        assertEquals("TLSv1.3", s.getSession().getProtocol());
        assertEquals("CN=node:n1,O=Cairn", s.getSession().getPeerPrincipal().getName());
        assertEquals(42, s.getInputStream().read(), "the server's byte after the handshake");
      }
      assertEquals("CN=alice,O=Cairn", seen.get(TIMEOUT_MILLIS, MILLISECONDS));
    }
  }

  @Test
  void aClientCertFromAnotherCaIsRefusedAtTheHandshake(@TempDir Path otherDir) throws Exception {
    CertAuthority ca = CertAuthority.create(dir, YEAR);
    Path[] node = ca.issueNode("n1", List.of("127.0.0.1"), YEAR);
    Path[] stranger = CertAuthority.create(otherDir, YEAR).issueClient("alice", YEAR);
    Path caCrt = dir.resolve("ca.crt");
    try (SSLServerSocket server = listen(Pem.tls(node[0], node[1], caCrt))) {
      CompletableFuture<String> seen = serveOne(server);
      // The client trusts the cluster's CA (so it accepts the server) but presents a stranger's
      // certificate. In TLS 1.3 the client may finish its side first and hear the refusal on read.
      try (SSLSocket s = connect(Pem.tls(stranger[0], stranger[1], caCrt), server.getLocalPort())) {
        assertThrows(
            IOException.class,
            () -> {
              s.startHandshake();
              if (s.getInputStream().read() < 0) {
                throw new EOFException("closed without data");
              }
            });
      }
      ExecutionException e =
          assertThrows(ExecutionException.class, () -> seen.get(TIMEOUT_MILLIS, MILLISECONDS));
      assertInstanceOf(SSLHandshakeException.class, e.getCause(), String.valueOf(e.getCause()));
      String why = e.getCause().getMessage();
      assertTrue(why.contains("does not chain with any of the trust anchors"), why);
    }
  }

  static SSLServerSocket listen(SSLContext ctx) throws IOException {
    SSLServerSocket server =
        (SSLServerSocket)
            ctx.getServerSocketFactory()
                .createServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
    server.setSoTimeout(TIMEOUT_MILLIS);
    server.setEnabledProtocols(new String[] {"TLSv1.3"});
    server.setNeedClientAuth(true);
    return server;
  }

  /** Accepts one connection: completes with the client's subject, or the handshake's failure. */
  static CompletableFuture<String> serveOne(SSLServerSocket server) {
    CompletableFuture<String> seen = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try (SSLSocket s = (SSLSocket) server.accept()) {
                s.setSoTimeout(TIMEOUT_MILLIS);
                s.startHandshake();
                String name = s.getSession().getPeerPrincipal().getName();
                s.getOutputStream().write(42);
                s.getOutputStream().flush();
                seen.complete(name);
              } catch (Throwable e) {
                seen.completeExceptionally(e);
              }
            },
            "tls-test-server");
    t.setDaemon(true);
    t.start();
    return seen;
  }

  static SSLSocket connect(SSLContext ctx, int port) throws IOException {
    SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket();
    s.connect(new InetSocketAddress("127.0.0.1", port), TIMEOUT_MILLIS);
    s.setSoTimeout(TIMEOUT_MILLIS);
    s.setEnabledProtocols(new String[] {"TLSv1.3"});
    SSLParameters p = s.getSSLParameters();
    // Check the server's certificate names the address dialled, as a client library should.
    p.setEndpointIdentificationAlgorithm("HTTPS");
    s.setSSLParameters(p);
    return s;
  }
}
