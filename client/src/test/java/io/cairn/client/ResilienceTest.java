package io.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.ListRolesRequest;
import io.cairn.proto.ListRolesResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.errors.Errors;
import io.grpc.ForwardingServerCall.SimpleForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Circuit breakers and leader hints against real gRPC servers on loopback. */
class ResilienceTest {
  private final List<Server> servers = new ArrayList<>();

  /**
   * A node whose answer to every call is {@code failure} (null: success), with {@code leaderHeader}
   * (null: none) on every reply, as a follower that forwarded the call sets it.
   */
  final class Node extends LedgerServiceGrpc.LedgerServiceImplBase {
    final AtomicInteger calls = new AtomicInteger();
    volatile Status failure;
    volatile ErrorDetail detail;
    volatile String leaderHeader;
    final int port;

    Node(Status failure, ErrorDetail detail) throws Exception {
      this.failure = failure;
      this.detail = detail;
      Server s =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(ServerInterceptors.intercept(this, new LeaderHeader()))
              .build()
              .start();
      servers.add(s);
      this.port = s.getPort();
    }

    String endpoint() {
      return "127.0.0.1:" + port;
    }

    /** Puts the leader header on the reply's headers, or on the trailers of a failure. */
    final class LeaderHeader implements ServerInterceptor {
      @Override
      public <Q, R> ServerCall.Listener<Q> interceptCall(
          ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        return next.startCall(
            new SimpleForwardingServerCall<Q, R>(call) {
              @Override
              public void sendHeaders(Metadata h) {
                if (leaderHeader != null) {
                  h.put(Errors.LEADER_KEY, leaderHeader);
                }
                super.sendHeaders(h);
              }

              @Override
              public void close(Status status, Metadata trailers) {
                if (!status.isOk() && leaderHeader != null) {
                  trailers.put(Errors.LEADER_KEY, leaderHeader);
                }
                super.close(status, trailers);
              }
            },
            headers);
      }
    }

    private boolean failed(StreamObserver<?> out) {
      calls.incrementAndGet();
      Status st = failure;
      if (st == null) {
        return false;
      }
      ErrorDetail d = detail;
      out.onError(d == null ? st.asRuntimeException() : st.asRuntimeException(Errors.trailers(d)));
      return true;
    }

    @Override
    public void submit(SubmitRequest request, StreamObserver<SubmitResponse> out) {
      if (failed(out)) {
        return;
      }
      SubmitResponse.Builder r = SubmitResponse.newBuilder();
      for (Operation op : request.getOperationsList()) {
        r.addResults(OperationResult.newBuilder().setId(op.getId()).setCode(ResultCode.OK));
      }
      out.onNext(r.build());
      out.onCompleted();
    }

    @Override
    public void listRoles(ListRolesRequest request, StreamObserver<ListRolesResponse> out) {
      if (failed(out)) {
        return;
      }
      out.onNext(ListRolesResponse.newBuilder().setNextStartAfter(endpoint()).build());
      out.onCompleted();
    }
  }

  @AfterEach
  void stop() {
    servers.forEach(Server::shutdownNow);
  }

  final List<String> changes = new CopyOnWriteArrayList<>();

  CairnClient client(List<String> endpoints, Duration openWait) {
    return CairnClient.builder()
        .plaintext()
        .endpoints(endpoints)
        .coalesce(1, 1)
        .maxAttempts(5)
        .totalTimeout(Duration.ofSeconds(10))
        .backoff(Duration.ofMillis(1), Duration.ofMillis(2))
        .circuitBreaker(4, 4, 50, openWait)
        .endpointStateListener((e, s) -> changes.add(e + "=" + s))
        .build();
  }

  /** The endpoint that answered a read (the fake puts it in the reply). */
  static String readFrom(CairnClient c) {
    return c.listRoles().getNextStartAfter();
  }

  @Test
  void anEndpointFailingAtTheTransportOpensItsBreakerAndIsSkipped() throws Exception {
    Node bad = new Node(Status.UNAVAILABLE.withDescription("connection refused"), null);
    Node good = new Node(null, null);
    try (CairnClient c = client(List.of(bad.endpoint(), good.endpoint()), Duration.ofMinutes(1))) {
      for (int i = 0; i < 10; i++) {
        assertEquals(good.endpoint(), readFrom(c));
      }
      assertEquals(4, bad.calls.get(), "tried until its breaker opened, then skipped");
      assertEquals(
          Map.of(bad.endpoint(), EndpointState.OPEN, good.endpoint(), EndpointState.CLOSED),
          c.endpointStates());
      assertEquals(List.of(bad.endpoint() + "=OPEN"), changes);
    }
  }

  @Test
  void aHalfOpenProbeClosesTheBreakerOfARecoveredEndpoint() throws Exception {
    Node flaky = new Node(Status.UNAVAILABLE, null);
    Node good = new Node(null, null);
    try (CairnClient c =
        client(List.of(flaky.endpoint(), good.endpoint()), Duration.ofMillis(50))) {
      for (int i = 0; i < 4; i++) {
        readFrom(c);
      }
      assertEquals(EndpointState.OPEN, c.endpointStates().get(flaky.endpoint()));
      flaky.failure = null;
      // Reads go to the good node until the open wait is over; then one probes the flaky one.
      String from = good.endpoint();
      for (int i = 0; i < 500 && !from.equals(flaky.endpoint()); i++) {
        Thread.sleep(5);
        from = readFrom(c);
      }
      assertEquals(flaky.endpoint(), from, "the probe went to the recovered node");
      assertEquals(EndpointState.CLOSED, c.endpointStates().get(flaky.endpoint()));
      assertEquals(
          List.of(
              flaky.endpoint() + "=OPEN",
              flaky.endpoint() + "=HALF_OPEN",
              flaky.endpoint() + "=CLOSED"),
          changes);
      assertEquals(flaky.endpoint(), readFrom(c), "back in use");
    }
  }

  @Test
  void whenEveryEndpointIsOpenCallsStillGoOut() throws Exception {
    Node a = new Node(Status.UNAVAILABLE, null);
    Node b = new Node(Status.UNAVAILABLE, null);
    try (CairnClient c = client(List.of(a.endpoint(), b.endpoint()), Duration.ofMinutes(1))) {
      for (int i = 0; i < 4; i++) {
        assertThrows(CairnException.class, () -> readFrom(c));
      }
      assertEquals(
          Map.of(a.endpoint(), EndpointState.OPEN, b.endpoint(), EndpointState.OPEN),
          c.endpointStates());
      b.failure = null;
      a.failure = null;
      // The first read's attempts alternate a, b, a, ...: a reached 4 failures first.
      assertEquals(a.endpoint(), readFrom(c), "the endpoint whose breaker opened first");
    }
  }

  @Test
  void refusalsANodeSendsNeverOpenItsBreaker() throws Exception {
    Node node = new Node(Status.INVALID_ARGUMENT, null);
    try (CairnClient c = client(List.of(node.endpoint()), Duration.ofMinutes(1))) {
      List<Status> refusals =
          List.of(Status.INVALID_ARGUMENT, Status.PERMISSION_DENIED, Status.RESOURCE_EXHAUSTED);
      for (Status s : refusals) {
        node.failure = s;
        for (int i = 0; i < 6; i++) {
          assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "b", 1)));
        }
      }
      node.failure = Status.UNAVAILABLE;
      node.detail =
          ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.NO_LEADER).setNotApplied(true).build();
      assertThrows(CairnException.class, () -> c.single(Ops.transfer("t", "a", "b", 1)));
      node.failure = null;
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t", "a", "b", 1)).getCode());
      assertEquals(EndpointState.CLOSED, c.endpointStates().get(node.endpoint()));
      assertTrue(changes.isEmpty(), "state changes: " + changes);
    }
  }

  @Test
  void aRestartedNodeIsReachedAtOnceNotAfterTheReconnectBackoff() throws Exception {
    Node node = new Node(null, null);
    int port = node.port;
    try (CairnClient c =
        CairnClient.builder()
            .plaintext()
            .endpoints(List.of(node.endpoint()))
            .coalesce(1, 1)
            .maxAttempts(5)
            .backoff(Duration.ofMillis(10), Duration.ofMillis(20))
            .build()) {
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-1", "a", "b", 1)).getCode());
      servers.remove(0).shutdownNow().awaitTermination();
      // Refused: gRPC puts the channel in reconnect backoff (1 s, then longer), in which
      // calls fail at once without dialling.
      assertThrows(CairnException.class, () -> c.single(Ops.transfer("t-2", "a", "b", 1)));
      servers.add(
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", port))
              .addService(node)
              .build()
              .start());
      // Five attempts at most 20 ms apart would all fail inside the backoff; the client resets
      // it after a refusal, so a later attempt dials the restarted node.
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-2", "a", "b", 1)).getCode());
    }
  }

  @Test
  void theLeaderNamedOnAForwardedReplyGetsTheNextWrites() throws Exception {
    Node leader = new Node(null, null);
    Node follower = new Node(null, null);
    follower.leaderHeader = "n2=" + leader.endpoint();
    try (CairnClient c = client(List.of(follower.endpoint()), Duration.ofMinutes(1))) {
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-1", "a", "b", 1)).getCode());
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-2", "a", "b", 1)).getCode());
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-3", "a", "b", 1)).getCode());
      assertEquals(1, follower.calls.get(), "only the first write went through the follower");
      assertEquals(2, leader.calls.get());
      assertTrue(c.endpoints().contains(leader.endpoint()));
    }
  }

  @Test
  void theLeaderNamedOnAFailedForwardedReplyGetsTheRetry() throws Exception {
    Node leader = new Node(null, null);
    Node follower =
        new Node(
            Status.RESOURCE_EXHAUSTED,
            ErrorDetail.newBuilder()
                .setKind(ErrorDetail.Kind.OVERLOADED)
                .setNotApplied(true)
                .build());
    follower.leaderHeader = "n2=" + leader.endpoint();
    try (CairnClient c = client(List.of(follower.endpoint()), Duration.ofMinutes(1))) {
      assertEquals(ResultCode.OK, c.single(Ops.transfer("t-1", "a", "b", 1)).getCode());
      assertEquals(1, follower.calls.get());
      assertEquals(1, leader.calls.get());
    }
  }
}
