package io.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Stamp;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The client's retry, redirect and coalescing rules against real gRPC servers on loopback. */
class CairnClientTest {
  private final List<Server> servers = new ArrayList<>();

  /** A node whose Submit answer is scripted per call number (0-based). */
  final class FakeNode extends LedgerServiceGrpc.LedgerServiceImplBase {
    final List<SubmitRequest> calls = new CopyOnWriteArrayList<>();
    final List<io.cairn.proto.ListRolesRequest> roleReads = new CopyOnWriteArrayList<>();
    final Function<Integer, Status> failure;
    final Function<Integer, ErrorDetail> detail;
    final int port;
    // The result code answered for operations whose id starts with "old-" (others get OK).
    volatile ResultCode oldAnswer = ResultCode.OK;

    FakeNode(Function<Integer, Status> failure, Function<Integer, ErrorDetail> detail)
        throws Exception {
      this.failure = failure;
      this.detail = detail;
      Server s =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(this)
              .build()
              .start();
      servers.add(s);
      this.port = s.getPort();
    }

    String endpoint() {
      return "127.0.0.1:" + port;
    }

    @Override
    public void submit(SubmitRequest request, StreamObserver<SubmitResponse> out) {
      int n = calls.size();
      calls.add(request);
      Status st = failure.apply(n);
      if (st != null) {
        Metadata trailers = new Metadata();
        ErrorDetail d = detail.apply(n);
        if (d != null) {
          trailers.put(io.cairn.proto.errors.Errors.DETAIL_KEY, d);
        }
        out.onError(st.asRuntimeException(trailers));
        return;
      }
      SubmitResponse.Builder r =
          SubmitResponse.newBuilder().setStamp(Stamp.newBuilder().setNodeId("fake"));
      for (Operation op : request.getOperationsList()) {
        r.addResults(
            OperationResult.newBuilder()
                .setId(op.getId())
                .setCode(op.getId().startsWith("old-") ? oldAnswer : ResultCode.OK)
                .setAppliedIndex(7));
      }
      out.onNext(r.build());
      out.onCompleted();
    }

    @Override
    public void listRoles(
        io.cairn.proto.ListRolesRequest request,
        StreamObserver<io.cairn.proto.ListRolesResponse> out) {
      roleReads.add(request);
      out.onNext(
          io.cairn.proto.ListRolesResponse.newBuilder()
              .addGrants(
                  io.cairn.proto.RoleGrant.newBuilder()
                      .setPrincipal("ann")
                      .addRoles(io.cairn.proto.Role.ADMIN))
              .setNextStartAfter("ann")
              .build());
      out.onCompleted();
    }
  }

  @AfterEach
  void stop() {
    servers.forEach(Server::shutdownNow);
  }

  CairnClient client(List<String> endpoints, int attempts) {
    return CairnClient.builder()
        .plaintext()
        .endpoints(endpoints)
        .maxAttempts(attempts)
        .totalTimeout(Duration.ofSeconds(5))
        .backoff(Duration.ofMillis(1), Duration.ofMillis(5))
        .build();
  }

  @Test
  void notLeaderRedirectIsFollowedAndRemembered() throws Exception {
    FakeNode leader = new FakeNode(n -> null, n -> null);
    FakeNode follower =
        new FakeNode(
            n -> Status.UNAVAILABLE,
            n ->
                ErrorDetail.newBuilder()
                    .setKind(ErrorDetail.Kind.NOT_LEADER)
                    .setLeaderEndpoint(leader.endpoint())
                    .setNotApplied(true)
                    .build());
    try (CairnClient c = client(List.of(follower.endpoint()), 5)) {
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-1", "a", "b", 1)).getCode());
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-2", "a", "b", 1)).getCode());
      assertEquals(1, follower.calls.size(), "the second write should go straight to the leader");
      assertEquals(2, leader.calls.size());
      assertTrue(c.endpoints().contains(leader.endpoint()));
    }
  }

  @Test
  void invalidArgumentIsNotRetried() throws Exception {
    FakeNode node = new FakeNode(n -> Status.INVALID_ARGUMENT.withDescription("bad"), n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 5)) {
      CairnException e =
          assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "b", 1)));
      assertFalse(e.isRetryable());
      assertFalse(e instanceof OutcomeUnknownException);
      assertEquals(1, node.calls.size());
    }
  }

  @Test
  void overloadIsRetriedThenSucceeds() throws Exception {
    FakeNode node =
        new FakeNode(
            n -> n < 2 ? Status.RESOURCE_EXHAUSTED : null,
            n ->
                ErrorDetail.newBuilder()
                    .setKind(ErrorDetail.Kind.OVERLOADED)
                    .setRetryAfterMillis(10)
                    .setNotApplied(true)
                    .build());
    try (CairnClient c = client(List.of(node.endpoint()), 5)) {
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t", "a", "b", 1)).getCode());
      assertEquals(3, node.calls.size());
    }
  }

  @Test
  void theNodesRetryAfterIsAFloorOnTheBackoff() throws Exception {
    FakeNode node =
        new FakeNode(
            n -> n < 2 ? Status.RESOURCE_EXHAUSTED : null,
            n ->
                ErrorDetail.newBuilder()
                    .setKind(ErrorDetail.Kind.OVERLOADED)
                    .setRetryAfterMillis(300)
                    .setNotApplied(true)
                    .build());
    try (CairnClient c = client(List.of(node.endpoint()), 5)) {
      long t0 = System.nanoTime();
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t", "a", "b", 1)).getCode());
      long elapsedMillis = (System.nanoTime() - t0) / 1_000_000;
      // The client's own backoff is 1..5 ms here: only the hint can make two retries take 600 ms.
      assertTrue(elapsedMillis >= 600, "retried before the hint: " + elapsedMillis + " ms");
      assertEquals(3, node.calls.size());
    }
  }

  @Test
  void aRetryAfterBeyondTheTotalTimeoutEndsTheCallInsteadOfWaiting() throws Exception {
    FakeNode node =
        new FakeNode(
            n -> Status.RESOURCE_EXHAUSTED,
            n ->
                ErrorDetail.newBuilder()
                    .setKind(ErrorDetail.Kind.OVERLOADED)
                    .setRetryAfterMillis(60_000)
                    .setNotApplied(true)
                    .build());
    try (CairnClient c =
        CairnClient.builder()
            .plaintext()
            .endpoints(List.of(node.endpoint()))
            .totalTimeout(Duration.ofSeconds(2))
            .build()) {
      long t0 = System.nanoTime();
      CairnException e =
          assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "b", 1)));
      long elapsedMillis = (System.nanoTime() - t0) / 1_000_000;
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, e.code());
      assertTrue(e.isRetryable());
      assertFalse(e instanceof OutcomeUnknownException, "the node said nothing was applied");
      assertEquals(1, node.calls.size());
      assertTrue(elapsedMillis < 2_000, "waited past the total timeout: " + elapsedMillis + " ms");
    }
  }

  /** A listener that never speaks HTTP/2: calls to it stay in flight until their deadline. */
  static java.net.ServerSocket silentListener() throws java.io.IOException {
    return new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
  }

  static CairnClient uncoalesced(java.net.ServerSocket node, int maxInflightCalls) {
    return CairnClient.builder()
        .plaintext()
        .endpoints(List.of("127.0.0.1:" + node.getLocalPort()))
        .coalesce(1, 1)
        .maxInflightCalls(maxInflightCalls)
        .totalTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Test
  void aCallerWokenByItsResultCanCallAgainAtOnceAtTheLimit() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    // One call allowed: the permit must be back before the result wakes the caller, or the
    // next call is refused as "client full" whenever the caller runs first.
    try (CairnClient c =
        CairnClient.builder()
            .plaintext()
            .endpoints(List.of(node.endpoint()))
            .coalesce(1, 1)
            .maxInflightCalls(1)
            .callbackThreads(2)
            .build()) {
      for (int i = 0; i < 500; i++) {
        assertEquals(
            ResultCode.OK, c.single(Ops.transfer("t" + i, "a", "b", 1)).getCode(), "call " + i);
      }
    }
  }

  @Test
  void aCancelledCallGivesItsPermitBack() throws Exception {
    try (java.net.ServerSocket silent = silentListener();
        CairnClient c = uncoalesced(silent, 1)) {
      CompletableFuture<SubmitResponse> a =
          c.submitAsync(List.of(Ops.transfer("t1", "a", "b", 1)), false);
      a.cancel(false);
      CompletableFuture<SubmitResponse> b =
          c.submitAsync(List.of(Ops.transfer("t2", "a", "b", 1)), false);
      assertFalse(b.isDone(), "the call after a cancelled one was refused: " + b);
    }
  }

  @Test
  void callsBeyondMaxInflightCallsAreRefusedAtOnceAsRetryableOverload() throws Exception {
    try (java.net.ServerSocket silent = silentListener();
        CairnClient c = uncoalesced(silent, 2)) {
      CompletableFuture<OperationResult> a = c.singleAsync(Ops.transfer("t1", "a", "b", 1));
      CompletableFuture<OperationResult> b = c.singleAsync(Ops.transfer("t2", "a", "b", 1));
      CompletableFuture<OperationResult> third = c.singleAsync(Ops.transfer("t3", "a", "b", 1));
      assertTrue(third.isCompletedExceptionally(), "the third call was not refused at once");
      CairnException e =
          assertThrows(java.util.concurrent.ExecutionException.class, third::get).getCause()
                  instanceof CairnException ce
              ? ce
              : null;
      assertTrue(
          e != null && e.code() == Status.Code.RESOURCE_EXHAUSTED && e.isRetryable(),
          String.valueOf(e));
      assertFalse(a.isDone() || b.isDone(), "the first two calls should still be in flight");
    }
  }

  @Test
  void exhaustedRetriesThatMayHaveAppliedAreOutcomeUnknownWithTheIdsAndTheSameOperation()
      throws Exception {
    FakeNode node = new FakeNode(n -> Status.UNAVAILABLE, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 4)) {
      OutcomeUnknownException e =
          assertThrows(
              OutcomeUnknownException.class, () -> c.single(Ops.transfer("pay-1", "a", "b", 1)));
      assertEquals(List.of("pay-1"), e.operationIds());
      assertEquals(4, node.calls.size());
      Operation first = node.calls.get(0).getOperations(0);
      for (SubmitRequest r : node.calls) {
        assertEquals(first, r.getOperations(0), "a retry must resend the identical operation");
      }
    }
  }

  @Test
  void aFinalFailureAfterAnAttemptThatMayHaveAppliedIsStillOutcomeUnknown() throws Exception {
    // Attempt 1 fails at the transport (it may have reached the log), attempt 2 gets INTERNAL,
    // which is final but says nothing about attempt 1.
    FakeNode node = new FakeNode(n -> n == 0 ? Status.UNAVAILABLE : Status.INTERNAL, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 4)) {
      Operation op = Ops.transfer("pay-2", 1_700_000_000_000L, "a", "b", 1);
      OutcomeUnknownException e = assertThrows(OutcomeUnknownException.class, () -> c.single(op));
      assertEquals(2, node.calls.size());
      assertEquals(List.of("pay-2"), e.operationIds());
      assertEquals(List.of(op), e.operations(), "the operation as sent, created_at included");
    }
  }

  @Test
  void anExpiredAnswerIsOutcomeUnknownNotAResult() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    node.oldAnswer = ResultCode.EXPIRED;
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      Operation old = Ops.transfer("old-1", 1_600_000_000_000L, "a", "b", 1);
      OutcomeUnknownException single =
          assertThrows(OutcomeUnknownException.class, () -> c.single(old));
      assertEquals(List.of(old), single.operations());
      assertTrue(single.getMessage().contains("EXPIRED"), single.getMessage());
      Operation fresh = Ops.transfer("new-1", "a", "b", 1);
      OutcomeUnknownException batch =
          assertThrows(OutcomeUnknownException.class, () -> c.submit(List.of(fresh, old), false));
      assertEquals(List.of("old-1"), batch.operationIds());
      assertEquals(
          ResultCode.OK,
          batch.response().orElseThrow().getResults(0).getCode(),
          "the other operation's result rides along");
    }
  }

  @Test
  void aTransferUnderACallersIdCarriesTheCallersCreationTime() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      long created = System.currentTimeMillis() - 5_000;
      c.transfer("pay-3", created, "a", "b", 1);
      c.transfer("pay-3", created, "a", "b", 1);
      assertEquals(2, node.calls.size());
      for (SubmitRequest r : node.calls) {
        assertEquals(created, r.getOperations(0).getCreatedAtMillis());
      }
    }
  }

  @Test
  void refusalsKnownNotToBeAppliedAreNotOutcomeUnknown() throws Exception {
    FakeNode node =
        new FakeNode(
            n -> Status.UNAVAILABLE,
            n ->
                ErrorDetail.newBuilder()
                    .setKind(ErrorDetail.Kind.NO_LEADER)
                    .setNotApplied(true)
                    .build());
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      CairnException e =
          assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "b", 1)));
      assertFalse(e instanceof OutcomeUnknownException);
      assertTrue(e.isRetryable());
    }
  }

  @Test
  void concurrentSingleOperationsShareRequestsAndEachGetsItsOwnResult() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      List<CompletableFuture<OperationResult>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        futures.add(c.singleAsync(Ops.transfer("t" + i, "a", "b", 1)));
      }
      for (int i = 0; i < 200; i++) {
        assertEquals("t" + i, futures.get(i).get().getId());
      }
      assertTrue(node.calls.size() < 200, "no coalescing: " + node.calls.size() + " requests");
    }
  }

  CairnClient lingering(FakeNode node, Duration quiet, Duration max) {
    return CairnClient.builder()
        .plaintext()
        .endpoints(List.of(node.endpoint()))
        .totalTimeout(Duration.ofSeconds(20))
        .coalesceLinger(quiet, max)
        .build();
  }

  @Test
  void callersArrivingOneByOneWithinTheQuietGapLeaveInOneRequest() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    // A quiet gap far above the submit loop's pace, so a slow machine cannot split the burst.
    try (CairnClient c = lingering(node, Duration.ofMillis(300), Duration.ofSeconds(1))) {
      List<CompletableFuture<OperationResult>> futures = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        futures.add(c.singleAsync(Ops.transfer("t" + i, "a", "b", 1)));
        Thread.sleep(1);
      }
      for (int i = 0; i < 20; i++) {
        assertEquals("t" + i, futures.get(i).get().getId());
      }
      assertEquals(1, node.calls.size(), "requests: " + node.calls.size());
      assertEquals(20, node.calls.get(0).getOperationsCount());
    }
  }

  @Test
  void theLingerNeverHoldsARequestPastItsMaximum() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    // Arrivals every 5 ms never leave a 300 ms quiet gap: only the 100 ms maximum sends.
    try (CairnClient c = lingering(node, Duration.ofMillis(300), Duration.ofMillis(100))) {
      List<CompletableFuture<OperationResult>> futures = new ArrayList<>();
      long end = System.nanoTime() + Duration.ofMillis(1500).toNanos();
      for (int i = 0; i < 1000 && System.nanoTime() < end; i++) {
        futures.add(c.singleAsync(Ops.transfer("t" + i, "a", "b", 1)));
        Thread.sleep(5);
      }
      for (CompletableFuture<OperationResult> f : futures) {
        assertEquals(ResultCode.OK, f.get().getCode());
      }
      assertTrue(node.calls.size() >= 3, "requests: " + node.calls.size());
    }
  }

  @Test
  void aMalformedOperationFailsAloneBeforeSending() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      CairnException e =
          assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "a", 1)));
      assertEquals(Status.Code.INVALID_ARGUMENT, e.code());
      assertEquals(0, node.calls.size());
    }
  }

  @Test
  void closeIsIdempotentAndLaterCallsFailFast() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    CairnClient c = client(List.of(node.endpoint()), 3);
    c.close();
    c.close();
    AtomicInteger before = new AtomicInteger(node.calls.size());
    assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "b", 1)));
    assertEquals(before.get(), node.calls.size());
  }

  @Test
  void roleAndOwnerOperationsCarryTheirFieldsAndAreCheckedBeforeSending() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      assertEquals(ResultCode.OK, c.grantRole("g-1", "mo", io.cairn.proto.Role.MEMBER).getCode());
      assertEquals(ResultCode.OK, c.revokeRole("mo", io.cairn.proto.Role.ISSUER).getCode());
      assertEquals(ResultCode.OK, c.createAccount("mo-acct", "mo").getCode());
      Operation grant = node.calls.get(0).getOperations(0);
      assertEquals("g-1", grant.getId());
      assertEquals("mo", grant.getGrantRole().getPrincipal());
      assertEquals(io.cairn.proto.Role.MEMBER, grant.getGrantRole().getRole());
      assertEquals(
          io.cairn.proto.Role.ISSUER, node.calls.get(1).getOperations(0).getRevokeRole().getRole());
      assertEquals("mo", node.calls.get(2).getOperations(0).getCreateAccount().getOwner());
      CairnException noRole =
          assertThrows(
              CairnException.class, () -> c.grantRole("mo", io.cairn.proto.Role.ROLE_UNSPECIFIED));
      assertEquals(Status.Code.INVALID_ARGUMENT, noRole.code());
      CairnException badOwner =
          assertThrows(CairnException.class, () -> c.createAccount("x", "CN=mo, O=x"));
      assertEquals(Status.Code.INVALID_ARGUMENT, badOwner.code());
      assertEquals(3, node.calls.size(), "refused before sending");
    }
  }

  @Test
  void listRolesSendsItsCursorAndReadOptions() throws Exception {
    FakeNode node = new FakeNode(n -> null, n -> null);
    try (CairnClient c = client(List.of(node.endpoint()), 3)) {
      assertEquals("ann", c.listRoles().getGrants(0).getPrincipal());
      io.cairn.proto.ReadOptions stale =
          io.cairn.proto.ReadOptions.newBuilder()
              .setConsistency(io.cairn.proto.Consistency.STALE)
              .setMinAppliedIndex(42)
              .build();
      assertEquals("ann", c.listRoles("ann", 10, stale).getNextStartAfter());
      assertEquals("", node.roleReads.get(0).getStartAfter());
      assertEquals(0, node.roleReads.get(0).getLimit());
      assertEquals(
          io.cairn.proto.ReadOptions.getDefaultInstance(), node.roleReads.get(0).getRead());
      assertEquals("ann", node.roleReads.get(1).getStartAfter());
      assertEquals(10, node.roleReads.get(1).getLimit());
      assertEquals(stale, node.roleReads.get(1).getRead());
    }
  }
}
