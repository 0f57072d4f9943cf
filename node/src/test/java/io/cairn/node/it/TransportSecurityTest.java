package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.cli.cert.CertAuthority;
import io.cairn.node.tls.TlsMaterial;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.LedgerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.apache.ratis.proto.RaftProtos;
import org.apache.ratis.proto.grpc.AdminProtocolServiceGrpc;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The transport's doors, tried with real sockets against a real node: only TLS 1.3 with a
 * certificate of the cluster's CA gets in on the API port; only a replica's certificate gets in on
 * the Raft port; Ratis's own admin and client services answer on no public port.
 */
class TransportSecurityTest {
  @TempDir static Path data;
  @TempDir static Path otherCa;
  static LocalCluster cluster;
  static int raftPort;

  @BeforeAll
  static void start() throws Exception {
    cluster = new LocalCluster("transport-security", 1, data, Map.of()).start();
    String raft = cluster.raftAddress(1);
    raftPort = Integer.parseInt(raft.substring(raft.lastIndexOf(':') + 1));
    // A second CA with a client of the same name as the cluster's admin.
    CertAuthority.create(otherCa, Duration.ofDays(1)).issueClient("admin", Duration.ofDays(1));
    CertAuthority.load(otherCa)
        .issueNode("n1", List.of("127.0.0.1", "localhost"), Duration.ofDays(1));
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static Status.Code statusOver(ManagedChannel channel) {
    try {
      LedgerServiceGrpc.newBlockingStub(channel)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .clusterStatus(ClusterStatusRequest.getDefaultInstance());
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  void theApiPortServesTheClusterCertificate() throws Exception {
    assertEquals(Status.Code.OK, statusOver(cluster.tlsChannel(cluster.endpoint(1), "admin")));
  }

  @Test
  void theApiPortRefusesPlaintext() {
    ManagedChannel plain =
        NettyChannelBuilder.forTarget(cluster.endpoint(1)).usePlaintext().build();
    assertEquals(Status.Code.UNAVAILABLE, statusOver(plain));
  }

  @Test
  void theApiPortRefusesTlsWithoutAClientCertificate() throws Exception {
    ManagedChannel noCert =
        NettyChannelBuilder.forTarget(cluster.endpoint(1))
            .sslContext(
                GrpcSslContexts.forClient()
                    .trustManager(cluster.certs().resolve("ca.crt").toFile())
                    .build())
            .build();
    assertEquals(Status.Code.UNAVAILABLE, statusOver(noCert));
  }

  @Test
  void theApiPortRefusesACertificateOfAnotherCa() throws Exception {
    ManagedChannel foreign =
        NettyChannelBuilder.forTarget(cluster.endpoint(1))
            .sslContext(
                GrpcSslContexts.forClient()
                    .keyManager(
                        otherCa.resolve("client.admin.crt").toFile(),
                        otherCa.resolve("client.admin.key").toFile())
                    // trusts the real node, so only the node's refusal can fail the call
                    .trustManager(cluster.certs().resolve("ca.crt").toFile())
                    .build())
            .build();
    assertEquals(Status.Code.UNAVAILABLE, statusOver(foreign));
  }

  /** A JDK TLS 1.3 handshake with the Raft port, presenting {@code material}'s certificate. */
  private static void handshakeWithRaftPort(TlsMaterial material, TrustManager trust)
      throws Exception {
    SSLContext ctx = SSLContext.getInstance("TLSv1.3");
    ctx.init(
        material == null ? null : new javax.net.ssl.KeyManager[] {material.keyManager()},
        new TrustManager[] {trust},
        null);
    try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket()) {
      s.connect(new InetSocketAddress("127.0.0.1", raftPort), 5000);
      s.setSoTimeout(5000);
      s.setEnabledProtocols(new String[] {"TLSv1.3"});
      s.setUseClientMode(true);
      javax.net.ssl.SSLParameters p = s.getSSLParameters();
      p.setApplicationProtocols(new String[] {"h2"});
      s.setSSLParameters(p);
      s.startHandshake();
      // In TLS 1.3 the server judges the client's certificate after the client's Finished: a
      // refusal arrives as an alert on the first read.
      s.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes());
      s.getOutputStream().flush();
      int read = s.getInputStream().read();
      if (read < 0) {
        throw new SSLException("closed by the server");
      }
    }
  }

  private static TlsMaterial material(Path dir, String cert, String key) throws IOException {
    return TlsMaterial.load(dir.resolve(cert), dir.resolve(key), dir.resolve("ca.crt"));
  }

  @Test
  void theRaftPortAdmitsAReplica() throws Exception {
    TlsMaterial n1 = material(cluster.certs(), "node.n1.crt", "node.n1.key");
    handshakeWithRaftPort(n1, n1.peerTrust());
  }

  @Test
  void theRaftPortRefusesAClientCertificateOfTheSameCa() throws Exception {
    cluster.issueClient("admin");
    TlsMaterial admin = material(cluster.certs(), "client.admin.crt", "client.admin.key");
    TlsMaterial n1 = material(cluster.certs(), "node.n1.crt", "node.n1.key");
    assertThrows(IOException.class, () -> handshakeWithRaftPort(admin, n1.peerTrust()));
  }

  @Test
  void theRaftPortRefusesAReplicaCertificateOfAnotherCa() throws Exception {
    TlsMaterial foreign = material(otherCa, "node.n1.crt", "node.n1.key");
    TlsMaterial n1 = material(cluster.certs(), "node.n1.crt", "node.n1.key");
    assertThrows(IOException.class, () -> handshakeWithRaftPort(foreign, n1.peerTrust()));
  }

  @Test
  void theRaftPortRefusesNoCertificateAndPlaintext() throws Exception {
    TlsMaterial n1 = material(cluster.certs(), "node.n1.crt", "node.n1.key");
    assertThrows(IOException.class, () -> handshakeWithRaftPort(null, n1.peerTrust()));
    ManagedChannel plain =
        NettyChannelBuilder.forTarget(cluster.raftAddress(1)).usePlaintext().build();
    assertEquals(Status.Code.UNAVAILABLE, statusOver(plain));
  }

  private static Status.Code groupList(String target) throws Exception {
    org.apache.ratis.thirdparty.io.grpc.ManagedChannel ch =
        org.apache.ratis.thirdparty.io.grpc.netty.NettyChannelBuilder.forTarget(target)
            .sslContext(
                org.apache.ratis.thirdparty.io.grpc.netty.GrpcSslContexts.forClient()
                    .keyManager(
                        cluster.certs().resolve("node.n1.crt").toFile(),
                        cluster.certs().resolve("node.n1.key").toFile())
                    .trustManager(cluster.certs().resolve("ca.crt").toFile())
                    .build())
            .build();
    try {
      AdminProtocolServiceGrpc.newBlockingStub(ch)
          .withDeadlineAfter(5, TimeUnit.SECONDS)
          .groupList(
              RaftProtos.GroupListRequestProto.newBuilder()
                  .setRpcRequest(
                      RaftProtos.RaftRpcRequestProto.newBuilder()
                          .setRequestorId(ByteString.copyFromUtf8("probe"))
                          .setReplyId(ByteString.copyFromUtf8("n1"))
                          .setCallId(1))
                  .build());
      return Status.Code.OK;
    } catch (org.apache.ratis.thirdparty.io.grpc.StatusRuntimeException e) {
      return Status.Code.valueOf(e.getStatus().getCode().name());
    } finally {
      ch.shutdownNow();
    }
  }

  @Test
  void ratisAdminIsNotServedOnTheRaftPortEvenToAReplica() throws Exception {
    assertEquals(Status.Code.UNIMPLEMENTED, groupList(cluster.raftAddress(1)));
  }

  @Test
  void ratisAdminAndClientListenOnLoopbackOnly() throws Exception {
    // Every listening TCP socket of the node process, from /proc: the API and Raft ports may be
    // on any address the config names; anything else must be 127.0.0.1.
    long pid = cluster.process(1).pid();
    List<String> listening = listeningSockets(pid);
    assertFalse(listening.isEmpty(), "no listening sockets found for pid " + pid);
    int api =
        Integer.parseInt(cluster.endpoint(1).substring(cluster.endpoint(1).lastIndexOf(':') + 1));
    int metrics =
        Integer.parseInt(
            cluster.metricsUrl(1).substring(cluster.metricsUrl(1).lastIndexOf(':') + 1));
    int others = 0;
    for (String s : listening) {
      int port = Integer.parseInt(s.substring(s.indexOf(':') + 1), 16);
      if (port == api || port == raftPort || port == metrics) {
        continue;
      }
      others++;
      assertTrue(
          s.startsWith("0100007F:") || s.startsWith("0000000000000000FFFF00000100007F:"),
          "a listener not on loopback: " + s);
    }
    assertEquals(2, others, "Ratis's admin and client listeners: " + listening);
    // ...and the admin service is there, on loopback, behind the same peer TLS.
    assertNotEquals(Status.Code.UNIMPLEMENTED, groupList("127.0.0.1:" + cluster.ratisAdminPort(1)));
  }

  /** local_address fields (hex ip:port) of the process's TCP sockets in state LISTEN (0A). */
  private static List<String> listeningSockets(long pid) throws IOException {
    java.util.Set<String> inodes = new java.util.HashSet<>();
    try (var fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring(8, target.length() - 1));
          }
        } catch (IOException gone) {
          // closed meanwhile
        }
      }
    }
    List<String> out = new java.util.ArrayList<>();
    for (String table : List.of("tcp", "tcp6")) {
      Path f = Path.of("/proc", Long.toString(pid), "net", table);
      if (!Files.exists(f)) {
        continue;
      }
      for (String line : Files.readAllLines(f)) {
        String[] cols = line.trim().split("\\s+");
        if (cols.length > 9 && cols[3].equals("0A") && inodes.contains(cols[9])) {
          out.add(cols[1]);
        }
      }
    }
    return out;
  }
}
