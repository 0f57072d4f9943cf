package io.cairn.node.it;

import io.cairn.cli.cert.CertAuthority;
import io.cairn.client.CairnClient;
import io.cairn.client.CairnClientBuilder;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.LedgerServiceGrpc;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * A real Cairn cluster for tests: one JVM process per node on 127.0.0.1 with free ports, real Ratis
 * with fsync, killed with SIGKILL when asked. Logs go to {@code target/it-logs/<name>/}. Every wait
 * is bounded; {@link #close()} kills whatever is still running.
 */
public final class LocalCluster implements AutoCloseable {
  private final String name;
  private final int size;
  private final Path dataRoot;
  private final Path logDir;
  private final int[] raftPorts;
  private final int[] apiPorts;
  private final int[] metricsPorts;
  private final int[] ratisAdminPorts;
  private final int[] ratisClientPorts;
  private final Path certs;
  private final List<String> extraArgs;
  private final Process[] processes;
  private final ManagedChannel[] channels;
  private Path configFile;
  private int initialMembers;
  private final Map<Integer, List<String>> nodeArgs = new java.util.HashMap<>();
  private final Map<Integer, Path> nodeConfigFiles = new java.util.HashMap<>();

  public LocalCluster(String name, int size, Path dataRoot, Map<String, String> settings)
      throws IOException {
    this.name = name;
    this.size = size;
    this.dataRoot = dataRoot;
    this.logDir = Path.of("target", "it-logs", name);
    Files.createDirectories(logDir);
    for (int i = 1; i <= size; i++) {
      // Fresh logs per cluster: tests read them, and a previous run's lines must not count.
      Files.deleteIfExists(logDir.resolve("n" + i + ".log"));
    }
    this.raftPorts = new int[size];
    this.apiPorts = new int[size];
    this.metricsPorts = new int[size];
    this.ratisAdminPorts = new int[size];
    this.ratisClientPorts = new int[size];
    for (int i = 0; i < size; i++) {
      raftPorts[i] = freePort();
      apiPorts[i] = freePort();
      metricsPorts[i] = freePort();
      ratisAdminPorts[i] = freePort();
      ratisClientPorts[i] = freePort();
    }
    // Every cluster has its own CA: nodes n1..size, and the bootstrap admin "admin".
    this.certs = dataRoot.resolve("certs");
    if (!Files.exists(certs.resolve("ca.crt"))) {
      Files.createDirectories(certs);
      CertAuthority ca = CertAuthority.create(certs, Duration.ofDays(1));
      for (int i = 1; i <= size; i++) {
        ca.issueNode("n" + i, List.of("127.0.0.1", "localhost"), Duration.ofDays(1));
      }
      ca.issueClient("admin", Duration.ofDays(1));
    }
    this.extraArgs = new ArrayList<>();
    // Fast elections for tests; the defaults favour stability on busy machines.
    extraArgs.add("raft.election.timeout.min.millis=500");
    extraArgs.add("raft.election.timeout.max.millis=1000");
    settings.forEach((k, v) -> extraArgs.add(k + "=" + v));
    this.processes = new Process[size];
    this.channels = new ManagedChannel[size];
    this.initialMembers = size;
  }

  /**
   * Only nodes 1..{@code members} form the group and start with {@link #start()}; the others start
   * with {@code cluster.join=1} and wait to be added.
   */
  public LocalCluster initialMembers(int members) {
    this.initialMembers = members;
    return this;
  }

  /** A setting for node {@code node} alone (it wins over the cluster's), from its next start. */
  public LocalCluster nodeSetting(int node, String key, String value) {
    nodeArgs.computeIfAbsent(node, n -> new ArrayList<>()).add(key + "=" + value);
    return this;
  }

  /** Loopback port of node {@code node}'s Ratis admin service. */
  public int ratisAdminPort(int node) {
    return ratisAdminPorts[node - 1];
  }

  /** Loopback address of node {@code node}'s Ratis client service (behind peer TLS). */
  public String ratisClientAddress(int node) {
    return "127.0.0.1:" + ratisClientPorts[node - 1];
  }

  public String raftAddress(int node) {
    return "127.0.0.1:" + raftPorts[node - 1];
  }

  /** The cluster's certificates folder (ca.crt, node.nN.*, client.NAME.*). */
  public Path certs() {
    return certs;
  }

  /** Issues (once) a client certificate for {@code name} from this cluster's CA. */
  public synchronized void issueClient(String name) throws IOException {
    if (!Files.exists(certs.resolve("client." + name + ".crt"))) {
      CertAuthority.load(certs).issueClient(name, Duration.ofDays(1));
    }
  }

  /**
   * A client builder for this cluster's endpoints, as {@code user} (default: the bootstrap admin).
   */
  public CairnClientBuilder clientBuilder(String user) throws IOException {
    issueClient(user);
    return CairnClient.builder().endpoints(endpoints()).certificates(certs, user);
  }

  /** A client builder for this cluster's endpoints, as the bootstrap admin. */
  public CairnClientBuilder clientBuilder() {
    return CairnClient.builder().endpoints(endpoints()).certificates(certs, "admin");
  }

  /** A raw gRPC channel to {@code endpoint} with TLS as {@code user} (for tests of the wire). */
  public ManagedChannel tlsChannel(String endpoint, String user) throws IOException {
    issueClient(user);
    return NettyChannelBuilder.forTarget(endpoint).sslContext(clientTls(user)).build();
  }

  /** The client side of TLS as {@code user}, trusting this cluster's CA. */
  public io.grpc.netty.shaded.io.netty.handler.ssl.SslContext clientTls(String user)
      throws IOException {
    return io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient()
        .keyManager(
            certs.resolve("client." + user + ".crt").toFile(),
            certs.resolve("client." + user + ".key").toFile())
        .trustManager(certs.resolve("ca.crt").toFile())
        .build();
  }

  /** Every node reads this config file (and watches it for hot keys). */
  public LocalCluster configFile(Path file) {
    this.configFile = file;
    return this;
  }

  /** Node {@code node} reads (and watches) this file instead of {@link #configFile}'s. */
  public LocalCluster nodeConfigFile(int node, Path file) {
    nodeConfigFiles.put(node, file);
    return this;
  }

  /** Starts the initial members and waits for a leader; on failure stops what it started. */
  public LocalCluster start() throws Exception {
    try {
      for (int i = 1; i <= initialMembers; i++) {
        startNode(i);
      }
      awaitLeader(Duration.ofSeconds(60));
      // A majority elects a leader before the last node has bound its API port: a test that
      // then picks that node as "a follower" was refused a connection (ForwardingTest, 2 of 5
      // full runs).
      awaitServing(Duration.ofSeconds(60));
      return this;
    } catch (Exception | Error e) {
      // A caller whose start() failed has no cluster to close: its nodes would outlive the test.
      close();
      throw e;
    }
  }

  public int size() {
    return size;
  }

  public String endpoint(int node) {
    return "127.0.0.1:" + apiPorts[node - 1];
  }

  public List<String> endpoints() {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= size; i++) {
      out.add(endpoint(i));
    }
    return out;
  }

  /** http://127.0.0.1:PORT of node {@code node}'s /metrics, /health and /ready. */
  public String metricsUrl(int node) {
    return "http://127.0.0.1:" + metricsPorts[node - 1];
  }

  /** The first sample of metric {@code name} (Prometheus form) that node {@code node} exports. */
  public double gauge(int node, String name) throws IOException, InterruptedException {
    String body =
        java.net.http.HttpClient.newHttpClient()
            .send(
                java.net.http.HttpRequest.newBuilder(
                        java.net.URI.create(metricsUrl(node) + "/metrics"))
                    .timeout(Duration.ofSeconds(10))
                    .build(),
                java.net.http.HttpResponse.BodyHandlers.ofString())
            .body();
    for (String line : body.split("\n")) {
      if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
        return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    throw new AssertionError(name + " not exported by n" + node);
  }

  public Path dataDir(int node) {
    return dataRoot.resolve("n" + node);
  }

  public Path logFile(int node) {
    return logDir.resolve("n" + node + ".log");
  }

  public String peers() {
    return peers(size);
  }

  private String peers(int upTo) {
    StringBuilder sb = new StringBuilder();
    for (int i = 1; i <= upTo; i++) {
      if (sb.length() > 0) {
        sb.append(',');
      }
      sb.append("n")
          .append(i)
          .append("=127.0.0.1:")
          .append(raftPorts[i - 1])
          .append(':')
          .append(apiPorts[i - 1]);
    }
    return sb.toString();
  }

  /** Launches node {@code node}'s JVM; does not wait for it to be ready. */
  public Process startNode(int node) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx512m");
    cmd.add("-XX:+UseSerialGC");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("io.cairn.node.Main");
    Path config = nodeConfigFiles.getOrDefault(node, configFile);
    if (config != null) {
      cmd.add("--config");
      cmd.add(config.toString());
    }
    cmd.add("--set");
    cmd.add("node.id=n" + node);
    cmd.add("--set");
    cmd.add("cluster.peers=" + (node <= initialMembers ? peers(initialMembers) : peers(size)));
    if (node > initialMembers) {
      cmd.add("--set");
      cmd.add("cluster.join=1");
    }
    cmd.add("--set");
    cmd.add("node.data.dir=" + dataDir(node));
    cmd.add("--set");
    cmd.add("metrics.port=" + metricsPorts[node - 1]);
    cmd.add("--set");
    cmd.add("tls.ca.file=" + certs.resolve("ca.crt"));
    cmd.add("--set");
    cmd.add("raft.local.admin.port=" + ratisAdminPorts[node - 1]);
    cmd.add("--set");
    cmd.add("raft.local.client.port=" + ratisClientPorts[node - 1]);
    for (String kv : extraArgs) {
      cmd.add("--set");
      cmd.add(kv);
    }
    for (String kv : nodeArgs.getOrDefault(node, List.of())) {
      cmd.add("--set");
      cmd.add(kv);
    }
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.redirectOutput(ProcessBuilder.Redirect.appendTo(logFile(node).toFile()));
    Process p = pb.start();
    processes[node - 1] = p;
    return p;
  }

  /** SIGKILL: the node gets no chance to flush or say goodbye. */
  public void kill(int node) throws InterruptedException {
    Process p = processes[node - 1];
    if (p != null && p.isAlive()) {
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);
    }
    processes[node - 1] = null;
  }

  /** SIGTERM, as an operator's stop: the node hands leadership over and drains, then exits. */
  public void stop(int node) throws InterruptedException {
    Process p = processes[node - 1];
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
      }
    }
    processes[node - 1] = null;
  }

  public void restart(int node) throws Exception {
    kill(node);
    startNode(node);
  }

  public boolean isRunning(int node) {
    Process p = processes[node - 1];
    return p != null && p.isAlive();
  }

  public Process process(int node) {
    return processes[node - 1];
  }

  /** One node's own view of the cluster, or empty if it does not answer within 2 s. */
  public Optional<ClusterStatusResponse> status(int node) {
    try {
      return Optional.of(
          LedgerServiceGrpc.newBlockingStub(channel(node))
              .withDeadlineAfter(2, TimeUnit.SECONDS)
              .clusterStatus(ClusterStatusRequest.getDefaultInstance()));
    } catch (RuntimeException e) {
      // A restarted node is then dialled at the next poll, not after gRPC's growing backoff.
      channel(node).resetConnectBackoff();
      return Optional.empty();
    }
  }

  /** Waits until some running node reports itself leader; returns its number. */
  public int awaitLeader(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean anyRunning = false;
      for (int i = 1; i <= size; i++) {
        anyRunning |= isRunning(i);
      }
      if (!anyRunning) {
        throw new IllegalStateException("every node exited; logs in " + logDir);
      }
      for (int i = 1; i <= size; i++) {
        if (isRunning(i)) {
          Optional<ClusterStatusResponse> s = status(i);
          if (s.isPresent() && s.get().getRole().equals("LEADER")) {
            return i;
          }
        }
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no leader within " + timeout + "; logs in " + logDir);
  }

  /** Waits until every initial member answers ClusterStatus on its API port. */
  private void awaitServing(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    for (int i = 1; i <= initialMembers; i++) {
      awaitServing(i, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
    }
  }

  /**
   * Waits until node {@code node} answers ClusterStatus on its API port: its Raft server is up. Add
   * a new node as a member only then: while it is not, the leader's attempts to reach it fail, and
   * after about 30 failures Ratis waits 5 s between attempts.
   */
  public void awaitServing(int node, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (status(node).isEmpty()) {
      if (!isRunning(node)) {
        throw new IllegalStateException("n" + node + " exited; logs in " + logDir);
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("n" + node + " not serving within " + timeout);
      }
      Thread.sleep(100);
    }
  }

  /** Waits until every running node has applied at least {@code index}. */
  public void awaitApplied(long index, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean all = true;
      for (int i = 1; i <= size; i++) {
        if (isRunning(i)) {
          Optional<ClusterStatusResponse> s = status(i);
          all &= s.isPresent() && s.get().getAppliedIndex() >= index;
        }
      }
      if (all) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("nodes did not apply index " + index + " within " + timeout);
  }

  /**
   * Waits until every running node reports the same applied index, then asserts they report the
   * same state root (replicas at equal index must agree). Returns that index.
   */
  public long assertRootsAgree(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      java.util.Set<Long> indexes = new java.util.HashSet<>();
      java.util.Set<com.google.protobuf.ByteString> roots = new java.util.HashSet<>();
      for (int i = 1; i <= size; i++) {
        if (isRunning(i)) {
          Optional<ClusterStatusResponse> s = status(i);
          if (s.isEmpty()) {
            indexes.add(-1L);
            continue;
          }
          indexes.add(s.get().getAppliedIndex());
          roots.add(s.get().getStateRoot());
        }
      }
      if (indexes.size() == 1 && !indexes.contains(-1L)) {
        if (roots.size() != 1) {
          throw new AssertionError("nodes at index " + indexes + " report different roots");
        }
        return indexes.iterator().next();
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("applied indexes never converged: " + indexes);
      }
      Thread.sleep(50);
    }
  }

  public String log(int node) throws IOException {
    return Files.readString(logFile(node), StandardCharsets.UTF_8);
  }

  private synchronized ManagedChannel channel(int node) {
    if (channels[node - 1] == null) {
      try {
        channels[node - 1] =
            NettyChannelBuilder.forTarget(endpoint(node)).sslContext(clientTls("admin")).build();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
    return channels[node - 1];
  }

  // Ports come from below the kernel's ephemeral range (32768 and up on Linux by default).
  // A port the OS hands out for "port 0" can be taken by any outgoing connection in the time
  // between choosing it and the node binding it (seen: a node failed with "Address already in
  // use", its cluster had no majority, and a Watch test failed with no leader).
  private static final int PORT_BASE = 20_000;
  private static final int PORT_SPAN = 12_000;
  private static final java.util.concurrent.atomic.AtomicInteger NEXT_PORT =
      new java.util.concurrent.atomic.AtomicInteger(
          java.util.concurrent.ThreadLocalRandom.current().nextInt(PORT_SPAN));

  private static int freePort() throws IOException {
    for (int tries = 0; tries < PORT_SPAN; tries++) {
      int port = PORT_BASE + Math.floorMod(NEXT_PORT.getAndIncrement(), PORT_SPAN);
      try (ServerSocket s = new ServerSocket()) {
        s.bind(new java.net.InetSocketAddress("127.0.0.1", port));
        return port;
      } catch (IOException inUse) {
        // try the next one
      }
    }
    throw new IOException("no free port in " + PORT_BASE + "-" + (PORT_BASE + PORT_SPAN - 1));
  }

  @Override
  public void close() {
    try {
      for (int i = 1; i <= size; i++) {
        kill(i);
      }
      for (ManagedChannel c : channels) {
        if (c != null) {
          c.shutdownNow();
          c.awaitTermination(2, TimeUnit.SECONDS);
        }
      }
    } catch (InterruptedException e) {
      for (Process p : processes) {
        if (p != null) {
          p.destroyForcibly();
        }
      }
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "LocalCluster(" + name + ", " + size + " nodes)";
  }
}
