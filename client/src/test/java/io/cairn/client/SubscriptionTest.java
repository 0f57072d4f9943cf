package io.cairn.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.WatchRequest;
import io.cairn.proto.WatchResponse;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The subscription's own defences, against scripted nodes on loopback: real nodes cannot be made to
 * send a gap, so these fakes do, and the client must refuse it.
 */
class SubscriptionTest {
  private final List<Server> servers = new ArrayList<>();

  /** A node whose Watch streams are scripted: (request, stream). */
  final class FakeNode extends LedgerServiceGrpc.LedgerServiceImplBase {
    final List<Long> fromIndexes = new CopyOnWriteArrayList<>();
    final BiConsumer<WatchRequest, StreamObserver<WatchResponse>> script;
    final String endpoint;

    FakeNode(BiConsumer<WatchRequest, StreamObserver<WatchResponse>> script) throws Exception {
      this.script = script;
      Server s =
          NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
              .addService(this)
              .build()
              .start();
      servers.add(s);
      this.endpoint = "127.0.0.1:" + s.getPort();
    }

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchResponse> out) {
      fromIndexes.add(request.getFromIndex());
      script.accept(request, out);
    }
  }

  static WatchResponse entry(long index, long prev) {
    return WatchResponse.newBuilder().setIndex(index).setPrevIndex(prev).build();
  }

  static void error(StreamObserver<WatchResponse> out, Status status, ErrorDetail detail) {
    Metadata trailers = new Metadata();
    if (detail != null) {
      trailers.put(io.cairn.proto.errors.Errors.DETAIL_KEY, detail);
    }
    out.onError(status.asRuntimeException(trailers));
  }

  static ErrorDetail compacted(long oldest) {
    return ErrorDetail.newBuilder()
        .setKind(ErrorDetail.Kind.COMPACTED)
        .setOldestAvailableIndex(oldest)
        .build();
  }

  CairnClient client(FakeNode... nodes) {
    List<String> endpoints = new ArrayList<>();
    for (FakeNode n : nodes) {
      endpoints.add(n.endpoint);
    }
    return CairnClient.builder()
        .plaintext()
        .endpoints(endpoints)
        .totalTimeout(Duration.ofSeconds(3))
        .build();
  }

  @AfterEach
  void stopServers() throws InterruptedException {
    for (Server s : servers) {
      s.shutdownNow();
      s.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  static List<Long> pollIndexes(Subscription s, int n) {
    List<Long> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      WatchResponse e = s.poll(Duration.ofSeconds(5));
      assertTrue(e != null, "entry " + i + " did not arrive");
      out.add(e.getIndex());
    }
    return out;
  }

  @Test
  void aBrokenPrevIndexChainFailsWithDataLossAfterTheGoodEntries() throws Exception {
    FakeNode node =
        new FakeNode(
            (req, out) -> {
              out.onNext(entry(3, 0));
              out.onNext(entry(5, 3));
              out.onNext(entry(9, 7)); // 7 was never sent: a gap
            });
    try (CairnClient c = client(node);
        Subscription s = c.subscribe(1)) {
      assertEquals(List.of(3L, 5L), pollIndexes(s, 2));
      CairnException e = assertThrows(CairnException.class, () -> s.poll(Duration.ofSeconds(5)));
      assertEquals(Status.Code.DATA_LOSS, e.code());
      assertTrue(e.getMessage().contains("gap"), e.getMessage());
      assertEquals(5, s.lastDeliveredIndex());
    }
  }

  @Test
  void aFirstEntryThatSkipsPastTheStartIsRefused() throws Exception {
    // Asked from 4, a node answering with an entry whose predecessor 6 is >= 4 hid entry 6.
    FakeNode node = new FakeNode((req, out) -> out.onNext(entry(8, 6)));
    try (CairnClient c = client(node);
        Subscription s = c.subscribe(4)) {
      CairnException e = assertThrows(CairnException.class, () -> s.poll(Duration.ofSeconds(5)));
      assertEquals(Status.Code.DATA_LOSS, e.code());
    }
  }

  @Test
  void aFailedNodeIsLeftAndTheNextResumesAfterTheLastEntryReceived() throws Exception {
    FakeNode a =
        new FakeNode(
            (req, out) -> {
              out.onNext(entry(1, 0));
              out.onNext(entry(2, 1));
              error(out, Status.UNAVAILABLE.withDescription("node going away"), null);
            });
    FakeNode b =
        new FakeNode(
            (req, out) -> {
              out.onNext(entry(3, 2));
              out.onNext(entry(4, 3));
            });
    try (CairnClient c = client(a, b);
        Subscription s = c.subscribe(1)) {
      assertEquals(List.of(1L, 2L, 3L, 4L), pollIndexes(s, 4));
      assertEquals(List.of(1L), a.fromIndexes);
      assertEquals(List.of(3L), b.fromIndexes);
    }
  }

  @Test
  void aResumedNodeRepeatingAnEntryIsRefusedNotDelivered() throws Exception {
    FakeNode a =
        new FakeNode(
            (req, out) -> {
              out.onNext(entry(1, 0));
              error(out, Status.UNAVAILABLE, null);
            });
    FakeNode b = new FakeNode((req, out) -> out.onNext(entry(1, 0)));
    try (CairnClient c = client(a, b);
        Subscription s = c.subscribe(1)) {
      assertEquals(List.of(1L), pollIndexes(s, 1));
      CairnException e = assertThrows(CairnException.class, () -> s.poll(Duration.ofSeconds(5)));
      assertEquals(Status.Code.DATA_LOSS, e.code());
    }
  }

  @Test
  void compactedOnOneNodeAsksTheNextAndOnEveryNodeThrowsWithTheOldestIndex() throws Exception {
    FakeNode a = new FakeNode((req, out) -> error(out, Status.OUT_OF_RANGE, compacted(40)));
    FakeNode b = new FakeNode((req, out) -> out.onNext(entry(12, 9)));
    try (CairnClient c = client(a, b);
        Subscription s = c.subscribe(10)) {
      assertEquals(List.of(12L), pollIndexes(s, 1));
    }
    FakeNode d = new FakeNode((req, out) -> error(out, Status.OUT_OF_RANGE, compacted(55)));
    try (CairnClient c = client(a, d);
        Subscription s = c.subscribe(10)) {
      CompactedException e =
          assertThrows(CompactedException.class, () -> s.poll(Duration.ofSeconds(5)));
      assertEquals(10, e.requestedIndex());
      assertEquals(55, e.oldestAvailableIndex());
    }
  }

  @Test
  void noReachableNodeGivesUpAfterTheTotalTimeoutAsRetryable() throws Exception {
    FakeNode a = new FakeNode((req, out) -> error(out, Status.UNAVAILABLE, null));
    try (CairnClient c = client(a);
        Subscription s = c.subscribe(1)) {
      long started = System.nanoTime();
      CairnException e = assertThrows(CairnException.class, () -> s.poll(Duration.ofSeconds(10)));
      assertTrue(e.isRetryable());
      assertEquals(Status.Code.UNAVAILABLE, e.code());
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(8));
    }
  }

  @Test
  void aTwoEntryBufferStillDeliversALongStreamInOrderAndCloseEndsPolling() throws Exception {
    // Credits must be topped up as entries are polled, or a small buffer would stall.
    FakeNode node =
        new FakeNode(
            (req, out) -> {
              for (long i = 1; i <= 500; i++) {
                out.onNext(entry(i, i - 1));
              }
            });
    try (CairnClient c = client(node)) {
      Subscription s = c.subscribe(1, 2);
      List<Long> got = pollIndexes(s, 500);
      for (int i = 0; i < 500; i++) {
        assertEquals(i + 1, got.get(i));
      }
      assertNull(s.poll(Duration.ofMillis(100)));
      s.close();
      CairnException e = assertThrows(CairnException.class, () -> s.poll(Duration.ofSeconds(1)));
      assertEquals(Status.Code.CANCELLED, e.code());
      assertTrue(s.isDone());
    }
  }
}
