package io.cairn.node.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import io.cairn.proto.WatchRequest;
import io.cairn.proto.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 7, acceptance 2 in small (the full size is {@code scripts/bench-watchers}): many watchers,
 * each on its own connection, on one follower all receive every ledger entry in order, with no gap
 * or duplicate, and the follower's resident memory stays bounded.
 */
class ManyWatchersTest {
  private static final int WATCHERS = 200;
  private static final int TRANSFERS = 300;
  private static final long RSS_BOUND_KIB = 512 * 1024;
  // The stream from `from` may also hold the set-up's last entry (the status call's applied
  // index can trail the set-up's reply), so the check counts this test's transfers by id.
  private static final String ID_PREFIX = "many-watchers-t";

  @TempDir Path data;

  /** One Watch stream on its own channel; records indexes and operation ids as they arrive. */
  static final class Watcher implements ClientResponseObserver<WatchRequest, WatchResponse> {
    final ManagedChannel channel;
    final long from;
    final List<Long> indexes = new ArrayList<>();
    final List<String> ids = new ArrayList<>();
    String failure;
    ClientCallStreamObserver<WatchRequest> call;

    Watcher(
        String endpoint,
        long from,
        NioEventLoopGroup group,
        ThreadPoolExecutor executor,
        io.grpc.netty.shaded.io.netty.handler.ssl.SslContext tls) {
      this.from = from;
      this.channel =
          NettyChannelBuilder.forTarget(endpoint)
              .sslContext(tls)
              .eventLoopGroup(group)
              .channelType(NioSocketChannel.class)
              .executor(executor)
              .build();
      LedgerServiceGrpc.newStub(channel)
          .withWaitForReady()
          .watch(WatchRequest.newBuilder().setFromIndex(from).build(), this);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
      stream.disableAutoRequestWithInitial(16);
      synchronized (this) {
        call = stream;
      }
    }

    @Override
    public synchronized void onNext(WatchResponse e) {
      long last = indexes.isEmpty() ? 0 : indexes.get(indexes.size() - 1);
      boolean linked =
          indexes.isEmpty()
              ? e.getIndex() >= from && e.getPrevIndex() < from
              : e.getPrevIndex() == last;
      if (failure == null && !(linked && e.getIndex() > last)) {
        failure = "entry " + e.getIndex() + " (prev " + e.getPrevIndex() + ") after " + last;
      }
      indexes.add(e.getIndex());
      for (OperationEvent ev : e.getEventsList()) {
        // A client retry of an applied id is streamed again, marked replayed; it changed nothing.
        ids.add(ev.getOperation().getId() + (ev.getResult().getReplayed() ? " (replayed)" : ""));
      }
      call.request(1);
    }

    @Override
    public synchronized void onError(Throwable t) {
      if (failure == null && Status.fromThrowable(t).getCode() != Status.Code.CANCELLED) {
        failure = String.valueOf(Status.fromThrowable(t));
      }
    }

    @Override
    public synchronized void onCompleted() {
      if (failure == null) {
        failure = "stream ended by the node";
      }
    }

    synchronized long last() {
      return indexes.isEmpty() ? 0 : indexes.get(indexes.size() - 1);
    }
  }

  @Test
  void twoHundredWatchersOnOneFollowerEachGetEveryEntryInOrderWithBoundedMemory() throws Exception {
    try (LocalCluster cluster =
            new LocalCluster(
                    "many-watchers", 3, data, Map.of("watch.max.watchers.per.principal", "1000"))
                .start();
        CairnClient writer =
            cluster
                .clientBuilder()
                .endpoints(cluster.endpoints())
                .totalTimeout(Duration.ofSeconds(20))
                .build()) {
      int leader = cluster.awaitLeader(Duration.ofSeconds(10));
      int follower = leader == 1 ? 2 : 1;
      TransferLoad load = new TransferLoad("many", 10, 1_000_000);
      load.setUp(writer);
      long from = writer.status(cluster.endpoint(leader)).getAppliedIndex() + 1;
      long pid = cluster.process(follower).pid();
      long rssBefore = rssKib(pid);

      var tls = cluster.clientTls("admin");
      NioEventLoopGroup group = new NioEventLoopGroup(2);
      ThreadPoolExecutor executor =
          new ThreadPoolExecutor(
              2,
              2,
              30,
              TimeUnit.SECONDS,
              new ArrayBlockingQueue<>(4096),
              new ThreadPoolExecutor.CallerRunsPolicy());
      List<Watcher> watchers = new ArrayList<>();
      try {
        for (int i = 0; i < WATCHERS; i++) {
          watchers.add(new Watcher(cluster.endpoint(follower), from, group, executor, tls));
        }
        List<CompletableFuture<OperationResult>> pending = new ArrayList<>();
        long peakRss = rssBefore;
        for (int i = 0; i < TRANSFERS; i++) {
          pending.add(
              writer.singleAsync(
                  Ops.transfer(
                      ID_PREFIX + i, load.account(i % 10), load.account((i + 1) % 10), 1)));
          if (i % 10 == 9) {
            Thread.sleep(30); // spread the load over many entries
            peakRss = Math.max(peakRss, rssKib(pid));
          }
        }
        Set<String> acked = new HashSet<>();
        long maxIndex = 0;
        for (CompletableFuture<OperationResult> f : pending) {
          OperationResult r = f.get(30, TimeUnit.SECONDS);
          assertEquals(ResultCode.OK, r.getCode());
          acked.add(r.getId());
          maxIndex = Math.max(maxIndex, r.getAppliedIndex());
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (Watcher w : watchers) {
          while (w.last() < maxIndex && System.nanoTime() < deadline) {
            peakRss = Math.max(peakRss, rssKib(pid));
            Thread.sleep(50);
          }
        }
        peakRss = Math.max(peakRss, rssKib(pid));
        long hwm = hwmKib(pid);

        Watcher first = watchers.get(0);
        List<Long> firstIndexes;
        List<String> firstIds;
        synchronized (first) {
          firstIndexes = List.copyOf(first.indexes);
          firstIds = List.copyOf(first.ids);
        }
        List<String> applied =
            firstIds.stream()
                .filter(id -> id.startsWith(ID_PREFIX) && !id.endsWith(" (replayed)"))
                .toList();
        Set<String> missing = new HashSet<>(acked);
        missing.removeAll(applied);
        Set<String> extra = new HashSet<>(applied);
        extra.removeAll(acked);
        assertTrue(
            missing.isEmpty() && extra.isEmpty(),
            "acknowledged but not streamed "
                + missing
                + "; streamed but not acknowledged "
                + extra);
        assertEquals(acked.size(), applied.size(), "each id applied exactly once");
        for (int i = 0; i < watchers.size(); i++) {
          Watcher w = watchers.get(i);
          synchronized (w) {
            assertNull(w.failure, "watcher " + i);
            assertEquals(firstIndexes, w.indexes, "watcher " + i + " indexes");
            assertEquals(firstIds, w.ids, "watcher " + i + " ids");
          }
        }
        System.out.printf(
            "many-watchers: %d watchers on n%d, %d entries and %d transfers each; node RSS before"
                + " %d MiB, peak %d MiB, HWM %d MiB (-Xmx512m)%n",
            WATCHERS,
            follower,
            firstIndexes.size(),
            applied.size(),
            rssBefore / 1024,
            peakRss / 1024,
            hwm / 1024);
        assertTrue(hwm < RSS_BOUND_KIB, "node HWM " + hwm / 1024 + " MiB");
      } finally {
        for (Watcher w : watchers) {
          w.channel.shutdownNow();
        }
        for (Watcher w : watchers) {
          w.channel.awaitTermination(5, TimeUnit.SECONDS);
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        executor.shutdownNow();
      }
    }
  }

  private static long rssKib(long pid) throws IOException {
    return procStatus(pid, "VmRSS:");
  }

  private static long hwmKib(long pid) throws IOException {
    return procStatus(pid, "VmHWM:");
  }

  private static long procStatus(long pid, String key) throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
      if (line.startsWith(key)) {
        return Long.parseLong(line.substring(key.length()).trim().split("\\s+")[0]);
      }
    }
    throw new IllegalStateException(key + " not in /proc/" + pid + "/status");
  }
}
