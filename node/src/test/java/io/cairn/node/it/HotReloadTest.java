package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6, acceptance 3: a bad value stops the node at start with one line naming the key; a hot
 * key changed in the file of a running node takes effect without restart (log and /metrics); a
 * static key is refused with a clear message; a broken file is refused as a whole.
 */
class HotReloadTest {
  @TempDir Path data;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private String metrics(LocalCluster c) throws Exception {
    return http.send(
            HttpRequest.newBuilder(URI.create(c.metricsUrl(1) + "/metrics"))
                .timeout(Duration.ofSeconds(5))
                .build(),
            HttpResponse.BodyHandlers.ofString())
        .body();
  }

  private static void await(String what, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!cond.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for: " + what);
      Thread.sleep(200);
    }
  }

  private static boolean has(String metrics, String key, String value) {
    return metrics
        .lines()
        .anyMatch(
            l ->
                l.startsWith("cairn_config_value{")
                    && l.contains("key=\"" + key + "\"")
                    && l.endsWith(" " + value));
  }

  @Test
  void hotKeysReloadStaticKeysAreRefusedAndABrokenFileChangesNothing() throws Exception {
    Path file = data.resolve("node.properties");
    Files.writeString(file, "batch.max.ops=4096\nlog.level=INFO\n");
    try (LocalCluster c =
        new LocalCluster("hot-reload", 1, data, Map.of()).configFile(file).start()) {
      assertTrue(has(metrics(c), "batch.max.ops", "4096.0"));
      Files.writeString(file, "batch.max.ops=7\nlog.level=DEBUG\nraft.log.segment.bytes=2097152\n");
      await(
          "batch.max.ops=7 in /metrics",
          () -> {
            try {
              return has(metrics(c), "batch.max.ops", "7.0");
            } catch (Exception e) {
              return false;
            }
          });
      String log = c.log(1);
      assertTrue(log.contains("config reload: batch.max.ops 4096 -> 7 (applied)"), log);
      assertTrue(log.contains("config reload: log.level INFO -> DEBUG (applied)"), log);
      assertTrue(log.contains("raft.log.segment.bytes 33554432 -> 2097152 needs a restart"), log);

      Files.writeString(file, "batch.max.ops=-1\n");
      await(
          "the refusal in the log",
          () -> {
            try {
              return c.log(1).contains("config reload refused");
            } catch (Exception e) {
              return false;
            }
          });
      assertTrue(c.log(1).contains("batch.max.ops: -1 is out of range"));
      assertTrue(has(metrics(c), "batch.max.ops", "7.0"), "a refused file must change nothing");
      assertTrue(c.isRunning(1));
    }
  }

  @Test
  void aBadValueStopsTheNodeAtStartWithOneLineNamingTheKey() throws Exception {
    try (LocalCluster c = new LocalCluster("bad-config", 1, data, Map.of("batch.max.ops", "-5"))) {
      Process p = c.startNode(1);
      assertTrue(p.waitFor(30, TimeUnit.SECONDS));
      assertEquals(2, p.exitValue());
      String out = c.log(1).strip();
      assertEquals(1, out.lines().count(), out);
      assertTrue(out.contains("batch.max.ops: -5 is out of range"), out);
    }
  }
}
