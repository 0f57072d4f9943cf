package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.SubmitRequest;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a write whose caller gives up while it still waits in the leader's queue is taken out,
 * not appended later. With both followers frozen (SIGSTOP) the leader commits nothing: its first
 * requests fill the entries in flight (batch.max.inflight.entries, 2 here) and the next wait in the
 * queue. One of those is sent with a 300 ms deadline; once the followers resume, every other write
 * is applied and that one is not.
 */
class CancelledWriteTest {
  @TempDir Path data;

  @Test
  void aWriteCancelledWhileQueuedIsNeverApplied() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster(
                    "cancelled",
                    3,
                    data,
                    // Long election timeouts: the frozen followers must not depose the leader
                    // (check-quorum) while the test holds them.
                    Map.of(
                        "batch.max.inflight.entries", "2",
                        "raft.election.timeout.min.millis", "5000",
                        "raft.election.timeout.max.millis", "10000"))
                .start();
        CairnClient client =
            cluster
                .clientBuilder()
                .endpoints(cluster.endpoints())
                .totalTimeout(Duration.ofSeconds(30))
                .build()) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(20));
      client.createAccount("a");
      client.createAccount("b");
      client.mint("a", 1_000);
      List<Integer> followers = new ArrayList<>();
      for (int n = 1; n <= 3; n++) {
        if (n != leader) {
          followers.add(n);
        }
      }
      ManagedChannel channel = cluster.tlsChannel(cluster.endpoint(leader), "admin");
      List<com.google.common.util.concurrent.ListenableFuture<io.cairn.proto.SubmitResponse>>
          fillers = new ArrayList<>();
      try {
        for (int n : followers) {
          signal("STOP", cluster.process(n).pid());
        }
        var async = LedgerServiceGrpc.newFutureStub(channel);
        for (int i = 0; i < 4; i++) {
          // Each its own call: two become the entries in flight, the others wait in the queue.
          fillers.add(
              async
                  .withDeadlineAfter(30, TimeUnit.SECONDS)
                  .submit(
                      SubmitRequest.newBuilder()
                          .addOperations(Ops.transfer("fill-" + i, "a", "b", 1))
                          .build()));
          Thread.sleep(50);
        }
        var stub = LedgerServiceGrpc.newBlockingStub(channel);
        StatusRuntimeException e =
            assertThrows(
                StatusRuntimeException.class,
                () ->
                    stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                        .submit(
                            SubmitRequest.newBuilder()
                                .addOperations(Ops.transfer("given-up", "a", "b", 100))
                                .build()));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());
        Thread.sleep(200); // the node sees the cancellation
      } finally {
        for (int n : followers) {
          signal("CONT", cluster.process(n).pid());
        }
      }
      for (var f : fillers) {
        assertEquals(
            io.cairn.proto.ResultCode.OK, f.get(30, TimeUnit.SECONDS).getResults(0).getCode());
      }
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      assertFalse(client.getTransfer("given-up").getFound(), "the cancelled write was applied");
      assertEquals(1_000 - 4, client.getAccount("a").getAccount().getBalance());
    }
  }

  private static void signal(String sig, long pid) throws Exception {
    Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
    assertEquals(0, p.waitFor(), "kill -" + sig + " " + pid);
  }
}
