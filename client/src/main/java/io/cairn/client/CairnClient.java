package io.cairn.client;

import io.cairn.client.internal.Caller;
import io.cairn.client.internal.Coalescer;
import io.cairn.proto.rules.Rules;
import io.cairn.proto.AddMemberRequest;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.GetProofRequest;
import io.cairn.proto.GetProofResponse;
import io.cairn.proto.GetTransferRequest;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.LedgerServiceGrpc.LedgerServiceStub;
import io.cairn.proto.LedgerSummary;
import io.cairn.proto.LedgerSummaryRequest;
import io.cairn.proto.ListAccountsRequest;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.MembershipResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.RemoveMemberRequest;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.verify.ProofVerifier;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A thread-safe client of a Cairn cluster. Writes go to the leader (followed through NOT_LEADER
 * redirects) and are retried with exponential backoff and full jitter, bounded by attempts and
 * total time; every operation carries a client-made id and creation time, so retries are applied
 * at most once. Reads are linearizable unless {@link ReadOptions} say otherwise.
 *
 * <p>Ledger outcomes (INSUFFICIENT_FUNDS, ...) are result codes in {@link OperationResult}, not
 * exceptions. Transport and cluster failures throw {@link CairnException}; a write whose outcome
 * is unknown throws {@link OutcomeUnknownException} with the operation ids. Blocking methods wait
 * at most the total timeout. {@link #close()} frees every channel and thread.
 */
public final class CairnClient implements AutoCloseable {
  private final Caller caller;
  private final Coalescer coalescer;
  private final ScheduledThreadPoolExecutor timer;
  private final ThreadPoolExecutor callbacks;
  private final long maxRequestBytes;
  private final long totalTimeoutMillis;
  private final java.util.Set<Subscription> subscriptions =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  private CairnClient(Builder b) {
    this.timer = new ScheduledThreadPoolExecutor(1, daemon("cairn-client-timer"));
    this.timer.setRemoveOnCancelPolicy(true);
    this.callbacks =
        new ThreadPoolExecutor(
            b.callbackThreads,
            b.callbackThreads,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(65_536),
            daemon("cairn-client-callback"),
            new ThreadPoolExecutor.CallerRunsPolicy());
    this.maxRequestBytes = b.maxRequestBytes;
    this.totalTimeoutMillis = b.totalTimeout.toMillis();
    this.caller =
        new Caller(
            b.endpoints,
            new Caller.Policy(
                b.attemptTimeout.toMillis(),
                b.totalTimeout.toMillis(),
                b.maxAttempts,
                b.backoffBase.toMillis(),
                b.backoffMax.toMillis()),
            timer,
            callbacks,
            b.resolver,
            b.maxInflightCalls);
    this.coalescer =
        b.coalesceMaxOps <= 1
            ? null
            : new Coalescer(
                request -> sendWrite(request),
                b.coalesceMaxQueued,
                b.coalesceMaxInflight,
                b.coalesceMaxOps,
                b.maxRequestBytes - 1024,
                b.lingerQuiet,
                b.lingerMax);
  }

  /** Coalesced requests on the wire at once, by default (see {@link Builder#coalesce}). */
  public static final int DEFAULT_COALESCE_INFLIGHT = 1;

  /** The coalescer's default quiet gap and maximum linger (see {@link Builder#coalesceLinger}). */
  public static final int DEFAULT_LINGER_QUIET_MICROS = 100;

  public static final int DEFAULT_LINGER_MAX_MICROS = 2000;

  public static Builder builder() {
    return new Builder();
  }

  // ---- writes ----

  public OperationResult createAccount(String account) {
    return single(Ops.createAccount(Ops.newId(), account));
  }

  public OperationResult mint(String account, long amount) {
    return single(Ops.mint(Ops.newId(), account, amount));
  }

  public OperationResult burn(String account, long amount) {
    return single(Ops.burn(Ops.newId(), account, amount));
  }

  public OperationResult transfer(String from, String to, long amount) {
    return single(Ops.transfer(Ops.newId(), from, to, amount));
  }

  /** A transfer with a caller-chosen id: calling again with the same id and body is a retry. */
  public OperationResult transfer(String id, String from, String to, long amount) {
    return single(Ops.transfer(id, from, to, amount));
  }

  /** Submits one operation (built with {@link Ops}) and returns its result. */
  public OperationResult single(Operation op) {
    return join(singleAsync(op));
  }

  /**
   * Submits one operation. Concurrent single operations from many threads share requests (up to
   * {@link Builder#coalesce} operations each), each caller still getting its own result or error.
   */
  public CompletableFuture<OperationResult> singleAsync(Operation op) {
    // Checked here, by the node's own rule book: one caller's malformed operation must fail
    // alone, not take the shared request it would have joined down with it.
    Rules.Violation invalid = Rules.check(op);
    if (invalid != null) {
      return CompletableFuture.failedFuture(
          new CairnException(
              Status.Code.INVALID_ARGUMENT,
              null,
              false,
              "operation " + invalid.field() + ": " + invalid.message(),
              null));
    }
    if (coalescer != null) {
      return coalescer.submit(op);
    }
    return submitAsync(List.of(op), false).thenApply(r -> r.getResults(0));
  }

  public CompletableFuture<OperationResult> transferAsync(String from, String to, long amount) {
    return singleAsync(Ops.transfer(Ops.newId(), from, to, amount));
  }

  /** Submits operations in one request; {@code atomic} makes them all-or-nothing. */
  public SubmitResponse submit(List<Operation> ops, boolean atomic) {
    return join(submitAsync(ops, atomic));
  }

  public CompletableFuture<SubmitResponse> submitAsync(List<Operation> ops, boolean atomic) {
    SubmitRequest request =
        SubmitRequest.newBuilder().addAllOperations(ops).setAtomic(atomic).build();
    if (request.getSerializedSize() > maxRequestBytes) {
      return CompletableFuture.failedFuture(
          new CairnException(
              Status.Code.INVALID_ARGUMENT,
              null,
              false,
              "request is " + request.getSerializedSize() + " bytes; the limit is "
                  + maxRequestBytes,
              null));
    }
    return sendWrite(request);
  }

  private CompletableFuture<SubmitResponse> sendWrite(SubmitRequest request) {
    List<String> ids = request.getOperationsList().stream().map(Operation::getId).toList();
    return caller.call(Caller.Kind.WRITE, null, request, LedgerServiceStub::submit, ids);
  }

  // ---- reads ----

  public GetAccountResponse getAccount(String account) {
    return getAccount(account, ReadOptions.getDefaultInstance());
  }

  public GetAccountResponse getAccount(String account, ReadOptions read) {
    return read(
        GetAccountRequest.newBuilder().setAccount(account).setRead(read).build(),
        LedgerServiceStub::getAccount);
  }

  /**
   * The account, returned only after its Merkle proof checks out against the root the node
   * stamped on the reply; throws {@link CairnException} when the proof does not verify.
   */
  public GetAccountResponse verifiedAccount(String account) {
    GetAccountResponse r =
        read(
            GetAccountRequest.newBuilder().setAccount(account).setWithProof(true).build(),
            LedgerServiceStub::getAccount);
    ProofVerifier.Result verdict =
        ProofVerifier.verify(r.getProof(), r.getStamp().getStateRoot().toByteArray());
    // A node could send a valid proof about some other account: check it is about this one.
    boolean consistent =
        verdict.valid()
            && r.getProof().getAccount().equals(account)
            && r.getProof().getPresent() == r.getFound()
            && (!r.getFound()
                || (r.getAccount().getId().equals(account)
                    && r.getProof().getLeaf().equals(r.getAccount())));
    if (!consistent) {
      throw new CairnException(
          Status.Code.DATA_LOSS,
          null,
          false,
          "proof for " + account + " does not verify: "
              + (verdict.valid() ? "proof and reply disagree" : verdict.reason()),
          null);
    }
    return r;
  }

  public GetProofResponse proof(String account) {
    return read(
        GetProofRequest.newBuilder().setAccount(account).build(), LedgerServiceStub::getProof);
  }

  /** The stored result of an operation id (any kind), if still within the dedupe window. */
  public GetTransferResponse getTransfer(String id) {
    return read(GetTransferRequest.newBuilder().setId(id).build(), LedgerServiceStub::getTransfer);
  }

  public ListAccountsResponse listAccounts(String startAfter, int limit) {
    return read(
        ListAccountsRequest.newBuilder().setStartAfter(startAfter).setLimit(limit).build(),
        LedgerServiceStub::listAccounts);
  }

  public LedgerSummary summary() {
    return read(LedgerSummaryRequest.getDefaultInstance(), LedgerServiceStub::getLedgerSummary);
  }

  /** The cluster as seen by whichever node answers first. */
  public ClusterStatusResponse status() {
    return read(ClusterStatusRequest.getDefaultInstance(), LedgerServiceStub::clusterStatus);
  }

  /** One node's own view; a single attempt at that endpoint, no failover. */
  public ClusterStatusResponse status(String endpoint) {
    return join(
        caller.call(
            Caller.Kind.PINNED,
            endpoint,
            ClusterStatusRequest.getDefaultInstance(),
            LedgerServiceStub::clusterStatus,
            List.of()));
  }

  /**
   * Adds a voting member (admin). Start the new node first with {@code cluster.join=1}; the
   * leader brings it up to date before it votes. Idempotent: adding a member already present with
   * the same addresses succeeds, so retrying after any failure is safe.
   *
   * @param id the new node's {@code node.id}
   * @param raftAddress host:port of its Raft endpoint
   * @param apiEndpoint host:port of its API endpoint
   * @return the committed membership
   */
  public MembershipResponse addMember(String id, String raftAddress, String apiEndpoint) {
    AddMemberRequest request =
        AddMemberRequest.newBuilder()
            .setId(id)
            .setRaftAddress(raftAddress)
            .setApiEndpoint(apiEndpoint)
            .build();
    return join(
        caller.call(Caller.Kind.WRITE, null, request, LedgerServiceStub::addMember, List.of()));
  }

  /**
   * Removes a member (admin), the leader included (it steps down once the change commits).
   * Idempotent: removing an id that is not a member succeeds.
   *
   * @return the committed membership
   */
  public MembershipResponse removeMember(String id) {
    RemoveMemberRequest request = RemoveMemberRequest.newBuilder().setId(id).build();
    return join(
        caller.call(
            Caller.Kind.WRITE, null, request, LedgerServiceStub::removeMember, List.of()));
  }

  // ---- watch ----

  /** {@link #subscribe(long, int)} with a buffer of 64 entries. */
  public Subscription subscribe(long fromIndex) {
    return subscribe(fromIndex, 64);
  }

  /**
   * Streams every committed ledger entry with log index {@code >= fromIndex} (0: from the index
   * the first endpoint has applied now), in order, without gaps or duplicates, resuming on another
   * node after a failure. At most {@code bufferEntries} entries wait between the network and
   * {@link Subscription#poll}. Close the subscription (or this client) to stop it.
   *
   * @throws CairnException when {@code fromIndex} is 0 and no node answers the status call
   */
  public Subscription subscribe(long fromIndex, int bufferEntries) {
    if (fromIndex < 0) {
      throw new IllegalArgumentException("fromIndex must be >= 0");
    }
    if (closed.get()) {
      throw new CairnException(Status.Code.CANCELLED, null, false, "client is closed", null);
    }
    long from = fromIndex == 0 ? status().getAppliedIndex() + 1 : fromIndex;
    Subscription s =
        new Subscription(caller, timer, from, bufferEntries, totalTimeoutMillis, subscriptions::remove);
    subscriptions.add(s);
    s.start();
    return s;
  }

  /** Endpoints known now: the configured ones and any leader the cluster pointed to. */
  public List<String> endpoints() {
    return caller.endpoints();
  }

  private <Q, R> R read(Q request, Caller.Rpc<Q, R> rpc) {
    return join(caller.call(Caller.Kind.READ, null, request, rpc, List.of()));
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (ExecutionException | CompletionException e) {
      Throwable c = e.getCause();
      if (c instanceof CairnException ce) {
        throw ce;
      }
      throw new CairnException(Status.Code.UNKNOWN, null, false, String.valueOf(c), c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CairnException(Status.Code.CANCELLED, null, false, "interrupted", e);
    }
  }

  /** Closes every channel and stops the client's threads; idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (coalescer != null) {
      coalescer.close();
    }
    for (Subscription s : List.copyOf(subscriptions)) {
      s.close();
    }
    caller.close();
    timer.shutdownNow();
    callbacks.shutdown();
    try {
      callbacks.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    callbacks.shutdownNow();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /** Settings of a {@link CairnClient}; every one has a bounded default. */
  public static final class Builder {
    private List<String> endpoints = List.of("127.0.0.1:7201", "127.0.0.1:7202", "127.0.0.1:7203");
    private Duration attemptTimeout = Duration.ofSeconds(3);
    private Duration totalTimeout = Duration.ofSeconds(15);
    private int maxAttempts = 30;
    private Duration backoffBase = Duration.ofMillis(20);
    private Duration backoffMax = Duration.ofSeconds(1);
    private int callbackThreads = 2;
    private long maxRequestBytes = 1 << 20;
    private int coalesceMaxOps = 1000;
    private int coalesceMaxInflight = DEFAULT_COALESCE_INFLIGHT;
    private Duration lingerQuiet = Duration.ofNanos(DEFAULT_LINGER_QUIET_MICROS * 1000L);
    private Duration lingerMax = Duration.ofNanos(DEFAULT_LINGER_MAX_MICROS * 1000L);
    private int coalesceMaxQueued = 65_536;
    private int maxInflightCalls = 1024;
    private java.util.function.UnaryOperator<String> resolver = e -> e;

    private Builder() {}

    /** host:port of one or more nodes; reads go to the first, writes to the leader. */
    public Builder endpoints(List<String> endpoints) {
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("at least one endpoint is required");
      }
      for (String e : endpoints) {
        int colon = e.lastIndexOf(':');
        if (colon <= 0 || colon == e.length() - 1) {
          throw new IllegalArgumentException("endpoint '" + e + "' is not host:port");
        }
      }
      this.endpoints = List.copyOf(endpoints);
      return this;
    }

    /** Deadline of each attempt (default 3 s). */
    public Builder attemptTimeout(Duration d) {
      this.attemptTimeout = positive(d);
      return this;
    }

    /** Deadline of the whole call including retries (default 15 s). */
    public Builder totalTimeout(Duration d) {
      this.totalTimeout = positive(d);
      return this;
    }

    /** Most attempts per call (default 30; the total timeout usually ends a call first). */
    public Builder maxAttempts(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxAttempts must be >= 1");
      }
      this.maxAttempts = n;
      return this;
    }

    /** Exponential backoff with full jitter between base and max (default 20 ms .. 1 s). */
    public Builder backoff(Duration base, Duration max) {
      this.backoffBase = positive(base);
      this.backoffMax = positive(max);
      return this;
    }

    /** Threads running gRPC callbacks (default 2). */
    public Builder callbackThreads(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("callbackThreads must be >= 1");
      }
      this.callbackThreads = n;
      return this;
    }

    /**
     * Most calls (RPCs with their retries) in flight at once (default 1,024); one more fails at
     * once with a retryable RESOURCE_EXHAUSTED {@link CairnException}. Bounds the client's memory
     * and its retry timer however fast the application submits. The default matches a node's
     * streams per connection: calls beyond that would wait unsent in the transport, where a
     * deadline makes a write's outcome unknown although it never left. Coalesced single
     * operations share calls, so this rarely binds them.
     */
    public Builder maxInflightCalls(int n) {
      if (n < 1) {
        throw new IllegalArgumentException("maxInflightCalls must be >= 1");
      }
      this.maxInflightCalls = n;
      return this;
    }

    /** Requests larger than this are refused before sending (default 1 MiB, the node's). */
    public Builder maxRequestBytes(long bytes) {
      this.maxRequestBytes = bytes;
      return this;
    }

    /**
     * Coalescing of concurrent single operations: at most {@code maxOps} per request (default
     * 1000, the node's per-request limit; 1 turns coalescing off) and {@code maxInflight}
     * coalesced requests on the wire at once (default 1, as TigerBeetle's clients: operations
     * queue while a request is out and leave together; 256 closed-loop callers measured 32k
     * transfers/s with 1 against 28k with 2 and 25-27k with 4, docs/benchmarks.md).
     */
    public Builder coalesce(int maxOps, int maxInflight) {
      if (maxOps < 1 || maxInflight < 1) {
        throw new IllegalArgumentException("coalesce limits must be >= 1");
      }
      this.coalesceMaxOps = maxOps;
      this.coalesceMaxInflight = maxInflight;
      return this;
    }

    /**
     * How long the coalescer waits for more operations before sending a request: until none came
     * for {@code quiet} (default 100 us), at most {@code max} (default 2 ms), and never past a
     * full request. It lets the callers woken by one reply, who come back one by one, leave
     * together in the next request. {@code max} zero turns it off; a lone caller pays about one
     * {@code quiet}.
     */
    public Builder coalesceLinger(Duration quiet, Duration max) {
      if (Objects.requireNonNull(quiet).isNegative()
          || Objects.requireNonNull(max).isNegative()
          || max.compareTo(Duration.ofSeconds(1)) > 0) {
        throw new IllegalArgumentException("coalesce linger: quiet >= 0, 0 <= max <= 1 s");
      }
      this.lingerQuiet = quiet;
      this.lingerMax = max;
      return this;
    }

    /**
     * Maps an endpoint as nodes advertise it (host:port, e.g. in a NOT_LEADER redirect) to the
     * host:port to dial, for clients that cannot resolve the nodes' own names (NAT, containers).
     * Default: dial what is advertised.
     */
    public Builder addressResolver(java.util.function.UnaryOperator<String> resolver) {
      this.resolver = Objects.requireNonNull(resolver);
      return this;
    }

    public CairnClient build() {
      return new CairnClient(this);
    }

    private static Duration positive(Duration d) {
      if (Objects.requireNonNull(d).isNegative() || d.isZero()) {
        throw new IllegalArgumentException("duration must be positive: " + d);
      }
      return d;
    }
  }

}
