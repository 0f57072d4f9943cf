package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.util.concurrent.ListenableFuture;
import io.cairn.client.CairnClient;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ResultCode;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A leader frozen (SIGSTOP, as a long GC or VM pause does) while the others elect a new leader and
 * commit a write must not answer a linearizable read with the old state when it resumes. The chaos
 * suite's pause nemesis saw such a stale read when reads used Ratis's ReadIndex, which reuses an
 * earlier leadership confirmation for the same commit index; Cairn's reads now go through a log
 * entry. This test checks the property in its sharpest form (the new majority is gone when the old
 * leader resumes, so only its read path decides), but it does not reproduce Ratis's race on demand:
 * the old read path passed it too in the runs tried (Ratis's leader stepped down first). The chaos
 * suite remains the evidence.
 */
class PausedLeaderReadTest {
  @TempDir Path data;

  @Test
  void aResumedDeposedLeaderNeverServesAStaleRead() throws Exception {
    // The write below is acknowledged by the other two before the old leader resumes; its
    // reads must then show it or fail.
    try (LocalCluster cluster = new LocalCluster("paused-leader", 3, data, Map.of()).start();
        CairnClient client = cluster.clientBuilder().build()) {
      assertEquals(ResultCode.OK, client.createAccount("a").getCode());
      assertEquals(ResultCode.OK, client.mint("a", 100).getCode());
      int old = cluster.awaitLeader(Duration.ofSeconds(30));
      ManagedChannel toOld = cluster.tlsChannel(cluster.endpoint(old), "admin");
      try {
        var stub = LedgerServiceGrpc.newBlockingStub(toOld);
        GetAccountRequest read = GetAccountRequest.newBuilder().setAccount("a").build();
        // Reads at the old leader's commit index, so a leadership confirmation is on record.
        for (int i = 0; i < 3; i++) {
          assertEquals(
              100,
              stub.withDeadlineAfter(5, TimeUnit.SECONDS)
                  .getAccount(read)
                  .getAccount()
                  .getBalance());
        }
        long pid = cluster.process(old).pid();
        signal("STOP", pid);
        List<ListenableFuture<GetAccountResponse>> reads = new ArrayList<>();
        try {
          List<String> others = new ArrayList<>();
          for (int n = 1; n <= 3; n++) {
            if (n != old) {
              others.add(cluster.endpoint(n));
            }
          }
          try (CairnClient rest =
              cluster
                  .clientBuilder()
                  .endpoints(others)
                  .totalTimeout(Duration.ofSeconds(30))
                  .build()) {
            assertEquals(ResultCode.OK, rest.mint("a", 1).getCode());
          }
          // The new majority goes away before the old leader resumes, so nobody can tell it that
          // it was deposed: only its own read path decides what it answers.
          for (int n = 1; n <= 3; n++) {
            if (n != old) {
              cluster.kill(n);
            }
          }
          // Reads that reach the frozen node now wait in its socket buffers and are the first
          // thing it handles when it resumes, before it can learn of the new term.
          var async = LedgerServiceGrpc.newFutureStub(toOld);
          for (int i = 0; i < 5; i++) {
            reads.add(async.withDeadlineAfter(10, TimeUnit.SECONDS).getAccount(read));
          }
          Thread.sleep(300);
        } finally {
          signal("CONT", pid);
        }
        int stale = 0;
        int fresh = 0;
        int refused = 0;
        for (ListenableFuture<GetAccountResponse> f : reads) {
          try {
            if (f.get(15, TimeUnit.SECONDS).getAccount().getBalance() == 100) {
              stale++;
            } else {
              fresh++;
            }
          } catch (ExecutionException e) {
            refused++; // NOT_LEADER or timed out: correct answers too
          }
        }
        System.out.printf("paused leader: stale %d, fresh %d, refused %d%n", stale, fresh, refused);
        assertEquals(
            0, stale, "stale reads: " + stale + ", fresh " + fresh + ", refused " + refused);
        assertTrue(fresh + refused == 5);
      } finally {
        toOld.shutdownNow();
        toOld.awaitTermination(2, TimeUnit.SECONDS);
      }
    }
  }

  private static void signal(String sig, long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
    assertTrue(p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0, "kill -" + sig + " failed");
  }
}
