package io.cairn.node.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.cairn.client.CairnClient;
import io.cairn.node.it.LocalCluster;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6, acceptance 1 and 2: /metrics of a loaded node shows the metrics with non-zero values;
 * killing the leader moves the leader-change counter; the alert rules pass promtool and, like the
 * dashboard, name only metrics that a node really exports.
 */
class MetricsEndpointTest {
  @TempDir Path data;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private static final Path RULES = Path.of("..", "config", "prometheus", "cairn-alerts.yml");
  private static final Path DASHBOARD = Path.of("..", "config", "grafana", "cairn-dashboard.json");

  private String get(String url) throws IOException, InterruptedException {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), url);
    return r.body();
  }

  private static double value(String scrape, String series) {
    double sum = 0;
    boolean found = false;
    for (String line : scrape.split("\n")) {
      if (line.startsWith(series + "{") || line.startsWith(series + " ")) {
        sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    assertTrue(found, "no series " + series + " in the scrape");
    return sum;
  }

  @Test
  void loadedNodeExportsItsMetricsAndALeaderKillIsCounted() throws Exception {
    try (LocalCluster cluster = new LocalCluster("metrics", 3, data, Map.of()).start();
        CairnClient client = cluster.clientBuilder().build()) {
      client.createAccount("m-a");
      client.createAccount("m-b");
      client.mint("m-a", 1000);
      for (int i = 0; i < 20; i++) {
        client.transfer("m-a", "m-b", 1);
      }
      client.transfer("m-b", "m-a", 1_000_000); // INSUFFICIENT_FUNDS, counted by code
      int leader = cluster.awaitLeader(Duration.ofSeconds(10));
      String scrape = get(cluster.metricsUrl(leader) + "/metrics");
      assertTrue(value(scrape, "cairn_api_operations_total") >= 23);
      assertTrue(scrape.contains("code=\"INSUFFICIENT_FUNDS\""), "result codes are not labelled");
      assertTrue(value(scrape, "cairn_raft_applied_index") > 0);
      assertTrue(value(scrape, "cairn_raft_commit_index") > 0);
      assertTrue(value(scrape, "cairn_raft_term") > 0);
      assertEquals(1.0, value(scrape, "cairn_raft_is_leader"));
      assertTrue(value(scrape, "cairn_batch_operations_count") > 0);
      assertTrue(value(scrape, "cairn_api_submit_latency_seconds_count") > 0);
      assertTrue(value(scrape, "cairn_raft_commit_latency_seconds_count") > 0);
      assertTrue(value(scrape, "cairn_state_apply_latency_seconds_count") > 0);
      assertTrue(value(scrape, "cairn_batch_queue_limit") > 0);
      assertTrue(value(scrape, "cairn_ledger_accounts") >= 2);
      assertTrue(value(scrape, "jvm_memory_used_bytes") > 0);
      assertTrue(scrape.contains("ratis_log_worker_flushtime_seconds"), "Ratis fsync time missing");
      assertEquals("ok\n", get(cluster.metricsUrl(leader) + "/health"));
      assertEquals("ready\n", get(cluster.metricsUrl(leader) + "/ready"));

      Set<String> exported = seriesNames(scrape);
      for (Path file : new Path[] {RULES, DASHBOARD}) {
        Set<String> missing = new TreeSet<>(referencedMetrics(Files.readString(file)));
        missing.removeAll(exported);
        assertTrue(missing.isEmpty(), file + " names metrics no node exports: " + missing);
      }

      int survivor = leader % 3 + 1;
      double before =
          value(get(cluster.metricsUrl(survivor) + "/metrics"), "cairn_raft_leader_changes_total");
      cluster.kill(leader);
      cluster.awaitLeader(Duration.ofSeconds(30));
      // The survivor hears of the new leader with its first heartbeat; poll, bounded.
      double after = before;
      long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
      while (after <= before && System.nanoTime() < deadline) {
        Thread.sleep(100);
        after =
            value(
                get(cluster.metricsUrl(survivor) + "/metrics"), "cairn_raft_leader_changes_total");
      }
      assertTrue(after > before, "leader changes did not move: " + before + " -> " + after);
    }
  }

  @Test
  void alertRulesPassPromtool() throws Exception {
    Path promtool = Path.of("/usr/bin/promtool");
    assumeTrue(Files.isExecutable(promtool), "promtool not installed (scripts/test installs it)");
    Process p =
        new ProcessBuilder(promtool.toString(), "check", "rules", RULES.toString())
            .redirectErrorStream(true)
            .start();
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), "promtool did not finish");
    String out = new String(p.getInputStream().readAllBytes());
    assertEquals(0, p.exitValue(), out);
  }

  static Set<String> seriesNames(String scrape) {
    Set<String> names = new TreeSet<>();
    for (String line : scrape.split("\n")) {
      if (!line.startsWith("#") && !line.isBlank()) {
        int end = line.indexOf('{') >= 0 ? line.indexOf('{') : line.indexOf(' ');
        names.add(line.substring(0, end));
      }
    }
    return names;
  }

  static Set<String> referencedMetrics(String text) {
    Set<String> names = new TreeSet<>();
    Matcher m = Pattern.compile("\\b((?:cairn|ratis|jvm|process|system)_[a-z0-9_]+)").matcher(text);
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
