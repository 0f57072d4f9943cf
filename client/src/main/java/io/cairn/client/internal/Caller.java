package io.cairn.client.internal;

import io.cairn.client.CairnException;
import io.cairn.client.EndpointState;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.errors.Errors;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The retry engine behind {@code CairnClient}: picks an endpoint (the known leader for writes, the
 * preferred endpoint for reads, skipping endpoints whose circuit breaker is open), runs one attempt
 * with its own deadline (adaptive, see {@link AttemptTimeouts}), classifies the failure and retries
 * with exponential backoff and full jitter, bounded by attempts and by total time. A linearizable
 * read whose first attempt is slower than the reads' p99 is hedged to a second endpoint. Never
 * retries forever; never hides an unknown write outcome; never has two attempts of a write in
 * flight.
 */
public final class Caller implements AutoCloseable {
  /** One unary RPC on the async stub, e.g. {@code LedgerServiceStub::submit}. */
  @FunctionalInterface
  public interface Rpc<Q, R> {
    void call(LedgerServiceGrpc.LedgerServiceStub stub, Q request, StreamObserver<R> response);
  }

  /**
   * Per-client limits. {@code attemptTimeoutMillis} is the upper bound of the adaptive attempt
   * timeout ({@code clamp(p99 * timeoutMultiplier, attemptTimeoutMinMillis,
   * attemptTimeoutMillis)}); a read is hedged after {@code max(p99, hedgeMinDelayMillis)} when
   * {@code hedgeReads}; channels ping an idle connection after {@code keepAliveMillis} (0: never)
   * and drop it when no answer came within {@code keepAliveTimeoutMillis}.
   */
  public record Policy(
      long attemptTimeoutMillis,
      long totalTimeoutMillis,
      int maxAttempts,
      long backoffBaseMillis,
      long backoffMaxMillis,
      long attemptTimeoutMinMillis,
      double timeoutMultiplier,
      boolean hedgeReads,
      long hedgeMinDelayMillis,
      long keepAliveMillis,
      long keepAliveTimeoutMillis,
      EndpointHealth.Settings breaker) {}

  private final CopyOnWriteArrayList<String> endpoints;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Policy policy;
  private final ScheduledExecutorService timer;
  private final ExecutorService callbacks;
  private final java.util.function.UnaryOperator<String> resolver;
  // Caps calls in flight, and with them the retry timer's queue (one pending retry, and at most
  // one pending hedge, per call).
  private final java.util.concurrent.Semaphore inflightCalls;
  private final int maxInflightCalls;
  private final SslContext tls; // null: plaintext
  private final EndpointHealth health;
  private final AttemptTimeouts timeouts;
  private final LeaderHint leaderHint = new LeaderHint(this::leaderHinted);
  private volatile String leader;
  private volatile boolean closed;

  /**
   * A caller of {@code endpoints} with {@code policy}; retries and hedges run on {@code timer},
   * gRPC callbacks on {@code callbacks}; {@code stateListener} hears every breaker state change.
   */
  public Caller(
      List<String> endpoints,
      Policy policy,
      ScheduledExecutorService timer,
      ExecutorService callbacks,
      java.util.function.UnaryOperator<String> resolver,
      int maxInflightCalls,
      SslContext tls,
      BiConsumer<String, EndpointState> stateListener) {
    this.tls = tls;
    this.resolver = resolver;
    this.maxInflightCalls = maxInflightCalls;
    this.inflightCalls = new java.util.concurrent.Semaphore(maxInflightCalls);
    this.endpoints = new CopyOnWriteArrayList<>(endpoints);
    this.policy = policy;
    this.timer = timer;
    this.callbacks = callbacks;
    this.health = new EndpointHealth(policy.breaker(), stateListener, this::reconnectNow);
    this.timeouts =
        new AttemptTimeouts(
            policy.timeoutMultiplier(),
            policy.attemptTimeoutMinMillis(),
            policy.attemptTimeoutMillis());
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

  /** The breaker state of every known endpoint, in the order of {@link #endpoints()}. */
  public Map<String, EndpointState> endpointStates() {
    return health.states(endpoints());
  }

  /** The adaptive attempt timeout the next first attempt of a {@code kind} call would get. */
  public long attemptTimeoutMillis(Kind kind) {
    return kind == Kind.PINNED ? timeouts.maxMillis() : timeouts.attemptMillis(kind, 0);
  }

  /** The endpoint writes go to first now, or null while no leader is known. */
  public String leader() {
    return leader;
  }

  // A follower's forwarded reply named the leader: go there directly from the next write on.
  private void leaderHinted(String endpoint) {
    endpoints.addIfAbsent(endpoint);
    leader = endpoint;
  }

  // A restarted node should be reached now, not after gRPC's reconnect backoff (up to minutes).
  private void reconnectNow(String endpoint) {
    ManagedChannel c = channels.get(resolver.apply(endpoint));
    if (c != null) {
      c.resetConnectBackoff();
    }
  }

  @SuppressWarnings("rawtypes")
  private static final java.util.concurrent.atomic.AtomicIntegerFieldUpdater<Attempts> RELEASED =
      java.util.concurrent.atomic.AtomicIntegerFieldUpdater.newUpdater(Attempts.class, "released");

  /** One attempt of a call: where it went, under which deadline, and how to cancel it. */
  private static final class Try {
    final EndpointHealth.Choice choice;
    final long timeoutMillis;
    final long startNanos = System.nanoTime();
    // Forked: an attempt started from another attempt's callback must not be cancelled with it.
    final Context.CancellableContext context = Context.current().fork().withCancellation();
    boolean done; // guarded by the call's Attempts
    boolean answered; // set by the callback thread before onCompleted

    Try(EndpointHealth.Choice choice, long timeoutMillis) {
      this.choice = choice;
      this.timeoutMillis = timeoutMillis;
    }

    String endpoint() {
      return choice.endpoint();
    }
  }

  private final class Attempts<Q, R> {
    volatile int released;
    final Kind kind;
    final String pinned;
    final Q request;
    final Rpc<Q, R> rpc;
    final List<String> ids;
    final CompletableFuture<R> result;
    final long deadlineNanos;
    // Guarded by this; attempts of one call run one after the other, except a read's hedge.
    int attempt;
    int readIndex;
    // Attempts of this call that passed their deadline: each doubles the next one's timeout.
    int timedOut;
    // A read sent back with NOT_LEADER goes to the named leader next (linearizable reads are
    // served by the leader only).
    String redirect;
    boolean mayHaveApplied;
    // Endpoints that failed at the transport in this call: a stale NOT_LEADER hint naming one
    // of them (common while an election is under way) must not be followed without backoff.
    final java.util.Set<String> failedHere = new java.util.HashSet<>();
    final List<Try> inFlight = new ArrayList<>(2);
    ScheduledFuture<?> hedgeTimer;

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

    /** Endpoints in order of preference: {@code preferred} first, then from readIndex on. */
    private List<String> candidates(String preferred, String exclude) {
      List<String> all = List.copyOf(endpoints);
      List<String> out = new ArrayList<>(all.size() + 1);
      if (preferred != null && !preferred.equals(exclude)) {
        out.add(preferred);
      }
      for (int i = 0; i < all.size(); i++) {
        String e = all.get(Math.floorMod(readIndex + i, all.size()));
        if (!e.equals(preferred) && !e.equals(exclude)) {
          out.add(e);
        }
      }
      return out;
    }

    private EndpointHealth.Choice choose() {
      if (kind == Kind.PINNED) {
        return new EndpointHealth.Choice(pinned, false);
      }
      String preferred = kind == Kind.WRITE ? leader : redirect;
      redirect = null;
      return health.choose(candidates(preferred, null), false);
    }

    private long timeoutMillis(long remainingMillis) {
      // The last attempt a call may make has nothing to retry into: cutting it short would only
      // turn a slow success into a failure (for a write, an unknown outcome).
      boolean last = attempt >= policy.maxAttempts();
      long t =
          kind == Kind.PINNED || last
              ? timeouts.maxMillis()
              : timeouts.attemptMillis(kind, timedOut);
      return Math.min(t, Math.max(1, remainingMillis));
    }

    void run() {
      if (closed) {
        finish(new CairnException(Status.Code.CANCELLED, null, false, "client is closed", null));
        return;
      }
      Try t;
      synchronized (this) {
        if (result.isDone()) {
          return; // completed from outside: nothing more to send
        }
        attempt++;
        long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        t = new Try(choose(), timeoutMillis(remainingMillis));
        inFlight.add(t);
        if (attempt == 1 && kind == Kind.READ && policy.hedgeReads()) {
          scheduleHedge(t);
        }
      }
      send(t);
    }

    private void send(Try t) {
      StreamObserver<R> observer =
          new StreamObserver<R>() {
            @Override
            public void onNext(R value) {
              t.answered = true;
              succeeded(t, value);
            }

            @Override
            public void onError(Throwable e) {
              ended(t, Status.fromThrowable(e), Errors.detailOf(e), e);
            }

            @Override
            public void onCompleted() {
              if (!t.answered) {
                ended(t, Status.INTERNAL.withDescription("no response"), null, null);
              }
            }
          };
      t.context.run(
          () -> {
            try {
              rpc.call(
                  LedgerServiceGrpc.newStub(channel(t.endpoint()))
                      .withDeadlineAfter(t.timeoutMillis, TimeUnit.MILLISECONDS),
                  request,
                  observer);
            } catch (RuntimeException e) {
              ended(t, Status.fromThrowable(e), null, e);
            }
          });
    }

    /** Sends the same read to a second endpoint if the first has not answered by the p99. */
    private void scheduleHedge(Try first) {
      long p99Nanos = timeouts.p99Nanos(Kind.READ);
      if (p99Nanos < 0 || policy.maxAttempts() < 2) {
        return; // no latency known yet: nothing to call slow
      }
      long delayMillis =
          Math.max(policy.hedgeMinDelayMillis(), TimeUnit.NANOSECONDS.toMillis(p99Nanos) + 1);
      if (delayMillis >= first.timeoutMillis) {
        return; // the attempt's own deadline comes first
      }
      try {
        hedgeTimer = timer.schedule(() -> hedge(first), delayMillis, TimeUnit.MILLISECONDS);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        // Closing: the first attempt alone decides.
      }
    }

    private void hedge(Try first) {
      Try h;
      synchronized (this) {
        if (closed || result.isDone() || first.done || inFlight.size() != 1) {
          return;
        }
        // Only to an endpoint whose breaker lets a call through: a hedge is a bet, not a retry.
        EndpointHealth.Choice c = health.choose(candidates(null, first.endpoint()), true);
        if (c == null) {
          return;
        }
        attempt++;
        long remainingMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
        h = new Try(c, timeoutMillis(remainingMillis));
        inFlight.add(h);
      }
      send(h);
    }

    private void succeeded(Try t, R value) {
      List<Try> losers;
      synchronized (this) {
        if (t.done) {
          return;
        }
        t.done = true;
        inFlight.remove(t);
        losers = List.copyOf(inFlight);
        inFlight.clear();
        losers.forEach(l -> l.done = true);
        if (hedgeTimer != null) {
          hedgeTimer.cancel(false);
        }
      }
      long latencyNanos = System.nanoTime() - t.startNanos;
      if (kind != Kind.PINNED) {
        health.record(
            t.choice,
            EndpointHealth.Outcome.ANSWERED,
            latencyNanos,
            TimeUnit.MILLISECONDS.toNanos(t.timeoutMillis));
        timeouts.recordSuccess(kind, latencyNanos);
      }
      for (Try l : losers) {
        l.context.cancel(null);
        health.record(l.choice, EndpointHealth.Outcome.ABANDONED, 0, 0);
      }
      release();
      result.complete(value);
    }

    /** One attempt failed; the call goes on unless it was the last one out. */
    private void ended(Try t, Status status, ErrorDetail detail, Throwable cause) {
      synchronized (this) {
        if (t.done) {
          return; // a hedge that lost, cancelled by the winner: already accounted for
        }
        t.done = true;
        inFlight.remove(t);
      }
      Status.Code code = status.getCode();
      boolean transport = EndpointHealth.isTransportFailure(code, detail);
      if (kind != Kind.PINNED) {
        EndpointHealth.Outcome outcome =
            transport
                ? EndpointHealth.Outcome.TRANSPORT_FAILURE
                // Cancelled here (closing, interrupted): says nothing of the node.
                : code == Status.Code.CANCELLED
                    ? EndpointHealth.Outcome.ABANDONED
                    : EndpointHealth.Outcome.ANSWERED;
        health.record(
            t.choice,
            outcome,
            System.nanoTime() - t.startNanos,
            TimeUnit.MILLISECONDS.toNanos(t.timeoutMillis));
      }
      if (code == Status.Code.UNAVAILABLE && detail == null) {
        reconnectNow(t.endpoint()); // refused or reset: a restarted node is dialled at once
      }
      synchronized (this) {
        if (!inFlight.isEmpty()) {
          return; // the read's other attempt is still out: its answer decides
        }
        if (hedgeTimer != null) {
          hedgeTimer.cancel(false);
        }
        if (code == Status.Code.DEADLINE_EXCEEDED) {
          timedOut++;
        }
      }
      failed(t.endpoint(), status, detail, cause);
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
        endpoints.addIfAbsent(hinted);
        // A hint naming a node that just failed here, or whose breaker is open, is stale or
        // unreachable from this client: an election is under way, or the path is broken.
        boolean usable = !failedHere.contains(hinted) && !health.isOpen(hinted);
        if (kind == Kind.WRITE && usable) {
          leader = hinted;
          delay = 0; // a fresh redirect is not a failure of the cluster: go at once
        } else if (kind == Kind.WRITE) {
          leader = null; // the hint names a node that just failed: an election is under way
          readIndex++;
        } else if (kind == Kind.READ && usable) {
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
      // Once an attempt may have reached the log, no later failure can say it did not: a final
      // CANCELLED, INTERNAL or UNKNOWN after a timed-out attempt is as ambiguous as the timeout.
      if (kind == Kind.WRITE && mayHaveApplied) {
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
          if (policy.keepAliveMillis() > 0) {
            // gRPC raises a keepalive time below 10 s to 10 s; a node must permit it (the
            // server's permitKeepAliveTime), or it answers pings with GOAWAY too_many_pings.
            b.keepAliveTime(policy.keepAliveMillis(), TimeUnit.MILLISECONDS)
                .keepAliveTimeout(policy.keepAliveTimeoutMillis(), TimeUnit.MILLISECONDS);
          }
          return b.executor(callbacks)
              .maxInboundMessageSize(64 << 20)
              .intercept(leaderHint)
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
