package io.cairn.node.api;

import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.config.ConfigKeys;
import io.cairn.node.config.HotSettings;
import io.cairn.node.config.NodeConfig;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.raft.LedgerStateMachine;
import io.cairn.node.raft.RaftNode;
import io.cairn.node.tls.TlsMaterial;
import io.cairn.proto.LedgerServiceGrpc;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The node's public gRPC server: {@code LedgerService}, the standard health service and server
 * reflection (so {@code grpcurl} and probes work), with every transport limit set from config.
 */
public final class ApiServer implements AutoCloseable {
  private final Server server;
  private final WriteBatcher batcher;
  private final Responders responders;
  private final WatchStreams watches;
  private final HealthStatusManager health = new HealthStatusManager();
  private final Forwarder forwarder; // null when api.forward.enabled=0
  private final ConnectionCaps connections;
  private final ClusterClock clock;
  private final SpaceWatch space;
  private final ReceiveDeadline receive;

  /**
   * @param tls the node's certificates: TLS 1.3 with a required client certificate of the CA; null
   *     when {@code tls.enabled=0} (plaintext, benchmarks only)
   */
  public ApiServer(
      NodeConfig config, RaftNode raft, NodeMetrics metrics, HotSettings hot, TlsMaterial tls)
      throws IOException {
    this.responders = new Responders("cairn-api", 4, 16_384);
    this.space =
        new SpaceWatch(
            config.nodeId(), config.dataDir(), () -> hot.get("node.data.min.free.bytes"), metrics);
    this.clock =
        new ClusterClock(
            () -> hot.get("debug.clock.offset.millis"),
            config.getLong("ledger.max.clock.skew.millis"),
            () -> peerEndpoints(raft),
            () -> Math.max(1, raft.members().size()),
            clientTls(tls),
            space::peerSaid,
            new ClockStepDown(raft, () -> hot.getInt("raft.clock.step.down.checks")),
            metrics);
    this.batcher =
        new WriteBatcher(
            raft,
            metrics,
            config.getInt("api.max.pending.requests"),
            config.getInt("batch.max.inflight.entries"),
            hot,
            config.getLong("batch.max.bytes"),
            clock::nowMillis,
            config.get(ConfigKeys.AUTH_BOOTSTRAP_ADMIN),
            responders);
    this.watches =
        new WatchStreams(
            raft.stateMachine().watchWindow(),
            metrics,
            new WatchStreams.Bounds(
                config.getInt("watch.max.watchers"),
                config.getInt("watch.max.watchers.per.principal"),
                config.getLong("watch.max.ahead.entries")),
            config.getInt("watch.threads"),
            raft::knowsLeader,
            // Longer than an election, so a normal leader change never cuts watchers off.
            3 * config.getLong("raft.election.timeout.max.millis"));
    this.forwarder =
        config.get(ConfigKeys.API_FORWARD_ENABLED) ? forwarder(config, raft, metrics, tls) : null;
    LedgerApi api =
        new LedgerApi(config, raft, batcher, responders, metrics, hot, forwarder, clock, space);
    AdmissionInterceptor admission = admission(config, metrics, hot);
    registerGauges(metrics, config.getInt("batch.max.inflight.entries"));
    this.connections =
        new ConnectionCaps(
            config.getInt("api.max.connections"),
            config.getInt("api.max.connections.per.address"),
            metrics);
    this.receive = new ReceiveDeadline(config.getLong("api.receive.timeout.millis"), metrics);
    this.server = server(config, raft, api, admission, tls, connections);
  }

  /**
   * The follower's path to the leader: one channel per peer, authenticated with this node's own
   * certificate (the leader then accepts the caller's principal from it, {@link Principals}).
   */
  private static Forwarder forwarder(
      NodeConfig config, RaftNode raft, NodeMetrics metrics, TlsMaterial tls) throws IOException {
    SslContext client = clientTls(tls);
    Forwarder.Leaders leaders = leaders(config, raft);
    // A reply relayed from the leader is at most what this node would send itself.
    int maxReply = (int) Math.min(Integer.MAX_VALUE, 4 * config.getLong("api.max.request.bytes"));
    Forwarder f = new Forwarder(leaders, client, Math.max(maxReply, 64 << 20), metrics);
    f.warm(
        config.peers().stream()
            .filter(p -> !p.id().equals(config.nodeId()))
            .map(NodeConfig.Peer::apiEndpoint)
            .toList());
    return f;
  }

  /** This node's certificate as a client of its peers' APIs, or null for plaintext. */
  private static SslContext clientTls(TlsMaterial tls) throws IOException {
    return tls == null
        ? null
        : GrpcSslContexts.forClient()
            .keyManager(tls.keyManager())
            .trustManager(tls.clientTrust())
            .protocols("TLSv1.3")
            .build();
  }

  /** The API endpoints of the other members, from the replicated configuration. */
  private static java.util.List<String> peerEndpoints(RaftNode raft) {
    java.util.List<String> out = new java.util.ArrayList<>();
    for (io.cairn.node.raft.Peer p : raft.members()) {
      if (!p.id().equals(raft.selfId()) && !p.apiEndpoint().isEmpty()) {
        out.add(p.apiEndpoint());
      }
    }
    return out;
  }

  /**
   * What this node knows of the leader, for the forwarder and the hint: its id and API endpoint,
   * from the replicated configuration, else from {@code cluster.peers}.
   */
  private static Forwarder.Leaders leaders(NodeConfig config, RaftNode raft) {
    java.util.Map<String, String> configured = new java.util.HashMap<>();
    for (NodeConfig.Peer p : config.peers()) {
      configured.put(p.id(), p.apiEndpoint());
    }
    return new Forwarder.Leaders() {
      @Override
      public boolean selfLeads() {
        return raft.isLeaderReady();
      }

      @Override
      public Forwarder.Target leader() {
        String id = raft.status().leaderId();
        if (id.isEmpty() || id.equals(raft.selfId())) {
          return null;
        }
        for (io.cairn.node.raft.Peer p : raft.members()) {
          if (p.id().equals(id) && !p.apiEndpoint().isEmpty()) {
            return new Forwarder.Target(id, p.apiEndpoint());
          }
        }
        String e = configured.get(id);
        return e == null ? null : new Forwarder.Target(id, e);
      }
    };
  }

  private static boolean isMember(RaftNode raft, String id) {
    for (io.cairn.node.raft.Peer p : raft.members()) {
      if (p.id().equals(id)) {
        return true;
      }
    }
    return false;
  }

  private void registerGauges(NodeMetrics metrics, int inflightLimit) {
    metrics.gauge(
        "cairn.batch.queue.depth", "Submits waiting to be batched", batcher, WriteBatcher::queued);
    metrics.gauge(
        "cairn.batch.queue.limit", "Bound of the batch queue", batcher, WriteBatcher::queueLimit);
    metrics.gauge(
        "cairn.batch.inflight.entries",
        "Log entries in Raft, not yet applied",
        batcher,
        b -> b.inflightEntries(inflightLimit));
    metrics.gauge("cairn.batch.inflight.limit", "Bound of entries in Raft", () -> inflightLimit);
    metrics.gauge(
        "cairn.api.executor.queue.depth",
        "Replies waiting for an API thread",
        responders,
        Responders::queued);
  }

  /** The transport, with every limit set from config, serving {@code api} behind its guards. */
  private Server server(
      NodeConfig config,
      RaftNode raft,
      LedgerApi api,
      AdmissionInterceptor admission,
      TlsMaterial tls,
      ConnectionCaps connections)
      throws IOException {
    NodeConfig.Peer self = config.self();
    String host = config.get("api.bind.host").isEmpty() ? self.host() : config.get("api.bind.host");
    long maxRequestBytes = config.getLong("api.max.request.bytes");
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(new InetSocketAddress(host, self.apiPort()));
    if (tls != null) {
      builder.sslContext(sslContext(tls));
    }
    Principals principals =
        new Principals(
            tls != null, config.get(ConfigKeys.AUTH_BOOTSTRAP_ADMIN), id -> isMember(raft, id));
    return builder
        .channelFactory(connections::newServerChannel)
        .bossEventLoopGroup(connections.boss())
        .workerEventLoopGroup(connections.workers())
        .maxConnectionAge(config.getLong("api.max.connection.age.millis"), TimeUnit.MILLISECONDS)
        .maxConnectionAgeGrace(
            config.getLong("api.max.connection.age.grace.millis"), TimeUnit.MILLISECONDS)
        // Handlers run on the transport's event loop: every one of them only parses, checks
        // and queues (the replies are sent from the responders), so a hop to a pool per call
        // bought nothing but two thread wake-ups.
        .directExecutor()
        // A request over the limit is refused by gRPC from its length prefix, before a byte
        // of it is buffered (RESOURCE_EXHAUSTED, no detail: the client does not retry it), so
        // a half-sent request holds at most api.max.request.bytes.
        .maxInboundMessageSize((int) Math.min(Integer.MAX_VALUE, maxRequestBytes))
        .maxInboundMetadataSize(16 * 1024)
        .maxConcurrentCallsPerConnection(config.getInt("api.max.concurrent.calls.per.connection"))
        .permitKeepAliveTime(5, TimeUnit.SECONDS)
        .permitKeepAliveWithoutCalls(true)
        .keepAliveTime(30, TimeUnit.SECONDS)
        .keepAliveTimeout(10, TimeUnit.SECONDS)
        // Idle connections are closed (GOAWAY; clients reconnect on demand), a peer that
        // never finishes the HTTP/2 handshake is dropped, and a client resetting streams
        // in a loop (HTTP/2 rapid reset) is disconnected instead of costing CPU.
        .maxConnectionIdle(config.getLong("api.max.connection.idle.millis"), TimeUnit.MILLISECONDS)
        .handshakeTimeout(20, TimeUnit.SECONDS)
        .maxRstFramesPerWindow(1000, 10)
        .addTransportFilter(admission.transportFilter())
        .addService(
            // Interceptors run last-listed first: a call whose request does not arrive in time
            // is closed, the caller's principal is taken from its certificate, calls it holds no
            // right to are refused, the guard refuses malformed or oversized requests, then
            // admission counts what is left against the in-flight bounds.
            ServerInterceptors.intercept(
                withRawMethods(
                    ServerInterceptors.useMarshalledMessages(
                        api.bindService(), io.cairn.proto.wire.RawBytes.INSTANCE),
                    api,
                    watches),
                admission,
                new RequestGuard(
                    maxRequestBytes,
                    new StrictDecoding(
                        LedgerServiceGrpc.getServiceDescriptor(),
                        java.util.Set.of(LedgerServiceGrpc.getSubmitMethod().getFullMethodName()))),
                new Authorizer(
                    roles(raft.stateMachine()), config.get(ConfigKeys.AUTH_BOOTSTRAP_ADMIN)),
                principals,
                new LeaderHint(hint(leaders(config, raft))),
                receive))
        .addService(ServerInterceptors.intercept(gatedHealth(health, admission), receive))
        .addService(ProtoReflectionServiceV1.newInstance())
        .build();
  }

  /**
   * The standard health service behind admission: a Check counts against the in-flight bounds like
   * any unary call, so a flood of probes cannot get past them. Its Watch and reflection are
   * streams, bounded by the connection caps and {@code api.max.concurrent.calls.per.connection}.
   */
  static io.grpc.ServerServiceDefinition gatedHealth(
      HealthStatusManager health, AdmissionInterceptor admission) {
    return ServerInterceptors.intercept(health.getHealthService(), admission);
  }

  /** {@code <leader id>=<endpoint>} while another node leads, else null ({@link LeaderHint}). */
  private static java.util.function.Supplier<String> hint(Forwarder.Leaders leaders) {
    return () -> {
      Forwarder.Target t = leaders.leader();
      return t == null ? null : t.id() + "=" + t.endpoint();
    };
  }

  /** The roles this node has applied, as the authorizer asks for them. */
  private static Authorizer.RoleSource roles(LedgerStateMachine sm) {
    return new Authorizer.RoleSource() {
      @Override
      public boolean isAdmin(String principal) {
        return sm.isAdmin(principal);
      }

      @Override
      public boolean holdsAnyRole(String principal) {
        return sm.holdsAnyRole(principal);
      }
    };
  }

  /**
   * TLS 1.3 only, and a client certificate of the cluster's CA is required: a plaintext client, one
   * without a certificate and one from another CA all fail the handshake.
   */
  static SslContext sslContext(TlsMaterial tls) throws IOException {
    return GrpcSslContexts.configure(SslContextBuilder.forServer(tls.keyManager()))
        .trustManager(tls.clientTrust())
        .clientAuth(ClientAuth.REQUIRE)
        .protocols("TLSv1.3")
        .build();
  }

  private static AdmissionInterceptor admission(
      NodeConfig config, NodeMetrics metrics, HotSettings hot) {
    AdmissionGate gate =
        new AdmissionGate(
            config.getInt("api.max.inflight.requests"),
            config.getLong("api.max.inflight.bytes"),
            config.getInt("api.max.inflight.per.connection"));
    metrics.gauge(
        "cairn.api.inflight.requests",
        "API requests admitted and not yet answered",
        gate,
        AdmissionGate::inflightRequests);
    metrics.gauge(
        "cairn.api.inflight.requests.limit",
        "Bound of API requests in flight",
        gate,
        AdmissionGate::maxRequests);
    metrics.gauge(
        "cairn.api.inflight.bytes",
        "Bytes of API requests in flight",
        gate,
        AdmissionGate::inflightBytes);
    metrics.gauge(
        "cairn.api.inflight.bytes.limit",
        "Bound of API request bytes in flight",
        gate,
        AdmissionGate::maxBytes);
    return new AdmissionInterceptor(
        gate,
        metrics,
        () -> hot.get("api.overload.retry.after.millis"),
        java.util.Set.of(LedgerServiceGrpc.getClusterStatusMethod().getFullMethodName()));
  }

  public void start() throws IOException {
    space.start();
    receive.start();
    server.start();
    clock.start();
    health.setStatus("", ServingStatus.SERVING);
    health.setStatus(LedgerServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
  }

  public int port() {
    return server.getPort();
  }

  @Override
  public void close() {
    health.enterTerminalState();
    batcher.close();
    // Watch streams never end by themselves: end them first so shutdown() does not wait on them.
    watches.close();
    server.shutdown();
    try {
      if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
        server.shutdownNow();
        server.awaitTermination(2, TimeUnit.SECONDS);
      }
      connections.close();
      clock.close();
      space.close();
      receive.close();
      if (forwarder != null) {
        forwarder.close();
      }
      responders.close();
    } catch (InterruptedException e) {
      server.shutdownNow();
      responders.closeNow();
      Thread.currentThread().interrupt();
    }
  }

  /**
   * A daemon thread named {@code name} for one periodic task (fixed delay): the only use of a
   * scheduled executor in the node, whose delay queue then never holds more than that one task.
   */
  static java.util.concurrent.ScheduledExecutorService ticker(String name) {
    return java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
        r -> {
          Thread t = new Thread(r, name);
          t.setDaemon(true);
          return t;
        });
  }

  static ThreadPoolExecutor boundedPool(String name, int threads, int queue) {
    return boundedPool(name, threads, queue, () -> {});
  }

  /**
   * A fixed pool of {@code threads} daemon threads with a queue of {@code queue} tasks; each thread
   * runs {@code onThreadStart} first. When the queue is full the submitter runs the task
   * (backpressure instead of dropping work) unless the caller sets another policy.
   */
  static ThreadPoolExecutor boundedPool(
      String name, int threads, int queue, Runnable onThreadStart) {
    AtomicInteger n = new AtomicInteger();
    return new ThreadPoolExecutor(
        threads,
        threads,
        60,
        TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(queue),
        r -> {
          Runnable marked =
              () -> {
                onThreadStart.run();
                r.run();
              };
          Thread t = new Thread(marked, name + "-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        },
        new ThreadPoolExecutor.CallerRunsPolicy());
  }

  /**
   * The service with two methods served on bytes: {@code Submit}, whose request bytes go into the
   * log entry as they came ({@link LedgerApi#submit(byte[], StreamObserver)}), and {@code Watch},
   * served by {@link WatchStreams}, which sends each entry's bytes as the window holds them
   * (encoded once for every watcher) instead of a message to encode.
   */
  private static ServerServiceDefinition withRawMethods(
      ServerServiceDefinition service, LedgerApi api, WatchStreams watches) {
    String watchName = LedgerServiceGrpc.getWatchMethod().getFullMethodName();
    String submitName = LedgerServiceGrpc.getSubmitMethod().getFullMethodName();
    ServerServiceDefinition.Builder b =
        ServerServiceDefinition.builder(service.getServiceDescriptor());
    for (ServerMethodDefinition<?, ?> m : service.getMethods()) {
      String name = m.getMethodDescriptor().getFullMethodName();
      if (name.equals(watchName)) {
        b.addMethod(
            rawMethod(m.getMethodDescriptor()),
            ServerCalls.asyncServerStreamingCall(
                (byte[] request, StreamObserver<byte[]> out) -> watches.watch(request, out)));
      } else if (name.equals(submitName)) {
        b.addMethod(
            rawMethod(m.getMethodDescriptor()),
            ServerCalls.asyncUnaryCall(
                (byte[] request, StreamObserver<byte[]> out) -> api.submit(request, out)));
      } else {
        b.addMethod(m);
      }
    }
    return b.build();
  }

  @SuppressWarnings("unchecked") // useMarshalledMessages made every method byte[] in, byte[] out
  private static MethodDescriptor<byte[], byte[]> rawMethod(MethodDescriptor<?, ?> m) {
    return (MethodDescriptor<byte[], byte[]>) m;
  }

  /**
   * Refuses a request that does not parse, or one a strict decoder would refuse ({@link
   * StrictDecoding}), with INVALID_ARGUMENT before any handler runs: gRPC alone would answer
   * UNKNOWN, and it is the caller's mistake. Requests over {@code api.max.request.bytes} do not get
   * here (the transport's inbound limit is the same); the size check stays for a server built with
   * a larger one.
   */
  static final class RequestGuard implements ServerInterceptor {
    private final long maxRequestBytes;
    private final StrictDecoding strict;

    RequestGuard(long maxRequestBytes, StrictDecoding strict) {
      this.maxRequestBytes = maxRequestBytes;
      this.strict = strict;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(
        ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
      ServerCall.Listener<Q> delegate = next.startCall(call, headers);
      return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(delegate) {
        private boolean refused;

        @Override
        public void onMessage(Q message) {
          if (message instanceof byte[] raw && raw.length > maxRequestBytes) {
            refuse("request is " + raw.length + " bytes; the limit is " + maxRequestBytes);
            return;
          }
          String notStrict =
              message instanceof byte[] raw
                  ? strict.check(call.getMethodDescriptor().getFullMethodName(), raw)
                  : null;
          if (notStrict != null) {
            refuse(notStrict);
            return;
          }
          try {
            super.onMessage(message);
          } catch (StatusRuntimeException e) {
            if (!isParseFailure(e)) {
              throw e;
            }
            refuse("malformed request: " + e.getStatus().getDescription());
          }
        }

        @Override
        public void onHalfClose() {
          if (!refused) {
            super.onHalfClose();
          }
        }

        private void refuse(String why) {
          refused = true;
          StatusRuntimeException e = ApiErrors.invalid("request", why);
          call.close(e.getStatus(), e.getTrailers());
        }
      };
    }

    private static boolean isParseFailure(StatusRuntimeException e) {
      for (Throwable t = e; t != null; t = t.getCause()) {
        if (t instanceof InvalidProtocolBufferException) {
          return true;
        }
      }
      return false;
    }
  }
}
