package io.cairn.cli.bench;

import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.WatchRequest;
import io.cairn.proto.WatchResponse;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Many Watch streams on one node, each on its own gRPC channel (its own TCP connection), all
 * sharing one Netty event-loop group and one bounded callback pool: a thousand watchers cost the
 * client a handful of threads. Every watcher checks its stream as it arrives (index increasing,
 * {@code prev_index} chaining) and keeps what the final comparison needs: the indexes with their
 * receipt times, and a digest of the ids of the operations it saw, in order.
 *
 * <p>This is a measuring tool, so a watcher does not resume: a stream that fails is reported as
 * failed, with its status.
 */
final class WatcherFleet implements AutoCloseable {
  private final String endpoint;
  private final long fromIndex;
  private final int bufferEntries;
  private final int windowBytes;
  private final String idPrefix;
  private final NioEventLoopGroup group;
  private final ThreadPoolExecutor callbacks;
  private final List<Watcher> watchers = new ArrayList<>();

  private final io.cairn.cli.Transport transport;

  WatcherFleet(
      String endpoint,
      long fromIndex,
      int bufferEntries,
      int windowBytes,
      String idPrefix,
      int threads,
      io.cairn.cli.Transport transport) {
    this.transport = transport;
    this.endpoint = endpoint;
    this.fromIndex = fromIndex;
    this.bufferEntries = bufferEntries;
    this.windowBytes = windowBytes;
    this.idPrefix = idPrefix;
    this.group = new NioEventLoopGroup(threads, daemon("bench-watch-netty"));
    // gRPC serializes each call's callbacks itself; the pool only bounds the threads. When its
    // queue is full the event loop runs the callback, which slows reading: backpressure.
    this.callbacks =
        new ThreadPoolExecutor(
            threads,
            threads,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(16_384),
            daemon("bench-watch-callback"),
            new ThreadPoolExecutor.CallerRunsPolicy());
  }

  /** Opens {@code count} more watchers, each on a new channel; returns at once. */
  void open(int count) {
    for (int i = 0; i < count; i++) {
      Watcher w = new Watcher(watchers.size(), watchers.isEmpty());
      watchers.add(w);
      w.start();
    }
  }

  List<Watcher> watchers() {
    return watchers;
  }

  /**
   * Over the live watchers: the lowest last index, how many are live, and the median last index (a
   * median far ahead of the lowest means some streams are starved, not all slow).
   */
  long[] slowest() {
    long[] last = new long[watchers.size()];
    int live = 0;
    for (Watcher w : watchers) {
      if (w.failure() == null) {
        last[live++] = w.lastIndex();
      }
    }
    if (live == 0) {
      return new long[] {0, 0, 0};
    }
    Arrays.sort(last, 0, live);
    return new long[] {last[0], live, last[live / 2]};
  }

  /** Cancels every stream and closes every channel, waiting a bounded time for each. */
  @Override
  public void close() {
    for (Watcher w : watchers) {
      w.cancel();
    }
    for (Watcher w : watchers) {
      w.channel.shutdownNow();
    }
    try {
      for (Watcher w : watchers) {
        w.channel.awaitTermination(5, TimeUnit.SECONDS);
      }
      group.shutdownGracefully(0, 2, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
      callbacks.shutdownNow();
      callbacks.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      callbacks.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** One watcher: one channel, one Watch stream, checked as it arrives. */
  final class Watcher implements ClientResponseObserver<WatchRequest, WatchResponse> {
    final int number;
    final ManagedChannel channel;
    // The first watcher keeps every id it saw applied (not replayed), to compare with the
    // acknowledged set; the others
    // keep only a digest of the same sequence, compared with the first's.
    private final Map<String, Integer> idCounts;
    private final MessageDigest idDigest;
    // Guarded by this (gRPC runs one call's callbacks one at a time, but readers are other
    // threads).
    private long[] indexes = new long[1024];
    private long[] receivedNanos = new long[1024];
    private int entries;
    private long events;
    private long replays;
    private long last;
    private String failure;
    private boolean ended;
    private ClientCallStreamObserver<WatchRequest> call;

    Watcher(int number, boolean keepIds) {
      this.number = number;
      this.idCounts = keepIds ? new HashMap<>() : null;
      try {
        this.idDigest = MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException(e);
      }
      this.channel =
          transport
              .apply(NettyChannelBuilder.forTarget(endpoint))
              .eventLoopGroup(group)
              .channelType(NioSocketChannel.class)
              .executor(callbacks)
              // Bytes the node may send ahead on this connection. gRPC's default (1 MiB) times
              // 1,000 connections filled this client's 1 GiB of direct memory when the
              // watchers fell behind; the window bounds what each one buffers.
              .flowControlWindow(windowBytes)
              .keepAliveTime(30, TimeUnit.SECONDS)
              .keepAliveTimeout(10, TimeUnit.SECONDS)
              .build();
    }

    void start() {
      // Wait for ready: a thousand connects at once may queue in the node's accept backlog.
      LedgerServiceGrpc.newStub(channel)
          .withWaitForReady()
          .watch(WatchRequest.newBuilder().setFromIndex(fromIndex).build(), this);
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WatchRequest> stream) {
      stream.disableAutoRequestWithInitial(bufferEntries);
      synchronized (this) {
        call = stream;
      }
    }

    @Override
    public void onNext(WatchResponse e) {
      long now = System.nanoTime();
      ClientCallStreamObserver<WatchRequest> c;
      synchronized (this) {
        if (failure != null) {
          return;
        }
        long index = e.getIndex();
        long prev = e.getPrevIndex();
        boolean linked = entries == 0 ? index >= fromIndex && prev < fromIndex : prev == last;
        if (!linked || index <= last) {
          failure =
              "entry "
                  + index
                  + " (prev_index "
                  + prev
                  + ") does not follow "
                  + (entries == 0 ? "the start index " + fromIndex : "entry " + last);
          c = call;
        } else {
          if (entries == indexes.length) {
            indexes = Arrays.copyOf(indexes, entries * 2);
            receivedNanos = Arrays.copyOf(receivedNanos, entries * 2);
          }
          indexes[entries] = index;
          receivedNanos[entries] = now;
          entries++;
          last = index;
          for (OperationEvent ev : e.getEventsList()) {
            String id = ev.getOperation().getId();
            if (id.startsWith(idPrefix)) {
              // A retry of an id already applied is streamed again with replayed = true (the
              // client retries a write whose attempt timed out); it changed nothing.
              boolean replayed = ev.getResult().getReplayed();
              idDigest.update(id.getBytes(StandardCharsets.UTF_8));
              idDigest.update((byte) (replayed ? 'r' : '\n'));
              if (replayed) {
                replays++;
              } else {
                events++;
                if (idCounts != null) {
                  idCounts.merge(id, 1, Integer::sum);
                }
              }
            }
          }
          call.request(1);
          return;
        }
      }
      c.cancel("bench-watch: broken chain", null);
    }

    @Override
    public void onError(Throwable t) {
      synchronized (this) {
        if (failure == null && !ended) {
          Status s = Status.fromThrowable(t);
          failure = s.getCode() + (s.getDescription() == null ? "" : ": " + s.getDescription());
        }
      }
    }

    @Override
    public void onCompleted() {
      synchronized (this) {
        if (failure == null && !ended) {
          failure = "stream ended by the node";
        }
      }
    }

    void cancel() {
      ClientCallStreamObserver<WatchRequest> c;
      synchronized (this) {
        ended = true;
        c = call;
      }
      if (c != null) {
        c.cancel("bench-watch done", null);
      }
    }

    synchronized String failure() {
      return failure;
    }

    synchronized long lastIndex() {
      return last;
    }

    synchronized int entries() {
      return entries;
    }

    synchronized long events() {
      return events;
    }

    synchronized long replays() {
      return replays;
    }

    synchronized long[] indexes() {
      return Arrays.copyOf(indexes, entries);
    }

    synchronized long[] receivedNanos() {
      return Arrays.copyOf(receivedNanos, entries);
    }

    /** SHA-256 of the ids seen so far, in order (the digest is not reset). */
    synchronized byte[] idSequenceDigest() {
      try {
        return ((MessageDigest) idDigest.clone()).digest();
      } catch (CloneNotSupportedException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Every id the first watcher saw, with how often; null for the others. */
    synchronized Map<String, Integer> idCounts() {
      return idCounts == null ? null : new HashMap<>(idCounts);
    }
  }
}
