package io.cairn.node.api;

import io.cairn.node.metrics.NodeMetrics;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.errors.Errors;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Serves, on a follower, the calls only the leader can answer (writes, linearizable reads and
 * membership changes): each is sent on to the leader this node knows, as this replica ({@code
 * node:<id>}) with the caller's principal in {@link Errors#FORWARDED_FOR_KEY}, and the leader's
 * answer (reply or error, with its trailers) is relayed unchanged. So a client connected to any
 * live node is served, and gets the same ids, results and stamps the leader gives.
 *
 * <p>While no leader is known (an election), the call waits here, and is sent as soon as one is.
 * When the leader changes while a call is with the old one (it crashed, froze, or stepped down),
 * that attempt is cancelled and the call is sent to the new leader. Resending is safe: a write
 * carries its operation ids, which the ledger answers from its dedupe table, never applying twice;
 * and every read here is one the leader serves through the log. A call that found no leader within
 * its time is answered NO_LEADER (surely not applied) or, once a write was sent, OUTCOME_UNKNOWN.
 *
 * <p>Bounds: every forwarded call is still an admitted call of this node's API ({@link
 * AdmissionGate}), so the calls waiting or in flight here are bounded by {@code
 * api.max.inflight.requests}; each has a deadline (the client's, at most the write or read
 * timeout); and a forwarded call is never forwarded again (a leader that lost leadership answers
 * NOT_LEADER, and the follower that sent it tries the next leader).
 */
final class Forwarder implements AutoCloseable {
  /** The leader to forward to: its id and API endpoint. */
  record Target(String id, String endpoint) {}

  /** What this node knows of the leader. */
  interface Leaders {
    /**
     * Whether this node is the leader, and ready to serve (its first entry of the term applied).
     */
    boolean selfLeads();

    /** The other node that leads, or null when this node leads or knows no leader. */
    Target leader();
  }

  static final long TICK_MILLIS = 5;
  private static final long MAX_RETRY_DELAY_MILLIS = 50;

  private final Leaders leaders;
  private final SslContext tls;
  private final int maxMessageBytes;
  private final NodeMetrics metrics;
  private final ScheduledExecutorService ticker;
  private final Map<String, ManagedChannel> channels = new ConcurrentHashMap<>();
  private final Set<Flight<?, ?>> waiting = ConcurrentHashMap.newKeySet();
  private final Set<Flight<?, ?>> sent = ConcurrentHashMap.newKeySet();
  private volatile String lastLeader = "";
  private volatile boolean closed;

  /**
   * @param tls a client context holding this node's certificate, or null for plaintext
   */
  Forwarder(Leaders leaders, SslContext tls, int maxMessageBytes, NodeMetrics metrics) {
    this.leaders = leaders;
    this.tls = tls;
    this.maxMessageBytes = maxMessageBytes;
    this.metrics = metrics;
    this.ticker = ApiServer.ticker("cairn-forward");
    ticker.scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    for (String outcome : new String[] {"ok", "error", "timeout", "local"}) {
      metrics.forwarded(outcome, 0);
    }
    metrics.gauge(
        "cairn.api.forward.pending",
        "Calls this node holds for the leader (waiting for one, or sent)",
        () -> waiting.size() + sent.size());
  }

  /** Opens a connection to each peer up front, so the first forwarded call need not wait for it. */
  void warm(Iterable<String> endpoints) {
    for (String e : endpoints) {
      channel(e).getState(true);
    }
  }

  /**
   * Serves {@code request} through the leader: {@code local} runs instead if this node becomes the
   * leader while the call waits. {@code write}: an ambiguous end is OUTCOME_UNKNOWN.
   */
  <Q, R> void forward(
      MethodDescriptor<Q, R> method,
      Q request,
      String principal,
      boolean write,
      long timeoutMillis,
      StreamObserver<R> out,
      Runnable local) {
    long budget = timeoutMillis;
    io.grpc.Deadline callerDeadline = io.grpc.Context.current().getDeadline();
    if (callerDeadline != null) {
      budget = Math.min(budget, callerDeadline.timeRemaining(TimeUnit.MILLISECONDS));
    }
    Flight<Q, R> f =
        new Flight<>(
            method, request, principal, write, System.nanoTime() + budget * 1_000_000, out);
    f.local = local;
    if (out instanceof ServerCallStreamObserver<R> call) {
      try {
        call.setOnCancelHandler(f::callerCancelled);
      } catch (IllegalStateException afterTheHandler) {
        // Forwarded after the handler returned (a leader that lost leadership mid-write): the
        // caller's cancellation is then seen at the next dispatch (isCancelled).
      }
    }
    f.dispatch();
  }

  private ManagedChannel channel(String endpoint) {
    return channels.computeIfAbsent(
        endpoint,
        e -> {
          NettyChannelBuilder b =
              NettyChannelBuilder.forTarget(e)
                  .directExecutor()
                  .maxInboundMessageSize(maxMessageBytes)
                  .keepAliveTime(10, TimeUnit.SECONDS)
                  .keepAliveTimeout(2, TimeUnit.SECONDS);
          if (tls != null) {
            b.sslContext(tls);
          } else {
            b.usePlaintext();
          }
          return b.build();
        });
  }

  /**
   * Every {@link #TICK_MILLIS}: sends the calls that waited for a leader once one is known, ends
   * those whose time ran out, and moves calls off a leader that is no longer the leader.
   */
  private void tick() {
    try {
      if (waiting.isEmpty() && sent.isEmpty()) {
        return;
      }
      boolean self = leaders.selfLeads();
      Target t = self ? null : leaders.leader();
      String now = self ? "" : t == null ? "" : t.id();
      boolean changed = !now.equals(lastLeader);
      boolean known = self || t != null;
      if (changed) {
        lastLeader = now;
        if (known) {
          for (Flight<?, ?> f : sent) {
            if (self || !f.target.equals(now)) {
              f.moveOff();
            }
          }
        }
      }
      long nanos = System.nanoTime();
      for (Flight<?, ?> f : waiting) {
        boolean due =
            nanos >= f.retryAtNanos || (known && (changed || f.needsLeader)) || f.pastDeadline();
        if (due && waiting.remove(f)) {
          f.dispatch();
        }
      }
    } catch (RuntimeException e) {
      // The ticker must keep running; a failure here is a bug, and each call still has its
      // deadline.
      org.slf4j.LoggerFactory.getLogger(Forwarder.class).error("forward tick failed", e);
    }
  }

  @Override
  public void close() {
    closed = true;
    ticker.shutdownNow();
    for (Flight<?, ?> f : waiting) {
      f.finish(Status.UNAVAILABLE.withDescription("node shutting down"), null);
    }
    for (ManagedChannel c : channels.values()) {
      c.shutdownNow();
    }
  }

  /** One forwarded call: its attempts, and the one answer its caller gets. */
  private final class Flight<Q, R> {
    final MethodDescriptor<Q, R> method;
    final Q request;
    final String principal;
    final boolean write;
    final long deadlineNanos;
    final StreamObserver<R> out;
    final AtomicBoolean done = new AtomicBoolean();
    Runnable local;
    volatile String target = "";
    volatile ClientCall<Q, R> call;
    volatile boolean movedOff;
    volatile boolean everSent;
    volatile long retryAtNanos;
    volatile boolean needsLeader;
    int retries;

    Flight(
        MethodDescriptor<Q, R> method,
        Q request,
        String principal,
        boolean write,
        long deadlineNanos,
        StreamObserver<R> out) {
      this.method = method;
      this.request = request;
      this.principal = principal;
      this.write = write;
      this.deadlineNanos = deadlineNanos;
      this.out = out;
    }

    void dispatch() {
      if (done.get()) {
        return;
      }
      if (out instanceof ServerCallStreamObserver<R> call && call.isCancelled()) {
        callerCancelled();
        return;
      }
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        timedOut();
        return;
      }
      if (leaders.selfLeads()) {
        if (done.compareAndSet(false, true)) {
          metrics.forwarded("local", 1);
          local.run();
        }
        return;
      }
      Target t = leaders.leader();
      if (t == null || t.endpoint().isEmpty()) {
        // Woken by the tick once a leader is known, or at the deadline.
        needsLeader = true;
        park(left / 1_000_000 + 1);
        return;
      }
      needsLeader = false;
      send(t, left);
    }

    boolean pastDeadline() {
      return System.nanoTime() >= deadlineNanos;
    }

    private void send(Target t, long leftNanos) {
      target = t.id();
      movedOff = false;
      ClientCall<Q, R> c =
          channel(t.endpoint())
              .newCall(
                  method, CallOptions.DEFAULT.withDeadlineAfter(leftNanos, TimeUnit.NANOSECONDS));
      call = c;
      everSent = true;
      sent.add(this);
      Metadata headers = new Metadata();
      headers.put(Errors.FORWARDED_FOR_KEY, principal);
      c.start(new Listener(t.endpoint()), headers);
      c.sendMessage(request);
      c.halfClose();
      c.request(2);
      // The leader may have changed between the look-up and the add above.
      Target again = leaders.leader();
      if (leaders.selfLeads() || (again != null && !again.id().equals(t.id()))) {
        moveOff();
      }
    }

    /** Waits for the next tick (or {@code delayMillis}) to look for a leader again. */
    void park(long delayMillis) {
      retryAtNanos = System.nanoTime() + delayMillis * 1_000_000;
      waiting.add(this);
      if (done.get()) {
        waiting.remove(this);
      } else if (closed) {
        finish(Status.UNAVAILABLE.withDescription("node shutting down"), null);
      }
    }

    /** The leader changed: cancel the attempt at the old one; its close sends the call again. */
    void moveOff() {
      ClientCall<Q, R> c = call;
      if (c != null && !done.get()) {
        movedOff = true;
        c.cancel("the leader changed", null);
      }
    }

    void callerCancelled() {
      if (done.compareAndSet(false, true)) {
        waiting.remove(this);
        sent.remove(this);
        ClientCall<Q, R> c = call;
        if (c != null) {
          c.cancel("the caller cancelled", null);
        }
      }
    }

    void closed(String endpoint, R reply, Status status, Metadata trailers) {
      sent.remove(this);
      if (done.get()) {
        return;
      }
      if (status.isOk() && reply != null) {
        if (done.compareAndSet(false, true)) {
          metrics.forwarded("ok", 1);
          out.onNext(reply);
          out.onCompleted();
        }
        return;
      }
      if (movedOff) {
        dispatch();
        return;
      }
      if (status.getCode() == Status.Code.DEADLINE_EXCEEDED) {
        timedOut();
        return;
      }
      if (retryable(status, trailers)) {
        if (status.getCode() == Status.Code.UNAVAILABLE) {
          channel(endpoint).resetConnectBackoff();
        }
        retries++;
        park(Math.min(MAX_RETRY_DELAY_MILLIS, 1L << Math.min(retries, 6)));
        return;
      }
      finish(status, trailers);
    }

    /**
     * Whether another attempt may answer: the leader was not the leader (or not ready), could not
     * be reached, or this attempt ran out of time while the call has some left. An answer of the
     * ledger, a refusal of the request, or the leader's own OUTCOME_UNKNOWN is final.
     */
    private boolean retryable(Status status, Metadata trailers) {
      if (status.getCode() == Status.Code.CANCELLED) {
        return true; // not by us (that is movedOff or the caller): the leader is going away
      }
      if (status.getCode() != Status.Code.UNAVAILABLE) {
        return false;
      }
      ErrorDetail detail = trailers == null ? null : trailers.get(Errors.DETAIL_KEY);
      if (detail == null) {
        return true; // the transport: connection refused or reset
      }
      return switch (detail.getKind()) {
        case NOT_LEADER, NO_LEADER, NOT_READY -> true;
        default -> false;
      };
    }

    private void timedOut() {
      if (write && everSent) {
        StatusRuntimeException e =
            ApiErrors.unavailable(
                ErrorDetail.Kind.OUTCOME_UNKNOWN,
                "forwarded to the leader, and no answer in time; a write may still be applied:"
                    + " retry with the same ids to learn its outcome",
                false);
        finish(e.getStatus(), e.getTrailers(), "timeout");
        return;
      }
      StatusRuntimeException e =
          Errors.exception(
              ErrorDetail.newBuilder()
                  .setKind(ErrorDetail.Kind.NO_LEADER)
                  .setNotApplied(!everSent)
                  .setRetryAfterMillis(100)
                  .build(),
              "no leader answered in time; retry");
      finish(e.getStatus(), e.getTrailers(), "timeout");
    }

    void finish(Status status, Metadata trailers) {
      finish(status, trailers, "error");
    }

    private void finish(Status status, Metadata trailers, String outcome) {
      if (done.compareAndSet(false, true)) {
        waiting.remove(this);
        metrics.forwarded(outcome, 1);
        out.onError(status.asRuntimeException(trailers == null ? new Metadata() : trailers));
      }
    }

    /** The attempt's reply and close, on the channel's event loop. */
    private final class Listener extends ClientCall.Listener<R> {
      private final String endpoint;
      private R reply;

      Listener(String endpoint) {
        this.endpoint = endpoint;
      }

      @Override
      public void onMessage(R message) {
        reply = message;
      }

      @Override
      public void onClose(Status status, Metadata trailers) {
        closed(endpoint, reply, status, trailers);
      }
    }
  }
}
