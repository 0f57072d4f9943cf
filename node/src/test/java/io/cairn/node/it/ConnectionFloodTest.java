package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.proto.ResultCode;
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
