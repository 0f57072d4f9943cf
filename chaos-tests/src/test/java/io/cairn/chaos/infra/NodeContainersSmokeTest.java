package io.cairn.chaos.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three containers of the node image running {@link EchoMain} instead of the node, to show the
 * harness's faults do what they say. Skipped where no Docker engine answers or not run as root.
 */
@RequiresDocker
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class NodeContainersSmokeTest {
  private static final int PORT = 7000;
  private static final String TAG = "cairn-infra-smoke:test";
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(10);

  private static NodeImage image;
  private static NodeContainers cluster;

  @BeforeAll
  static void startCluster(@TempDir Path dir) throws IOException {
    Path app = Files.createDirectories(dir.resolve("app"));
    writeEchoJar(app.resolve("cairn-node.jar"));
    image =
        NodeImage.build(
            NodeImage.defaultScript(), app, EchoMain.class.getName(), TAG, Duration.ofMinutes(2));
    cluster =
        NodeContainers.start(
            ClusterSpec.of(image.tag(), 3)
                .withCommand(node -> List.of(Integer.toString(PORT), node))
                .withReadyPort(PORT)
                .withTimeouts(Duration.ofSeconds(60), Duration.ofSeconds(20)));
  }

  @AfterAll
  static void removeEverything() {
    try {
      if (cluster != null) {
        cluster.close();
      }
    } finally {
      if (image != null) {
        image.remove(Duration.ofSeconds(30));
      }
    }
  }

  @AfterEach
  void restoreCluster() {
    cluster.heal();
    for (String node : cluster.nodes()) {
      cluster.unpause(node);
      cluster.start(node);
    }
  }

  @Test
  void nodesReachEachOtherByAlias() {
    assertTrue(reaches("n1", "n2"));
    assertTrue(reaches("n2", "n3"));
    assertTrue(reaches("n3", "n1"));
  }

  @Test
  void hostReachesEveryNodeAtItsContainerAddress() throws IOException {
    for (String node : cluster.nodes()) {
      assertEquals(node + ":hi", askFromHost(node));
    }
  }

  @Test
  void partitionCutsOnlyLinksAcrossItAndHealRestoresThem() throws IOException {
    cluster.partition(Set.of("n1", "n3"));
    assertFalse(reaches("n1", "n2"));
    assertFalse(reaches("n2", "n3"));
    assertTrue(reaches("n1", "n3"));
    assertEquals("n2:hi", askFromHost("n2"), "the host is on no side of a partition");
    cluster.heal();
    assertTrue(reaches("n1", "n2"));
    assertTrue(reaches("n2", "n3"));
  }

  @Test
  void cutBreaksOneLinkOnly() {
    cluster.cut("n1", "n2");
    assertFalse(reaches("n1", "n2"));
    assertFalse(reaches("n2", "n1"));
    assertTrue(reaches("n1", "n3"));
    assertTrue(reaches("n2", "n3"));
  }

  @Test
  void fullPacketLossSilencesANodeUntilHealed() {
    cluster.packetLoss("n2", 100);
    assertFalse(reaches("n1", "n2"));
    cluster.packetLoss("n2", 0);
    assertTrue(reaches("n1", "n2"));
  }

  @Test
  void pausedNodeAnswersNothingUntilUnpaused() {
    cluster.pause("n2");
    assertFalse(reaches("n1", "n2"));
    cluster.unpause("n2");
    assertTrue(reaches("n1", "n2"));
  }

  @Test
  void killedNodeIsDownUntilStartedAgain() {
    long before = cluster.pid("n3");
    cluster.kill9("n3");
    assertFalse(cluster.isRunning("n3"));
    assertFalse(reaches("n1", "n3"));
    cluster.start("n3");
    assertTrue(cluster.isRunning("n3"));
    assertNotEquals(before, cluster.pid("n3"));
    assertTrue(reaches("n1", "n3"));
  }

  @Test
  void isolationSurvivesARestartOfTheIsolatedNode() {
    cluster.isolate("n3");
    cluster.kill9("n3");
    cluster.start("n3");
    assertFalse(reaches("n1", "n3"));
    assertFalse(reaches("n3", "n2"));
    cluster.heal();
    assertTrue(reaches("n1", "n3"));
  }

  @Test
  void execIsKilledAtItsTimeout() {
    long start = System.nanoTime();
    ExecResult result = cluster.exec("n1", Duration.ofSeconds(1), "sleep", "30");
    assertTrue(result.timedOut());
    assertTrue(Duration.ofNanos(System.nanoTime() - start).compareTo(Duration.ofSeconds(10)) < 0);
  }

  /**
   * One line to {@code to}'s echo port from inside {@code from}, answered within 3 s. busybox nc
   * waits on a connected but frozen peer past its -w, hence the outer timeout.
   */
  private static boolean reaches(String from, String to) {
    ExecResult result =
        cluster.exec(
            from, PROBE_TIMEOUT, "sh", "-c", "echo ping | timeout 3 nc -w 2 " + to + " " + PORT);
    return result.stdout().strip().equals(to + ":ping");
  }

  private static String askFromHost(String node) throws IOException {
    try (Socket socket = new Socket()) {
      socket.connect(cluster.address(node, PORT), 2_000);
      socket.setSoTimeout(2_000);
      OutputStream out = socket.getOutputStream();
      out.write("hi\n".getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = socket.getInputStream();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
    }
  }

  /** A jar of EchoMain with fixed entry times, so an unchanged class keeps the image cached. */
  private static void writeEchoJar(Path jar) throws IOException {
    String entry = EchoMain.class.getName().replace('.', '/') + ".class";
    try (InputStream in = EchoMain.class.getResourceAsStream("/" + entry);
        ZipOutputStream out = new ZipOutputStream(Files.newOutputStream(jar))) {
      if (in == null) {
        throw new IOException("class file not found: " + entry);
      }
      ZipEntry zipEntry = new ZipEntry(entry);
      zipEntry.setTime(315_532_800_000L); // 1980-01-01, the zip format's epoch
      out.putNextEntry(zipEntry);
      in.transferTo(out);
      out.closeEntry();
    }
  }
}
