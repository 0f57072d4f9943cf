package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: 10,000 connections that never start their TLS handshake, all from one address
 * (127.0.0.2, still loopback), do not exhaust the node. All but api.max.connections.per.address
 * (1,000) are closed at accept; a client from another address (127.0.0.1) is served meanwhile.
 */
class ConnectionFloodTest {
  @TempDir Path data;

  @Test
  void tenThousandHalfOpenConnectionsDoNotStopTheNode() throws Exception {
    try (LocalCluster cluster = new LocalCluster("flood", 1, data, Map.of()).start();
        CairnClient client = cluster.clientBuilder().endpoints(cluster.endpoints()).build()) {
      cluster.awaitLeader(Duration.ofSeconds(20));
      client.createAccount("a");
      client.createAccount("b");
      client.mint("a", 1_000_000);
      String endpoint = cluster.endpoint(1);
      int port = Integer.parseInt(endpoint.substring(endpoint.lastIndexOf(':') + 1));
      InetAddress flooder = InetAddress.getByName("127.0.0.2");
      List<Socket> flood = new ArrayList<>();
      try {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        for (int i = 0; i < 10_000 && System.nanoTime() < deadline; i++) {
          Socket s = new Socket();
          s.bind(new InetSocketAddress(flooder, 0));
          s.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
          flood.add(s);
        }
        assertEquals(10_000, flood.size(), "could not open the flood in 60 s");
        // The node keeps serving a client on another address while the flood is open.
        for (int i = 0; i < 20; i++) {
          assertEquals(ResultCode.OK, client.transfer("a", "b", 1).getCode());
        }
        assertEquals(999_980, client.getAccount("a").getAccount().getBalance());
        String metrics = scrape(cluster.metricsUrl(1) + "/metrics");
        double refused = gauge(metrics, "cairn_api_connections_refused");
        assertTrue(refused >= 9_000, "refused at accept: " + refused);
        double open = gauge(metrics, "cairn_api_connections");
        assertTrue(open <= 1_000 + 5, "open API connections: " + open);
      } finally {
        for (Socket s : flood) {
          closeQuietly(s);
        }
      }
      assertTrue(cluster.isRunning(1));
    }
  }

  /**
   * Issue 18, "a receive deadline": 50 calls that send their headers and never their request are
   * closed with DEADLINE_EXCEEDED once api.receive.timeout.millis (1 s here) has passed, and
   * counted; the node serves a normal call on the same connection meanwhile.
   */
  @Test
  void callsWhoseRequestNeverArrivesAreClosedAtTheReceiveDeadline() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster(
                    "receive-deadline", 1, data, Map.of("api.receive.timeout.millis", "1000"))
                .start();
        CairnClient client = cluster.clientBuilder().endpoints(cluster.endpoints()).build()) {
      cluster.awaitLeader(Duration.ofSeconds(20));
      client.createAccount("a");
      ManagedChannel channel = cluster.tlsChannel(cluster.endpoint(1), "admin");
      try {
        List<CompletableFuture<Status>> closed = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
          CompletableFuture<Status> done = new CompletableFuture<>();
          ClientCall<SubmitRequest, SubmitResponse> call =
              channel.newCall(LedgerServiceGrpc.getSubmitMethod(), CallOptions.DEFAULT);
          call.start(
              new ClientCall.Listener<>() {
                @Override
                public void onClose(Status status, Metadata trailers) {
                  done.complete(status);
                }
              },
              new Metadata());
          call.request(1); // headers only: the request itself never comes
          closed.add(done);
        }
        var stub =
            LedgerServiceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
        assertTrue(
            stub.getAccount(GetAccountRequest.newBuilder().setAccount("a").build()).getFound(),
            "a normal call on the same connection is served");
        for (CompletableFuture<Status> done : closed) {
          Status status = done.get(20, TimeUnit.SECONDS);
          assertEquals(Status.Code.DEADLINE_EXCEEDED, status.getCode(), status.toString());
          assertTrue(
              status.getDescription().contains("api.receive.timeout.millis"), status.toString());
        }
        String metrics = scrape(cluster.metricsUrl(1) + "/metrics");
        double timedOut =
            metrics
                .lines()
                .filter(l -> l.startsWith("cairn_api_rejections_total{"))
                .filter(l -> l.contains("reason=\"receive_timeout\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .sum();
        assertEquals(50.0, timedOut, "receive_timeout rejections");
      } finally {
        channel.shutdownNow();
      }
      assertEquals(ResultCode.OK, client.createAccount("b").getCode());
    }
  }

  private static String scrape(String url) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    return r.body();
  }

  private static double gauge(String metrics, String name) {
    for (String line : metrics.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError(name + " not exported");
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing a refused socket
    }
  }
}
