package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.errors.Errors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18, acceptance 3: a member low on disk space makes the cluster read-only, and it leaves
 * that mode by itself when space returns. Twice in one cluster:
 *
 * <ul>
 *   <li>n2's watermark ({@code node.data.min.free.bytes}, hot) is raised above any disk and lowered
 *       again through its config file;
 *   <li>n3's data directory is a 128 MiB tmpfs the test mounts (when it may: root here and in CI),
 *       with a 32 MiB watermark; the test fills it with a file, then deletes the file.
 * </ul>
 *
 * Each time, writes sent to the leader and to a follower are refused with NO_SPACE naming the
 * member (RESOURCE_EXHAUSTED, not applied), reads go on, the node's gauge and log say so, and
 * writes are accepted again afterwards. At the end, every write that was answered OK is in the
 * balances, and no refused one is.
 */
class DiskWatermarkTest {
  private static final long MIB = 1024 * 1024;

  @TempDir Path data;

  private int applied; // transfers of 1 from a to b answered OK

  @Test
  void aMemberLowOnSpaceMakesTheClusterReadOnlyUntilSpaceReturns() throws Exception {
    Path n2config = data.resolve("n2.properties");
    Files.writeString(n2config, "node.data.min.free.bytes=0\n");
    Path n3dir = data.resolve("n3");
    Files.createDirectories(n3dir);
    boolean tmpfs = mountTmpfs(n3dir, 128 * MIB);
    try {
      try (LocalCluster cluster =
              new LocalCluster("disk-watermark", 3, data, Map.of())
                  .nodeConfigFile(2, n2config)
                  .nodeSetting(3, "node.data.min.free.bytes", Long.toString(32 * MIB))
                  .start();
          CairnClient client =
              cluster.clientBuilder().totalTimeout(Duration.ofSeconds(30)).build()) {
        assertEquals(ResultCode.OK, client.createAccount("a").getCode());
        assertEquals(ResultCode.OK, client.createAccount("b").getCode());
        assertEquals(ResultCode.OK, client.mint("a", 1_000_000).getCode());
        await("a first write", () -> writable(cluster));

        // n2: the watermark raised above any disk, through the hot key.
        Files.writeString(n2config, "node.data.min.free.bytes=" + (1L << 50) + "\n");
        readOnly(cluster, client, 2);
        assertEquals(1.0, cluster.gauge(2, "cairn_data_dir_low_space"));
        assertTrue(cluster.log(2).contains("NO SPACE: "), "n2 did not say so");
        Files.writeString(n2config, "node.data.min.free.bytes=0\n");
        await("writes accepted after n2's watermark went back to 0", () -> writable(cluster));
        assertEquals(0.0, cluster.gauge(2, "cairn_data_dir_low_space"));
        assertTrue(cluster.log(2).contains("space is back: "), "n2 did not say space is back");

        if (tmpfs) {
          // n3: a real file system that fills up.
          Path filler = n3dir.resolve("filler.bin");
          fill(filler, Files.getFileStore(n3dir).getUsableSpace() - 16 * MIB);
          readOnly(cluster, client, 3);
          assertTrue(cluster.log(3).contains("NO SPACE: "), "n3 did not say so");
          Files.delete(filler);
          await("writes accepted after n3's filler was deleted", () -> writable(cluster));
        } else {
          System.out.println("DiskWatermarkTest: cannot mount a tmpfs here; the n3 part skipped");
        }

        GetBalances after = balances(client);
        assertEquals(1_000_000L - applied, after.a(), "a's balance");
        assertEquals(applied, after.b(), "b's balance: every OK transfer, no refused one");
        cluster.assertRootsAgree(Duration.ofSeconds(30));
      }
    } finally {
      if (tmpfs) {
        run("umount", n3dir.toString());
      }
    }
    assertTrue(applied >= 3, "writes went through before and after each read-only spell");
  }

  /**
   * Awaits NO_SPACE naming {@code node} for writes sent to the leader and to a follower; checks
   * that reads go on and that the client library surfaces the refusal as final, not unknown.
   */
  private void readOnly(LocalCluster cluster, CairnClient client, int node) throws Exception {
    await(
        "n" + node + " low on space in its status",
        () -> cluster.status(node).map(ClusterStatusResponse::getLowOnSpace).orElse(false));
    int leader = cluster.awaitLeader(Duration.ofSeconds(30));
    int follower = leader % 3 + 1;
    for (int target : new int[] {leader, follower}) {
      StatusRuntimeException[] refused = new StatusRuntimeException[1];
      await(
          "a write to n" + target + " refused with NO_SPACE",
          () -> (refused[0] = tryTransfer(cluster, target)) != null);
      StatusRuntimeException e = refused[0];
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.getStatus().getCode(), e.toString());
      ErrorDetail detail = Errors.detailOf(e);
      assertNotNull(detail, e.toString());
      assertEquals(ErrorDetail.Kind.NO_SPACE, detail.getKind());
      assertTrue(detail.getNotApplied());
      assertTrue(e.getStatus().getDescription().contains("node n" + node + " "), e.toString());
    }
    assertTrue(client.getAccount("a").getFound(), "reads go on");
    try (CairnClient quick = cluster.clientBuilder().totalTimeout(Duration.ofSeconds(3)).build()) {
      CairnException e = assertThrows(CairnException.class, () -> quick.transfer("a", "b", 1));
      assertFalse(e instanceof OutcomeUnknownException, "a refusal is not an unknown outcome");
    }
  }

  /** Null when a transfer of 1 from a to b sent to {@code node} applied; else its refusal. */
  private StatusRuntimeException tryTransfer(LocalCluster cluster, int node) {
    ManagedChannel channel = null;
    try {
      channel = cluster.tlsChannel(cluster.endpoint(node), "admin");
      SubmitResponse r =
          LedgerServiceGrpc.newBlockingStub(channel)
              .withDeadlineAfter(10, TimeUnit.SECONDS)
              .submit(
                  SubmitRequest.newBuilder()
                      .addOperations(Ops.transfer("t-" + System.nanoTime(), "a", "b", 1))
                      .build());
      assertEquals(ResultCode.OK, r.getResults(0).getCode(), r.toString());
      applied++;
      return null;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() != Status.Code.RESOURCE_EXHAUSTED) {
        throw e; // anything else would make the balance count unknowable
      }
      return e;
    } catch (IOException e) {
      throw new AssertionError(e);
    } finally {
      if (channel != null) {
        channel.shutdownNow();
      }
    }
  }

  private boolean writable(LocalCluster cluster) {
    try {
      return tryTransfer(cluster, cluster.awaitLeader(Duration.ofSeconds(30))) == null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private record GetBalances(long a, long b) {}

  private static GetBalances balances(CairnClient client) {
    return new GetBalances(
        client.getAccount("a").getAccount().getBalance(),
        client.getAccount("b").getAccount().getBalance());
  }

  private static void fill(Path file, long bytes) throws IOException {
    byte[] chunk = new byte[(int) MIB];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long written = 0; written < bytes; written += chunk.length) {
        out.write(chunk, 0, (int) Math.min(chunk.length, bytes - written));
      }
    }
  }

  private static void await(String what, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!cond.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out waiting for: " + what);
      Thread.sleep(200);
    }
  }

  /** Mounts a tmpfs of {@code bytes} at {@code dir}; false when this machine does not let us. */
  private static boolean mountTmpfs(Path dir, long bytes) {
    return run("mount", "-t", "tmpfs", "-o", "size=" + bytes, "cairn-test", dir.toString());
  }

  private static boolean run(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      if (!p.waitFor(20, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return false;
      }
      if (p.exitValue() != 0) {
        System.out.println(String.join(" ", cmd) + ": " + out.strip());
      }
      return p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }
}
