package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.Ops;
import io.cairn.proto.Consistency;
import io.cairn.proto.GetTransferRequest;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.errors.Errors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16, "any node accepts any request": a plain gRPC stub bound to one follower is served by
 * the leader through it, with the caller's own principal; only a replica may forward; and a write
 * sent to a follower while the leader is dead waits for the election instead of failing.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ForwardingTest {
  @TempDir static Path data;
  static LocalCluster cluster;

  @BeforeAll
  static void up() throws Exception {
    cluster = new LocalCluster("forward", 3, data, Map.of()).start();
  }

  @AfterAll
  static void down() {
    if (cluster != null) {
      cluster.close();
    }
  }

  private static int aFollower(int leader) {
    return leader == 1 ? 2 : 1;
  }

  private static SubmitRequest submit(io.cairn.proto.Operation... ops) {
    SubmitRequest.Builder b = SubmitRequest.newBuilder();
    for (io.cairn.proto.Operation op : ops) {
      b.addOperations(op);
    }
    return b.build();
  }

  @Test
  @Order(1)
  void aFollowerServesWritesAndLinearizableReadsThroughTheLeader() throws Exception {
    int leader = cluster.awaitLeader(Duration.ofSeconds(30));
    int follower = aFollower(leader);
    ManagedChannel channel = cluster.tlsChannel(cluster.endpoint(follower), "admin");
    try {
      AtomicReference<Metadata> headers = new AtomicReference<>();
      AtomicReference<Metadata> trailers = new AtomicReference<>();
      LedgerServiceGrpc.LedgerServiceBlockingStub stub =
          LedgerServiceGrpc.newBlockingStub(channel)
              .withInterceptors(MetadataUtils.newCaptureMetadataInterceptor(headers, trailers))
              .withDeadlineAfter(10, TimeUnit.SECONDS);
      SubmitResponse created =
          stub.submit(
              submit(
                  Ops.createAccount("fw-create-a", "fw-a"),
                  Ops.createAccount("fw-create-b", "fw-b"),
                  Ops.mint("fw-mint", "fw-a", 100)));
      assertEquals(3, created.getResultsCount());
      created.getResultsList().forEach(r -> assertEquals(ResultCode.OK, r.getCode(), r.getId()));
      // The stamp is the leader's: the node that applied the write first and answered it.
      assertEquals("n" + leader, created.getStamp().getNodeId());
      String hint = headers.get().get(Errors.LEADER_KEY);
      assertEquals("n" + leader + "=" + cluster.endpoint(leader), hint);

      SubmitResponse moved = stub.submit(submit(Ops.transfer("fw-move", "fw-a", "fw-b", 40)));
      assertEquals(ResultCode.OK, moved.getResults(0).getCode());
      // The same id again through another follower's door: the first result, not a second move.
      SubmitResponse again = stub.submit(submit(Ops.transfer("fw-move", "fw-a", "fw-b", 40)));
      assertEquals(moved.getResults(0).getAppliedIndex(), again.getResults(0).getAppliedIndex());
      assertTrue(again.getResults(0).getReplayed());

      GetTransferResponse looked =
          stub.getTransfer(
              GetTransferRequest.newBuilder()
                  .setId("fw-move")
                  .setRead(ReadOptions.newBuilder().setConsistency(Consistency.LINEARIZABLE))
                  .build());
      assertTrue(looked.getFound());
      // Recorded under the caller's principal, not the forwarding replica's.
      assertEquals("admin", looked.getPrincipal());
      assertEquals("n" + leader, looked.getStamp().getNodeId());
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  @Order(2)
  void onlyAReplicaMayForwardOnBehalfOfSomeoneElse() throws Exception {
    int leader = cluster.awaitLeader(Duration.ofSeconds(30));
    ManagedChannel channel = cluster.tlsChannel(cluster.endpoint(leader), "admin");
    try {
      Metadata forged = new Metadata();
      forged.put(Errors.FORWARDED_FOR_KEY, "someone-else");
      var stub =
          LedgerServiceGrpc.newBlockingStub(channel)
              .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(forged))
              .withDeadlineAfter(10, TimeUnit.SECONDS);
      StatusRuntimeException e =
          assertThrows(
              StatusRuntimeException.class,
              () -> stub.submit(submit(Ops.createAccount("fw-forged", "fw-forged"))));
      assertEquals(Status.Code.UNAUTHENTICATED, e.getStatus().getCode());
    } finally {
      channel.shutdownNow();
    }
  }

  @Test
  @Order(3)
  void aWriteSentToAFollowerDuringAnElectionWaitsForTheNewLeader() throws Exception {
    int leader = cluster.awaitLeader(Duration.ofSeconds(30));
    int follower = aFollower(leader);
    ManagedChannel channel = cluster.tlsChannel(cluster.endpoint(follower), "admin");
    try {
      var stub = LedgerServiceGrpc.newBlockingStub(channel);
      // Connected and warm before the kill, so what is measured is the follower's behaviour.
      stub.withDeadlineAfter(10, TimeUnit.SECONDS)
          .submit(submit(Ops.createAccount("fw-election-acct", "fw-election")));
      cluster.kill(leader);
      SubmitResponse r =
          stub.withDeadlineAfter(15, TimeUnit.SECONDS)
              .submit(submit(Ops.mint("fw-election-mint", "fw-election", 7)));
      assertEquals(ResultCode.OK, r.getResults(0).getCode());
      assertNotNull(r.getStamp());
      assertTrue(!r.getStamp().getNodeId().equals("n" + leader), "served by the new leader");
      cluster.startNode(leader);
      cluster.awaitLeader(Duration.ofSeconds(30));
    } finally {
      channel.shutdownNow();
    }
  }
}
