package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.node.metrics.NodeMetrics;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.Operation;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.Transfer;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The admission gate on a real gRPC server over loopback: requests over the node's or a
 * connection's in-flight bounds are refused at once with RESOURCE_EXHAUSTED, an OVERLOADED detail
 * carrying the retry hint, and a metric by reason; slots come back when calls end.
 */
class AdmissionInterceptorTest {
  private static final Metadata.Key<ErrorDetail> DETAIL = io.cairn.proto.errors.Errors.DETAIL_KEY;

  /** Holds every Submit until {@link #answerAll}; ClusterStatus answers at once. */
  static final class HoldingService extends LedgerServiceGrpc.LedgerServiceImplBase {
    final List<StreamObserver<SubmitResponse>> held = new CopyOnWriteArrayList<>();

    @Override
    public void submit(SubmitRequest request, StreamObserver<SubmitResponse> out) {
      held.add(out);
    }

    @Override
    public void clusterStatus(ClusterStatusRequest r, StreamObserver<ClusterStatusResponse> out) {
      out.onNext(ClusterStatusResponse.newBuilder().setNodeId("fake").build());
      out.onCompleted();
    }

    void answerAll() {
      for (StreamObserver<SubmitResponse> o : held) {
        o.onNext(SubmitResponse.getDefaultInstance());
        o.onCompleted();
      }
      held.clear();
    }
  }

  private final List<ManagedChannel> channels = new ArrayList<>();
  private final NodeMetrics metrics = new NodeMetrics("test");
  private final HoldingService service = new HoldingService();
  private final io.grpc.protobuf.services.HealthStatusManager health =
      new io.grpc.protobuf.services.HealthStatusManager();
  private Server server;
  private AdmissionGate gate;

  private void start(int maxRequests, long maxBytes, int perConnection) throws Exception {
    gate = new AdmissionGate(maxRequests, maxBytes, perConnection);
    AdmissionInterceptor admission =
        new AdmissionInterceptor(
            gate,
            metrics,
            () -> 75,
            Set.of(LedgerServiceGrpc.getClusterStatusMethod().getFullMethodName()));
    server =
        NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
            .addTransportFilter(admission.transportFilter())
            .addService(
                ServerInterceptors.intercept(
                    ServerInterceptors.useMarshalledMessages(
                        service.bindService(), io.cairn.proto.wire.RawBytes.INSTANCE),
                    admission))
            .addService(ApiServer.gatedHealth(health, admission))
            .build()
            .start();
  }

  /** A new channel is a new HTTP/2 connection. */
  private LedgerServiceGrpc.LedgerServiceStub connection() {
    ManagedChannel c =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    channels.add(c);
    return LedgerServiceGrpc.newStub(c).withDeadlineAfter(10, TimeUnit.SECONDS);
  }

  /** Result of one async Submit. */
  static final class Outcome implements StreamObserver<SubmitResponse> {
    final java.util.concurrent.CompletableFuture<Status> done =
        new java.util.concurrent.CompletableFuture<>();
    volatile ErrorDetail detail;

    @Override
    public void onNext(SubmitResponse value) {}

    @Override
    public void onError(Throwable t) {
      Metadata trailers = Status.trailersFromThrowable(t);
      detail = trailers == null ? null : trailers.get(DETAIL);
      done.complete(Status.fromThrowable(t));
    }

    @Override
    public void onCompleted() {
      done.complete(Status.OK);
    }

    Status status() throws Exception {
      return done.get(10, TimeUnit.SECONDS);
    }
  }

  private static SubmitRequest request(int padBytes) {
    return SubmitRequest.newBuilder()
        .addOperations(
            Operation.newBuilder()
                .setId("op-" + padBytes)
                // The fake service does not validate: a long account id pads the request.
                .setTransfer(
                    Transfer.newBuilder()
                        .setFrom("a" + "x".repeat(padBytes))
                        .setTo("b")
                        .setAmount(1)))
        .build();
  }

  private Outcome submit(LedgerServiceGrpc.LedgerServiceStub stub, SubmitRequest r) {
    Outcome o = new Outcome();
    stub.submit(r, o);
    return o;
  }

  private void awaitHeld(int n) throws InterruptedException {
    for (int i = 0; i < 200 && service.held.size() < n; i++) {
      Thread.sleep(10);
    }
    assertEquals(n, service.held.size(), "calls reaching the service");
  }

  private double rejections(String reason) {
    return metrics.registry().get("cairn.api.rejections").tag("reason", reason).counter().count();
  }

  @AfterEach
  void stop() throws Exception {
    service.answerAll();
    for (ManagedChannel c : channels) {
      c.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
    if (server != null) {
      server.shutdownNow().awaitTermination(2, TimeUnit.SECONDS);
    }
    metrics.close();
  }

  @Test
  void overAConnectionsBoundIsRefusedWithARetryHintWhileOtherConnectionsAreAdmitted()
      throws Exception {
    start(100, 64 << 20, 2);
    var one = connection();
    Outcome a = submit(one, request(0));
    Outcome b = submit(one, request(0));
    awaitHeld(2);
    Outcome refused = submit(one, request(0));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode());
    assertNotNull(refused.detail, "no ErrorDetail in the trailers");
    assertEquals(ErrorDetail.Kind.OVERLOADED, refused.detail.getKind());
    assertEquals(75, refused.detail.getRetryAfterMillis());
    assertTrue(refused.detail.getNotApplied());
    assertEquals(1.0, rejections("connection_inflight"));

    Outcome other = submit(connection(), request(0));
    awaitHeld(3);
    service.answerAll();
    for (Outcome o : List.of(a, b, other)) {
      assertEquals(Status.Code.OK, o.status().getCode());
    }
  }

  @Test
  void aHealthCheckIsGatedLikeAnyUnaryCall() throws Exception {
    start(2, 64 << 20, 100);
    io.grpc.health.v1.HealthCheckRequest check =
        io.grpc.health.v1.HealthCheckRequest.getDefaultInstance();
    ManagedChannel probe =
        NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    channels.add(probe);
    var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(probe);
    assertEquals(
        io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING,
        health.withDeadlineAfter(10, TimeUnit.SECONDS).check(check).getStatus());
    submit(connection(), request(0));
    submit(connection(), request(0));
    awaitHeld(2);
    io.grpc.StatusRuntimeException refused =
        org.junit.jupiter.api.Assertions.assertThrows(
            io.grpc.StatusRuntimeException.class,
            () -> health.withDeadlineAfter(10, TimeUnit.SECONDS).check(check));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.getStatus().getCode());
    service.answerAll();
    assertEquals(
        io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING,
        health.withDeadlineAfter(10, TimeUnit.SECONDS).check(check).getStatus());
  }

  @Test
  void overTheNodesRequestBoundIsRefusedOnAnyConnection() throws Exception {
    start(2, 64 << 20, 100);
    submit(connection(), request(0));
    submit(connection(), request(0));
    awaitHeld(2);
    Outcome refused = submit(connection(), request(0));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode());
    assertEquals(1.0, rejections("node_inflight"));
    assertEquals(0.0, rejections("connection_inflight"));
  }

  @Test
  void overTheNodesByteBoundIsRefused() throws Exception {
    start(100, 3000, 100);
    submit(connection(), request(2000));
    awaitHeld(1);
    Outcome refused = submit(connection(), request(2000));
    assertEquals(Status.Code.RESOURCE_EXHAUSTED, refused.status().getCode());
    assertEquals(1.0, rejections("node_bytes"));
    Outcome small = submit(connection(), request(10));
    awaitHeld(2);
    service.answerAll();
    assertEquals(Status.Code.OK, small.status().getCode());
  }

  @Test
  void slotsComeBackWhenCallsEndOrAreCancelled() throws Exception {
    start(1, 64 << 20, 1);
    var stub = connection();
    Outcome first = submit(stub, request(0));
    awaitHeld(1);
    service.answerAll();
    assertEquals(Status.Code.OK, first.status().getCode());
    // A call the client abandons (deadline) must free its slot too.
    Outcome abandoned = submit(stub.withDeadlineAfter(200, TimeUnit.MILLISECONDS), request(0));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, abandoned.status().getCode());
    for (int i = 0; i < 200 && gate.inflightRequests() > 0; i++) {
      Thread.sleep(10);
    }
    assertEquals(0, gate.inflightRequests());
    assertEquals(0, gate.inflightBytes());
    service.held.clear();
    Outcome again = submit(stub, request(0));
    for (int i = 0; i < 200 && service.held.isEmpty(); i++) {
      Thread.sleep(10);
    }
    service.answerAll();
    assertEquals(Status.Code.OK, again.status().getCode());
  }

  @Test
  void clusterStatusIsNotGatedSoOperatorsCanLookDuringOverload() throws Exception {
    start(1, 64 << 20, 1);
    var stub = connection();
    submit(stub, request(0));
    awaitHeld(1);
    ClusterStatusResponse r =
        LedgerServiceGrpc.newBlockingStub(channels.get(0))
            .withDeadlineAfter(5, TimeUnit.SECONDS)
            .clusterStatus(ClusterStatusRequest.getDefaultInstance());
    assertEquals("fake", r.getNodeId());
  }

  @Test
  void theGateAdmitsALoneRequestLargerThanTheByteBound() {
    AdmissionGate g = new AdmissionGate(10, 100, 10);
    AdmissionGate.Connection c = new AdmissionGate.Connection();
    assertNull(g.tryAdmit(c, 500));
    assertEquals(AdmissionGate.Refusal.NODE_BYTES, g.tryAdmit(c, 1));
    g.release(c, 500);
    assertNull(g.tryAdmit(c, 1));
    assertEquals(1, c.inflight());
    assertThrows(IllegalArgumentException.class, () -> new AdmissionGate(0, 1, 1));
  }
}
