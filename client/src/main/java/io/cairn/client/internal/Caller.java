package io.cairn.client.internal;

import io.cairn.client.CairnException;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.errors.Errors;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * The retry engine behind {@code CairnClient}: picks an endpoint (the known leader for writes, the
 * preferred endpoint for reads), runs one attempt with its own deadline, classifies the failure and
 * retries with exponential backoff and full jitter, bounded by attempts and by total time. Never
 * retries forever; never hides an unknown write outcome.
 */
public final class Caller implements AutoCloseable {
  /** One unary RPC on the async stub, e.g. {@code LedgerServiceStub::submit}. */
  @FunctionalInterface
  public interface Rpc<Q, R> {
    void call(LedgerServiceGrpc.LedgerServiceStub stub, Q request, StreamObserver<R> response);
  }

  /** Per-client limits. */
  public record Policy(
      long attemptTimeoutMillis,
      long totalTimeoutMillis,
      int maxAttempts,
      long backoffBaseMillis,
      long backoffMaxMillis) {}

  private final List<String> endpoints;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Policy policy;
  private final ScheduledExecutorService timer;
  private final ExecutorService callbacks;
  private final java.util.function.UnaryOperator<String> resolver;
  // Caps calls in flight, and with them the retry timer's queue (one pending retry per call).
  private final java.util.concurrent.Semaphore inflightCalls;
  private final int maxInflightCalls;
  private final SslContext tls; // null: plaintext
  private volatile String leader;
  private volatile boolean closed;

  public Caller(
      List<String> endpoints,
      Policy policy,
      ScheduledExecutorService timer,
      ExecutorService callbacks,
      java.util.function.UnaryOperator<String> resolver,
      int maxInflightCalls,
      SslContext tls) {
    this.tls = tls;
    this.resolver = resolver;
    this.maxInflightCalls = maxInflightCalls;
    this.inflightCalls = new java.util.concurrent.Semaphore(maxInflightCalls);
    this.endpoints = new CopyOnWriteArrayList<>(endpoints);
    this.policy = policy;
    this.timer = timer;
    this.callbacks = callbacks;
  }

  /** What a call is: a write (to the leader; retried as long as ids make it safe) or a read. */
  public enum Kind {
    WRITE,
    READ,
    /** A read that must be answered by one given endpoint, never another. */
    PINNED
  }

  /**
   * A bound inside this client is reached: nothing was sent, so it is retryable and surely not
   * applied, like a node's OVERLOADED answer.
   */
  static CairnException clientFull(String message) {
    return new CairnException(
        Status.Code.RESOURCE_EXHAUSTED,
        ErrorDetail.newBuilder().setKind(ErrorDetail.Kind.OVERLOADED).setNotApplied(true).build(),
        true,
        message,
        null);
  }

  /** Runs {@code rpc} with retries; {@code ids} are the write's operation ids (for errors). */
  public <Q, R> CompletableFuture<R> call(
      Kind kind, String pinned, Q request, Rpc<Q, R> rpc, List<String> ids) {
    CompletableFuture<R> result = new CompletableFuture<>();
    if (!inflightCalls.tryAcquire()) {
      result.completeExceptionally(
          clientFull("client has " + maxInflightCalls + " calls in flight (maxInflightCalls)"));
      return result;
    }
    Attempts<Q, R> a = new Attempts<>(kind, pinned, request, rpc, ids, result);
    // Normally the permit is released just before the result is set (see Attempts#release),
    // so a caller woken by its result can start its next call at once; this covers a result
    // completed from outside (a caller cancelling it).
    result.whenComplete((r, e) -> a.release());
    a.next(0);
    return result;
  }

  @SuppressWarnings("rawtypes")
  private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Attempts> RELEASED =
      java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(Attempts.class, "released");

  private final class Attempts<Q, R> {
    volatile int released;
    final Kind kind;
    final String pinned;
    final Q request;
    final Rpc<Q, R> rpc;
    final List<String> ids;
    final CompletableFuture<R> result;
    final long deadlineNanos;
    int attempt;
    int readIndex;
    // A read sent back with NOT_LEADER goes to the named leader next (linearizable reads are
    // served by the leader only).
    String redirect;
    boolean mayHaveApplied;
    // Endpoints that failed at the transport in this call: a stale NOT_LEADER hint naming one
    // of them (common while an election is under way) must not be followed without backoff.
    final java.util.Set<String> failedHere = new java.util.HashSet<>();

    Attempts(
        Kind kind,
        String pinned,
        Q request,
        Rpc<Q, R> rpc,
        List<String> ids,
        CompletableFuture<R> result) {
      this.kind = kind;
      this.pinned = pinned;
      this.request = request;
      this.rpc = rpc;
      this.ids = ids;
      this.result = result;
      this.deadlineNanos =
          System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(policy.totalTimeoutMillis());
    }

    void next(long delayMillis) {
      if (delayMillis <= 0) {
        run();
        return;
      }
      try {
        timer.schedule(this::run, delayMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        finish(new CairnException(Status.Code.CANCELLED, null, false, "client is closed", e));
      }
    }

    private String endpoint() {
      if (kind == Kind.PINNED) {
        return pinned;
      }
      if (kind == Kind.WRITE && leader != null) {
        return leader;
      }
      if (redirect != null) {
        String r = redirect;
        redirect = null;
        return r;
      }
      return endpoints.get(Math.floorMod(readIndex, endpoints.size()));
    }

    void run() {
      if (closed) {
        finish(new CairnException(Status.Code.CANCELLED, null, false, "client is closed", null));
        return;
      }
      attempt++;
      long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      long timeout = Math.min(policy.attemptTimeoutMillis(), Math.max(1, remainingMillis));
      String target = endpoint();
      StreamObserver<R> observer =
          new StreamObserver<R>() {
            @Override
            public void onNext(R value) {
              release();
              result.complete(value);
            }

            @Override
            public void onError(Throwable t) {
              failed(target, Status.fromThrowable(t), Errors.detailOf(t), t);
            }

            @Override
            public void onCompleted() {
              if (!result.isDone()) {
                failed(target, Status.INTERNAL.withDescription("no response"), null, null);
              }
            }
          };
      try {
        rpc.call(
            LedgerServiceGrpc.newStub(channel(target))
                .withDeadlineAfter(timeout, TimeUnit.MILLISECONDS),
            request,
            observer);
      } catch (RuntimeException e) {
        failed(target, Status.fromThrowable(e), null, e);
      }
    }

    private void failed(String target, Status status, ErrorDetail detail, Throwable cause) {
      Status.Code code = status.getCode();
      boolean retryable = Errors.isRetryable(code, detail);
      String message =
          target
              + ": "
              + code
              + (status.getDescription() == null ? "" : ": " + status.getDescription());
      CairnException error = new CairnException(code, detail, retryable, message, cause);
      if (kind == Kind.WRITE && !(detail != null && detail.getNotApplied())) {
        // Without the node's word that nothing reached the log, assume it may have.
        mayHaveApplied |= code != Status.Code.INVALID_ARGUMENT;
      }
      if (!retryable || kind == Kind.PINNED) {
        finish(error);
        return;
      }
      long delay = backoff();
      if (detail == null) {
        failedHere.add(target);
      }
      if (detail != null
          && detail.getKind() == ErrorDetail.Kind.NOT_LEADER
          && !detail.getLeaderEndpoint().isEmpty()) {
        String hinted = detail.getLeaderEndpoint();
        if (!endpoints.contains(hinted)) {
          endpoints.add(hinted);
        }
        if (kind == Kind.WRITE && !failedHere.contains(hinted)) {
          leader = hinted;
          delay = 0; // a fresh redirect is not a failure of the cluster: go at once
        } else if (kind == Kind.WRITE) {
          leader = null; // the hint names a node that just failed: an election is under way
          readIndex++;
        } else if (kind == Kind.READ && !failedHere.contains(hinted)) {
          redirect = hinted;
          delay = 0;
        } else if (kind == Kind.READ) {
          readIndex++;
        }
      } else {
        if (kind == Kind.WRITE && target.equals(leader)) {
          leader = null;
        }
        if (kind != Kind.PINNED) {
          readIndex++;
        }
      }
      if (detail != null && detail.getRetryAfterMillis() > 0) {
        // The node's hint is a floor; spread retries above it so refused callers do not all
        // come back in the same millisecond.
        long hint = detail.getRetryAfterMillis();
        delay = Math.max(delay, hint + ThreadLocalRandom.current().nextLong(hint / 2 + 1));
      }
      long remaining = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
      if (attempt >= policy.maxAttempts() || remaining <= delay) {
        finish(error);
        return;
      }
      next(delay);
    }

    /** Full jitter: uniform in [0, min(max, base * 2^attempt)]. */
    private long backoff() {
      long cap =
          Math.min(
              policy.backoffMaxMillis(),
              policy.backoffBaseMillis() << Math.min(20, Math.max(0, attempt - 1)));
      return ThreadLocalRandom.current().nextLong(cap + 1);
    }

    /** Gives the call's in-flight permit back, once, before anyone can see the result. */
    void release() {
      if (RELEASED.compareAndSet(this, 0, 1)) {
        inflightCalls.release();
      }
    }

    private void finish(CairnException last) {
      release();
      if (kind == Kind.WRITE && mayHaveApplied && last.isRetryable()) {
        result.completeExceptionally(new OutcomeUnknownException(ids, last));
      } else {
        result.completeExceptionally(last);
      }
    }
  }

  /** The (shared, lazily created) channel to {@code endpoint}; closed by {@link #close()}. */
  public ManagedChannel channel(String endpoint) {
    // Channels are keyed by the address dialled, so a resolver that starts answering a new
    // address (a node that came back elsewhere) gets a new channel.
    return channels.computeIfAbsent(
        resolver.apply(endpoint),
        e -> {
          NettyChannelBuilder b = NettyChannelBuilder.forTarget(e);
          if (tls == null) {
            b.usePlaintext();
          } else {
            b.sslContext(tls);
            if (!e.equals(endpoint)) {
              // Dialled at a resolved address, the node is still checked against the name it
              // advertises (its certificate's SAN), not against the address.
              b.overrideAuthority(endpoint);
            }
          }
          return b.executor(callbacks)
              .maxInboundMessageSize(64 << 20)
              .keepAliveTime(30, TimeUnit.SECONDS)
              .keepAliveTimeout(10, TimeUnit.SECONDS)
              .build();
        });
  }

  /**
   * The client side of TLS 1.3 with a client certificate: {@code certFile} and {@code keyFile}
   * (PKCS#8 PEM) are presented, and only servers that {@code caFile} signed are trusted.
   *
   * @throws IllegalArgumentException naming the file that cannot be read
   */
  public static SslContext clientTls(Path caFile, Path certFile, Path keyFile) {
    for (Path f : List.of(caFile, certFile, keyFile)) {
      if (!java.nio.file.Files.isReadable(f)) {
        throw new IllegalArgumentException("cannot read " + f);
      }
    }
    try {
      return GrpcSslContexts.forClient()
          .keyManager(certFile.toFile(), keyFile.toFile())
          .trustManager(caFile.toFile())
          .protocols("TLSv1.3")
          .build();
    } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot use " + certFile + " / " + keyFile + " / " + caFile + ": " + e.getMessage(), e);
    }
  }

  /** The endpoints known now: the configured ones plus any leader a node pointed to. */
  public List<String> endpoints() {
    return List.copyOf(endpoints);
  }

  @Override
  public void close() {
    closed = true;
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
    for (ManagedChannel c : channels.values()) {
      try {
        c.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
