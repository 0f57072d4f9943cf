package io.cairn.client;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link CairnClient}, from {@link CairnClient#builder()}; every one has a bounded
 * default. Each setter checks its argument at once and throws {@link IllegalArgumentException} (or
 * {@link NullPointerException} for null) rather than let a bad value reach the client. Not
 * thread-safe; {@link #build()} may be called more than once.
 */
public final class CairnClientBuilder {
  List<String> endpoints = List.of("127.0.0.1:7201", "127.0.0.1:7202", "127.0.0.1:7203");
  Duration attemptTimeout = Duration.ofSeconds(3);
  Duration attemptTimeoutMin = Duration.ofMillis(250);
  double timeoutMultiplier = 3.0;
  boolean hedgeReads = true;
  Duration hedgeMinDelay = Duration.ofMillis(20);
  int breakerWindowCalls = 20;
  int breakerMinimumCalls = 10;
  float breakerFailureRatePercent = 50;
  Duration breakerOpenWait = Duration.ofSeconds(1);
  double slowCallFraction = 0.8;
  float slowCallRatePercent = 100;
  Duration keepAliveTime = Duration.ofSeconds(10);
  Duration keepAliveTimeout = Duration.ofSeconds(3);
  java.util.function.BiConsumer<String, EndpointState> endpointStateListener = (e, s) -> {};
  Duration totalTimeout = Duration.ofSeconds(15);
  int maxAttempts = 30;
  Duration backoffBase = Duration.ofMillis(20);
  Duration backoffMax = Duration.ofSeconds(1);
  int callbackThreads = 2;
  long maxRequestBytes = 1 << 20;
  int coalesceMaxOps = 1000;
  int coalesceMaxInflight = CairnClient.DEFAULT_COALESCE_INFLIGHT;
  Duration lingerQuiet = Duration.ofNanos(CairnClient.DEFAULT_LINGER_QUIET_MICROS * 1000L);
  Duration lingerMax = Duration.ofNanos(CairnClient.DEFAULT_LINGER_MAX_MICROS * 1000L);
  int coalesceMaxQueued = 65_536;
  int maxInflightCalls = 1024;
  java.util.function.UnaryOperator<String> resolver = e -> e;
  // Both null and !plaintext: build() refuses, so no client is plaintext by accident.
  Path caFile;
  Path certFile;
  Path keyFile;
  boolean plaintext;
  io.grpc.netty.shaded.io.netty.handler.ssl.SslContext sslContext;

  CairnClientBuilder() {}

  /**
   * host:port of one or more nodes (default 127.0.0.1:7201, :7202, :7203). Any subset of the
   * cluster will do: writes go to the leader, learnt from NOT_LEADER redirects and from the {@code
   * cairn-leader} header of forwarded replies, and a leader a node names is added to the list;
   * reads go to the first endpoint and move to the next on a retryable failure. Endpoints whose
   * circuit breaker is open are skipped while another can be tried.
   *
   * @throws IllegalArgumentException when the list is empty or an entry is not host:port (no colon,
   *     or nothing before or after the last one)
   */
  public CairnClientBuilder endpoints(List<String> endpoints) {
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

  /**
   * Upper bound of the deadline of each attempt (default 3 s), cut to what is left of the total
   * timeout. The deadline itself adapts to observed latency (see {@link #adaptiveTimeout}); this is
   * the deadline until enough attempts have succeeded to measure it. An attempt that passes its
   * deadline is DEADLINE_EXCEEDED and retried; for a write it makes the outcome unknown.
   *
   * @throws IllegalArgumentException when {@code d} is zero or negative
   */
  public CairnClientBuilder attemptTimeout(Duration d) {
    this.attemptTimeout = positive(d);
    return this;
  }

  /**
   * Attempt deadlines that follow latency: per kind of call (writes, reads) the client keeps the
   * latencies of the last 1,024 successful attempts, and gives each attempt {@code clamp(p99 *
   * multiplier, min, max)} (default 3 x p99 within 250 ms .. 3 s). Until 100 attempts of a kind
   * have succeeded it uses {@code max}. Within one call, every attempt that timed out doubles the
   * next one's deadline (up to {@code max}), so a cluster that slowed down is still reached, and
   * the last attempt {@link #maxAttempts} allows always gets {@code max} (with {@code
   * maxAttempts(1)} the deadline is fixed). A frozen node is given up after a few p99s instead of
   * seconds. {@code max} is the {@link #attemptTimeout}; a {@code min} above it is taken as {@code
   * max}; {@code multiplier} 1 with {@code min} equal to {@code max} gives the fixed timeout of
   * old.
   *
   * @throws IllegalArgumentException when {@code multiplier} is below 1 or not a number, or a
   *     duration is zero or negative
   */
  public CairnClientBuilder adaptiveTimeout(double multiplier, Duration min, Duration max) {
    if (!(multiplier >= 1) || Double.isInfinite(multiplier)) {
      throw new IllegalArgumentException("timeout multiplier must be >= 1: " + multiplier);
    }
    this.timeoutMultiplier = multiplier;
    this.attemptTimeoutMin = positive(min);
    this.attemptTimeout = positive(max);
    return this;
  }

  /**
   * Hedged reads (default on, after at least 20 ms): a read that is not pinned to an endpoint and
   * whose first attempt has not answered after the reads' observed p99 (and at least {@code
   * minDelay}) is sent again to a second endpoint whose breaker is closed; the first answer wins
   * and the other attempt is cancelled. Costs at most about 1% more reads; cuts the tail when a
   * node stalls. A hedge counts as an attempt towards {@link #maxAttempts}. Writes are never
   * hedged: one write has at most one attempt in flight.
   *
   * @throws IllegalArgumentException when {@code minDelay} is zero or negative
   */
  public CairnClientBuilder hedgeReads(boolean enabled, Duration minDelay) {
    this.hedgeReads = enabled;
    this.hedgeMinDelay = positive(minDelay);
    return this;
  }

  /**
   * A circuit breaker per endpoint (resilience4j): over the last {@code windowCalls} attempts to an
   * endpoint (judged once there are {@code minimumCalls}), when at least {@code failureRatePercent}
   * failed at the transport (refused, reset, or no answer within the attempt's deadline) the
   * breaker opens and the endpoint is skipped while another can be tried; after {@code openWait}
   * one probe is let through (half-open), and its success closes it. Defaults: 20 calls, 10, 50%, 1
   * s. Refusals a node sends (NOT_LEADER, NO_LEADER, NOT_READY, OVERLOADED, INVALID_ARGUMENT,
   * PERMISSION_DENIED, ledger result codes) never count: the node was reached. When every endpoint
   * is open, calls go to the one that opened first. States: {@link CairnClient#endpointStates()}
   * and {@link #endpointStateListener}.
   *
   * @throws IllegalArgumentException when a count is below 1, {@code minimumCalls} exceeds {@code
   *     windowCalls}, the rate is not in (0, 100], or {@code openWait} is zero or negative
   */
  public CairnClientBuilder circuitBreaker(
      int windowCalls, int minimumCalls, float failureRatePercent, Duration openWait) {
    if (windowCalls < 1 || minimumCalls < 1 || minimumCalls > windowCalls) {
      throw new IllegalArgumentException("breaker: 1 <= minimumCalls <= windowCalls");
    }
    this.breakerFailureRatePercent = percent(failureRatePercent);
    this.breakerWindowCalls = windowCalls;
    this.breakerMinimumCalls = minimumCalls;
    this.breakerOpenWait = positive(openWait);
    return this;
  }

  /**
   * The breakers' slow-call rule: a successful attempt slower than {@code fractionOfTimeout} of the
   * (adaptive) attempt deadline it ran under is slow, and at {@code ratePercent} slow attempts in
   * the window the breaker opens as for failures (default 0.8 and 100%: only an endpoint whose
   * every recent answer came near its deadline).
   *
   * @throws IllegalArgumentException when {@code fractionOfTimeout} is not in (0, 1] or the rate is
   *     not in (0, 100]
   */
  public CairnClientBuilder slowCalls(double fractionOfTimeout, float ratePercent) {
    if (!(fractionOfTimeout > 0 && fractionOfTimeout <= 1)) {
      throw new IllegalArgumentException("slow-call fraction must be in (0, 1]");
    }
    this.slowCallRatePercent = percent(ratePercent);
    this.slowCallFraction = fractionOfTimeout;
    return this;
  }

  /**
   * Called with an endpoint and its breaker's new state on every change (default: nothing), on the
   * client's threads while a call is chosen or finished: keep it short, never block. A listener
   * that throws is ignored. For metrics or logs; {@link CairnClient#endpointStates()} reads the
   * states at any time.
   *
   * @throws NullPointerException when {@code listener} is null
   */
  public CairnClientBuilder endpointStateListener(
      java.util.function.BiConsumer<String, EndpointState> listener) {
    this.endpointStateListener = Objects.requireNonNull(listener);
    return this;
  }

  /**
   * HTTP/2 keepalive on each connection while calls are in flight (default every 10 s, dropped
   * after 3 s without an answer; zero {@code time} turns it off): finds a connection to a vanished
   * node without waiting for the OS. gRPC raises a {@code time} under 10 s to 10 s. The node must
   * permit it (a Cairn node permits pings every 5 s); a server that permits less answers with
   * GOAWAY and the client pings half as often.
   *
   * @throws IllegalArgumentException when {@code time} is negative or {@code timeout} is zero or
   *     negative
   */
  public CairnClientBuilder keepAlive(Duration time, Duration timeout) {
    if (Objects.requireNonNull(time).isNegative()) {
      throw new IllegalArgumentException("keepalive time must be >= 0");
    }
    this.keepAliveTimeout = positive(timeout);
    this.keepAliveTime = time;
    return this;
  }

  /**
   * Deadline of the whole call including retries and backoff (default 15 s); no retry is started
   * that its backoff would push past it. Also how long a {@link Subscription} keeps trying to
   * resume when no node can be reached.
   *
   * @throws IllegalArgumentException when {@code d} is zero or negative
   */
  public CairnClientBuilder totalTimeout(Duration d) {
    this.totalTimeout = positive(d);
    return this;
  }

  /**
   * Most attempts per call, the first included (default 30; the total timeout usually ends a call
   * first).
   *
   * @throws IllegalArgumentException when {@code n} is below 1
   */
  public CairnClientBuilder maxAttempts(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("maxAttempts must be >= 1");
    }
    this.maxAttempts = n;
    return this;
  }

  /**
   * Exponential backoff with full jitter (default 20 ms .. 1 s): before retry n the client waits a
   * uniform random time in [0, min(max, base * 2^(n-1))], in whole milliseconds, and at least a
   * node's {@code retry_after_millis} hint when it sent one. A NOT_LEADER redirect to a node that
   * has not just failed is followed at once.
   *
   * @throws IllegalArgumentException when {@code base} or {@code max} is zero or negative
   */
  public CairnClientBuilder backoff(Duration base, Duration max) {
    this.backoffBase = positive(base);
    this.backoffMax = positive(max);
    return this;
  }

  /**
   * Threads running gRPC callbacks and completing the futures of async calls (default 2). Code
   * chained on those futures without an executor runs on them: keep it short and never block.
   *
   * @throws IllegalArgumentException when {@code n} is below 1
   */
  public CairnClientBuilder callbackThreads(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("callbackThreads must be >= 1");
    }
    this.callbackThreads = n;
    return this;
  }

  /**
   * Most calls (RPCs with their retries) in flight at once (default 1,024); one more fails at once
   * with a retryable RESOURCE_EXHAUSTED {@link CairnException}. Bounds the client's memory and its
   * retry timer however fast the application submits. The default matches a node's streams per
   * connection: calls beyond that would wait unsent in the transport, where a deadline makes a
   * write's outcome unknown although it never left. Coalesced single operations share calls, so
   * this rarely binds them. The refusal is not retried by the client and nothing was sent: retry
   * after a pause.
   *
   * @throws IllegalArgumentException when {@code n} is below 1
   */
  public CairnClientBuilder maxInflightCalls(int n) {
    if (n < 1) {
      throw new IllegalArgumentException("maxInflightCalls must be >= 1");
    }
    this.maxInflightCalls = n;
    return this;
  }

  /**
   * Requests larger than this, serialized, are refused before sending with a final INVALID_ARGUMENT
   * {@link CairnException} (default 1 MiB, the node's limit); coalesced requests are kept 1 KiB
   * below it. Not checked: a value above the node's limit lets the node refuse the request instead
   * (final, not retried).
   */
  public CairnClientBuilder maxRequestBytes(long bytes) {
    this.maxRequestBytes = bytes;
    return this;
  }

  /**
   * Coalescing of concurrent single operations: at most {@code maxOps} per request (default 1000,
   * the node's per-request limit; 1 turns coalescing off) and {@code maxInflight} coalesced
   * requests on the wire at once (default 1, as TigerBeetle's clients: operations queue while a
   * request is out and leave together; 256 closed-loop callers measured 32k transfers/s with 1
   * against 28k with 2 and 25-27k with 4, docs/benchmarks.md). At most 65,536 single operations
   * wait in the client's queue; one more fails at once with a retryable RESOURCE_EXHAUSTED {@link
   * CairnException}.
   *
   * @throws IllegalArgumentException when {@code maxOps} or {@code maxInflight} is below 1
   */
  public CairnClientBuilder coalesce(int maxOps, int maxInflight) {
    if (maxOps < 1 || maxInflight < 1) {
      throw new IllegalArgumentException("coalesce limits must be >= 1");
    }
    this.coalesceMaxOps = maxOps;
    this.coalesceMaxInflight = maxInflight;
    return this;
  }

  /**
   * How long the coalescer waits for more operations before sending a request: until none came for
   * {@code quiet} (default 100 us), at most {@code max} (default 2 ms), and never past a full
   * request. It lets the callers woken by one reply, who come back one by one, leave together in
   * the next request. {@code max} (or {@code quiet}) zero turns it off; a lone caller pays about
   * one {@code quiet}.
   *
   * @throws IllegalArgumentException when {@code quiet} is negative, or {@code max} is negative or
   *     over 1 s
   */
  public CairnClientBuilder coalesceLinger(Duration quiet, Duration max) {
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
   * Default: dial what is advertised. Applied to the configured endpoints too; called on the
   * client's threads, so it must be fast and thread-safe.
   *
   * @throws NullPointerException when {@code resolver} is null
   */
  public CairnClientBuilder addressResolver(java.util.function.UnaryOperator<String> resolver) {
    this.resolver = Objects.requireNonNull(resolver);
    return this;
  }

  /**
   * Connect with TLS 1.3, presenting the client certificate {@code certFile} (PEM) with its key
   * {@code keyFile} (PKCS#8 PEM) and trusting only nodes whose certificates {@code caFile} (PEM)
   * signed. The node learns the caller's principal from the certificate's CN. Files are read by
   * {@link #build()}.
   *
   * @throws NullPointerException when any file is null
   */
  public CairnClientBuilder tls(Path caFile, Path certFile, Path keyFile) {
    this.caFile = Objects.requireNonNull(caFile);
    this.certFile = Objects.requireNonNull(certFile);
    this.keyFile = Objects.requireNonNull(keyFile);
    this.plaintext = false;
    return this;
  }

  /**
   * {@link #tls} with the files {@code cairnctl cert} writes: {@code dir/ca.crt}, {@code
   * dir/client.<user>.crt} and {@code dir/client.<user>.key}.
   *
   * @throws NullPointerException when {@code dir} or {@code user} is null
   */
  public CairnClientBuilder certificates(Path dir, String user) {
    Objects.requireNonNull(user);
    return tls(
        dir.resolve("ca.crt"),
        dir.resolve("client." + user + ".crt"),
        dir.resolve("client." + user + ".key"));
  }

  /**
   * Connect without TLS, to nodes started with {@code tls.enabled=0} (benchmarks only: such a node
   * treats every caller as its bootstrap admin). A node with TLS on refuses these connections.
   */
  public CairnClientBuilder plaintext() {
    this.plaintext = true;
    this.caFile = null;
    this.certFile = null;
    this.keyFile = null;
    return this;
  }

  /**
   * A new client with these settings. No connection is made yet: channels open on first use, so an
   * unreachable cluster shows up as failures of the calls, not here.
   *
   * @throws IllegalStateException when neither {@link #tls} (or {@link #certificates}) nor {@link
   *     #plaintext} was chosen
   * @throws IllegalArgumentException when a certificate or key file cannot be read (the message
   *     names it)
   */
  public CairnClient build() {
    if (!plaintext && caFile == null) {
      throw new IllegalStateException(
          "choose a transport: tls(ca, cert, key), certificates(dir, user) or plaintext()");
    }
    // Read here, before the client starts any thread, so a bad file fails with nothing to close.
    sslContext =
        plaintext ? null : io.cairn.client.internal.Caller.clientTls(caFile, certFile, keyFile);
    return new CairnClient(this);
  }

  private static float percent(float p) {
    if (!(p > 0 && p <= 100)) {
      throw new IllegalArgumentException("rate must be in (0, 100]: " + p);
    }
    return p;
  }

  private static Duration positive(Duration d) {
    if (Objects.requireNonNull(d).isNegative() || d.isZero()) {
      throw new IllegalArgumentException("duration must be positive: " + d);
    }
    return d;
  }
}
