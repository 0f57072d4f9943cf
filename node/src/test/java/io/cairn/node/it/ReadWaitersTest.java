package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.cairn.proto.Consistency;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ReadOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: a read whose {@code min_applied_index} never comes (2^62) times out and leaves the
 * bounded wait list; it used to keep its place for good when the read was linearizable, so that a
 * few such reads left every later read with a minimum index refused as RESOURCE_EXHAUSTED.
 */
class ReadWaitersTest {
  @TempDir Path data;

  @Test
  void readsWaitingForAnIndexThatNeverComesDoNotFillTheWaitList() throws Exception {
    // The wait list holds api.max.pending.requests waits: 16 here, and 40 hostile reads.
    try (LocalCluster cluster =
        new LocalCluster(
                "waiters",
                1,
                data,
                Map.of("api.max.pending.requests", "16", "api.read.timeout.millis", "200"))
            .start()) {
      ManagedChannel channel =
          NettyChannelBuilder.forTarget(cluster.endpoint(1))
              .sslContext(cluster.clientTls("admin"))
              .build();
      try {
        var stub = LedgerServiceGrpc.newBlockingStub(channel);
        for (Consistency c : new Consistency[] {Consistency.LINEARIZABLE, Consistency.STALE}) {
          for (int i = 0; i < 20; i++) {
            StatusRuntimeException e =
                assertThrows(
                    StatusRuntimeException.class,
                    () ->
                        stub.withDeadlineAfter(10, TimeUnit.SECONDS).getAccount(read(c, 1L << 62)));
            assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode(), e.toString());
          }
        }
        // Index 1 is applied (the leader's first entry): this read waits for nothing, but it
        // still goes through the wait list, which must have room.
        var ok =
            stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                .getAccount(read(Consistency.LINEARIZABLE, 1));
        assertEquals(false, ok.getFound());
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  private static GetAccountRequest read(Consistency c, long minIndex) {
    return GetAccountRequest.newBuilder()
        .setAccount("nobody")
        .setRead(ReadOptions.newBuilder().setConsistency(c).setMinAppliedIndex(minIndex))
        .build();
  }
}
