package io.cairn.chaos.infra;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.model.ContainerNetwork;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.utility.DockerImageName;

/**
 * A cluster of node containers for Jepsen-style tests, and the faults the nemesis injects.
 *
 * <p>Nodes are named {@code n1..nN}; each is a container of its own, with that hostname and network
 * alias, on a Docker network created for this cluster. The host reaches a node at its container IP
 * on that network ({@link #address}); no port is published, so test traffic stays inside the test's
 * own network and never crosses a proxy. This needs a Linux host (the bridge is local); Docker
 * Desktop's VM would hide it.
 *
 * <p>Network faults are iptables rules written from the host into each node's network namespace
 * ({@code nsenter -t <pid> -n iptables-restore}), so the image needs no tools and the host must run
 * the tests as root. They cut traffic between nodes only: the host keeps reaching every node. They
 * are re-applied after {@link #start} (the restarted node has a fresh namespace, and may have a new
 * IP).
 *
 * <p>Every Docker call, exec and host command is bounded by the spec's call timeout; a node that
 * does not get ready in the startup timeout fails with its log tail. {@link #close} removes every
 * container and the network this object created, by ID (Ryuk is off). Methods are thread-safe.
 */
public final class NodeContainers implements AutoCloseable {
  private static final Duration READY_POLL = Duration.ofMillis(200);
  private static final int CONNECT_TIMEOUT_MILLIS = 500;
  private static final int LOG_TAIL_LINES = 60;

  private final ClusterSpec spec;
  private final DockerCalls calls = new DockerCalls();
  private final DockerClient client;
  private final Network network;
  private final String networkId;
  private final Map<String, String> containerIds = new LinkedHashMap<>();
  private final Map<String, String> ips = new ConcurrentHashMap<>();
  private final Set<String> paused = new HashSet<>();
  private final Set<String> down = new HashSet<>();
  private final Firewall firewall = new Firewall();
  private boolean closed;

  private NodeContainers(ClusterSpec spec) {
    this.spec = spec;
    DockerEngine.configure();
    this.client =
        calls.call(
            "connecting to Docker", spec.callTimeout(), DockerClientFactory.instance()::client);
    this.network = Network.newNetwork();
    this.networkId = calls.call("creating the network", spec.callTimeout(), network::getId);
  }

  /**
   * Creates the network and starts every node, each waited for until ready. On failure, whatever
   * was created is removed before the exception is thrown.
   */
  public static NodeContainers start(ClusterSpec spec) {
    NodeContainers cluster = new NodeContainers(spec);
    try {
      for (int i = 1; i <= spec.nodeCount(); i++) {
        cluster.create("n" + i);
      }
      for (String node : cluster.nodes()) {
        cluster.awaitReady(node);
      }
      return cluster;
    } catch (RuntimeException e) {
      try {
        cluster.close();
      } catch (RuntimeException cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  private void create(String node) {
    GenericContainer<?> container =
        new GenericContainer<>(DockerImageName.parse(spec.image()))
            .withImagePullPolicy(image -> false)
            .withNetwork(network)
            .withNetworkAliases(node)
            .withCreateContainerCmdModifier(cmd -> cmd.withHostName(node))
            .withEnv(spec.env().apply(node))
            .withCommand(spec.command().apply(node).toArray(String[]::new))
            .withStartupAttempts(1)
            .withStartupTimeout(spec.startupTimeout());
    spec.files()
        .apply(node)
        .forEach(
            (inside, host) ->
                container.withCopyFileToContainer(
                    org.testcontainers.utility.MountableFile.forHostPath(host, 0644), inside));
    // start() creates and starts; the ID is known even if a later step of start() fails.
    try {
      calls.run(
          "starting " + node, spec.startupTimeout().plus(spec.callTimeout()), container::start);
    } finally {
      String id = container.getContainerId();
      if (id != null) {
        synchronized (this) {
          containerIds.put(node, id);
        }
      }
    }
    refreshIp(node);
  }

  /** Node names, {@code n1..nN}. */
  public synchronized List<String> nodes() {
    return List.copyOf(containerIds.keySet());
  }

  /** The spec this cluster was started from. */
  public ClusterSpec spec() {
    return spec;
  }

  /** The Docker ID of a node's container. */
  public synchronized String containerId(String node) {
    String id = containerIds.get(node);
    if (id == null) {
      throw new IllegalArgumentException("no such node: " + node + " (nodes: " + nodes() + ")");
    }
    return id;
  }

  /** The node's IP on the cluster network (it may change when the node is restarted). */
  public String ip(String node) {
    containerId(node);
    String ip = ips.get(node);
    if (ip == null) {
      throw new ChaosInfraException(node + " has no IP: it is not running");
    }
    return ip;
  }

  /** Where the host reaches {@code port} of a node: its container IP, no published port. */
  public InetSocketAddress address(String node, int port) {
    return new InetSocketAddress(ip(node), port);
  }

  /** The host PID of the node's main process (the JVM), for nsenter and signals. */
  public long pid(String node) {
    Long pid = inspect(node).getState().getPidLong();
    if (pid == null || pid <= 0) {
      throw new ChaosInfraException(node + " has no process: it is not running");
    }
    return pid;
  }

  /** True when the node's container is running (paused counts as running). */
  public boolean isRunning(String node) {
    return Boolean.TRUE.equals(inspect(node).getState().getRunning());
  }

  // --- network faults ----------------------------------------------------------------------

  /** Cuts every link between {@code side} and the other nodes, replacing any earlier cuts. */
  public synchronized void partition(Set<String> side) {
    Set<String> rest = new HashSet<>(nodes());
    checkNodes(side);
    rest.removeAll(side);
    if (side.isEmpty() || rest.isEmpty()) {
      throw new IllegalArgumentException("a partition needs nodes on both sides: " + side);
    }
    partitionInto(List.of(side, rest));
  }

  /**
   * Splits the nodes into components that cannot reach each other, replacing any earlier cuts.
   * Nodes in no component keep every link.
   */
  public synchronized void partitionInto(List<Set<String>> components) {
    Set<String> seen = new HashSet<>();
    for (Set<String> component : components) {
      checkNodes(component);
      for (String node : component) {
        if (!seen.add(node)) {
          throw new IllegalArgumentException(node + " is in two components");
        }
      }
    }
    firewall.clearCuts();
    for (int i = 0; i < components.size(); i++) {
      for (int j = i + 1; j < components.size(); j++) {
        for (String a : components.get(i)) {
          for (String b : components.get(j)) {
            firewall.cut(a, b);
          }
        }
      }
    }
    applyFirewall(nodes());
  }

  /** Cuts the link between two nodes (both ways), keeping the other cuts: for bridges and rings. */
  public synchronized void cut(String a, String b) {
    checkNodes(List.of(a, b));
    firewall.cut(a, b);
    applyFirewall(List.of(a, b));
  }

  /** Cuts {@code node} off from every other node. */
  public void isolate(String node) {
    partition(Set.of(node));
  }

  /** Drops {@code percent} of the packets arriving at {@code node} at random; 0 stops it. */
  public synchronized void packetLoss(String node, int percent) {
    checkNodes(List.of(node));
    firewall.loss(node, percent);
    applyFirewall(List.of(node));
  }

  /** Restores every link and stops all packet loss. */
  public synchronized void heal() {
    firewall.clearCuts();
    firewall.clearLoss();
    applyFirewall(nodes());
  }

  private void applyFirewall(Collection<String> targets) {
    Map<String, String> ipOf = new TreeMap<>(ips);
    for (String node : targets) {
      if (down.contains(node) || !isRunning(node)) {
        continue; // no namespace (killed here, or exited by itself); start() applies the rules
      }
      try {
        HostCommand.runOrThrow(
            spec.callTimeout(),
            firewall.rulesFor(node, ipOf),
            List.of(
                "nsenter", "-t", Long.toString(pid(node)), "-n", "iptables-restore", "-w", "5"));
      } catch (ChaosInfraException e) {
        if (isRunning(node)) {
          throw e;
        }
        // It exited meanwhile (a node removed from the group exits): start() applies the rules.
      }
    }
  }

  // --- process faults ----------------------------------------------------------------------

  /** Freezes every process of the node (cgroup freezer); its sockets stay open. */
  public synchronized void pause(String node) {
    String id = containerId(node);
    if (paused.add(node)) {
      calls.run("pausing " + node, spec.callTimeout(), () -> client.pauseContainerCmd(id).exec());
    }
  }

  /** Thaws a paused node. */
  public synchronized void unpause(String node) {
    String id = containerId(node);
    if (paused.remove(node)) {
      calls.run(
          "unpausing " + node, spec.callTimeout(), () -> client.unpauseContainerCmd(id).exec());
    }
  }

  /** SIGKILLs the node's process; the container and its files stay, ready for {@link #start}. */
  public synchronized void kill9(String node) {
    String id = containerId(node);
    unpause(node);
    if (!isRunning(node)) { // exited by itself (a node removed from the group exits)
      down.add(node);
      ips.remove(node);
      return;
    }
    calls.run(
        "killing " + node,
        spec.callTimeout(),
        () -> client.killContainerCmd(id).withSignal("KILL").exec());
    awaitStopped(node);
    down.add(node);
    ips.remove(node);
  }

  /**
   * Starts a killed node again in the same container (its data survives), re-applies the network
   * faults in force to every node (its IP may have changed) and waits until it is ready.
   */
  public synchronized void start(String node) {
    String id = containerId(node);
    if (!down.contains(node) && isRunning(node)) {
      return; // neither killed here nor exited by itself (a node removed from the group exits)
    }
    calls.run("starting " + node, spec.callTimeout(), () -> client.startContainerCmd(id).exec());
    down.remove(node);
    refreshIp(node);
    applyFirewall(nodes());
    awaitReady(node);
  }

  // --- commands and logs ---------------------------------------------------------------------

  /**
   * Runs a command inside the node, killed at {@code timeout} (the exec's process is killed from
   * the host, so a probe that hangs on a paused peer cannot hang the test).
   */
  public ExecResult exec(String node, Duration timeout, String... command) {
    String id = containerId(node);
    String execId =
        calls.call(
            "creating exec in " + node,
            spec.callTimeout(),
            () ->
                client
                    .execCreateCmd(id)
                    .withCmd(command)
                    .withAttachStdout(true)
                    .withAttachStderr(true)
                    .exec()
                    .getId());
    Output output = new Output();
    calls.run(
        "starting exec in " + node,
        spec.callTimeout(),
        () -> client.execStartCmd(execId).exec(output));
    try {
      boolean finished = output.awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) {
        Long execPid =
            calls.call(
                "inspecting exec in " + node,
                spec.callTimeout(),
                () -> client.inspectExecCmd(execId).exec().getPidLong());
        if (execPid != null && execPid > 0) {
          HostCommand.run(spec.callTimeout(), null, List.of("kill", "-9", execPid.toString()));
        }
        return new ExecResult(ExecResult.TIMED_OUT, output.stdout(), output.stderr());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ChaosInfraException("interrupted during exec in " + node, e);
    } finally {
      output.closeQuietly();
    }
    Long exitCode =
        calls.call(
            "inspecting exec in " + node,
            spec.callTimeout(),
            () -> client.inspectExecCmd(execId).exec().getExitCodeLong());
    return new ExecResult(
        exitCode == null ? ExecResult.TIMED_OUT : exitCode.intValue(),
        output.stdout(),
        output.stderr());
  }

  /** The last {@code lines} lines of the node's output (stdout and stderr). */
  public String logs(String node, int lines) {
    String id = containerId(node);
    Output output = new Output();
    calls.run(
        "reading logs of " + node,
        spec.callTimeout(),
        () ->
            client
                .logContainerCmd(id)
                .withStdOut(true)
                .withStdErr(true)
                .withTail(lines)
                .exec(output));
    try {
      output.awaitCompletion(spec.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      output.closeQuietly();
    }
    return output.stdout() + output.stderr();
  }

  // --- cleanup -----------------------------------------------------------------------------

  /**
   * Removes every container and the network of this cluster, by ID, even after earlier failures;
   * throws at the end if anything could not be removed. Images are not this class's: see {@link
   * NodeImage#remove}.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    List<RuntimeException> failures = new ArrayList<>();
    for (Map.Entry<String, String> entry : containerIds.entrySet()) {
      String node = entry.getKey();
      String id = entry.getValue();
      try {
        if (paused.remove(node)) {
          calls.run(
              "unpausing " + node, spec.callTimeout(), () -> client.unpauseContainerCmd(id).exec());
        }
      } catch (RuntimeException e) {
        failures.add(e); // removal with force still works on a paused container in most engines
      }
      try {
        calls.run(
            "removing " + node,
            spec.callTimeout(),
            () -> client.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec());
      } catch (RuntimeException e) {
        failures.add(e);
      }
    }
    try {
      calls.run(
          "removing network " + networkId,
          spec.callTimeout(),
          () -> client.removeNetworkCmd(networkId).exec());
    } catch (RuntimeException e) {
      failures.add(e);
    }
    calls.close();
    if (!failures.isEmpty()) {
      ChaosInfraException failure =
          new ChaosInfraException("cleanup left something behind: " + failures.get(0).getMessage());
      failures.forEach(failure::addSuppressed);
      throw failure;
    }
  }

  // --- internals -----------------------------------------------------------------------------

  private InspectContainerResponse inspect(String node) {
    String id = containerId(node);
    return calls.call(
        "inspecting " + node, spec.callTimeout(), () -> client.inspectContainerCmd(id).exec());
  }

  private void refreshIp(String node) {
    ContainerNetwork attached = null;
    Map<String, ContainerNetwork> networks = inspect(node).getNetworkSettings().getNetworks();
    for (ContainerNetwork candidate : networks.values()) {
      if (networkId.equals(candidate.getNetworkID())) {
        attached = candidate;
      }
    }
    if (attached == null || attached.getIpAddress() == null || attached.getIpAddress().isEmpty()) {
      throw new ChaosInfraException(node + " has no address on network " + networkId);
    }
    ips.put(node, attached.getIpAddress());
  }

  private void checkNodes(Collection<String> names) {
    for (String name : names) {
      containerId(name);
    }
  }

  private void awaitReady(String node) {
    if (spec.readyPort() == 0) {
      return;
    }
    long deadline = System.nanoTime() + spec.startupTimeout().toNanos();
    while (true) {
      if (!isRunning(node)) {
        throw new ChaosInfraException(
            node + " exited while starting; last lines:\n" + logs(node, LOG_TAIL_LINES));
      }
      try (Socket socket = new Socket()) {
        socket.connect(address(node, spec.readyPort()), CONNECT_TIMEOUT_MILLIS);
        return;
      } catch (IOException e) {
        if (System.nanoTime() - deadline > 0) {
          throw new ChaosInfraException(
              node
                  + " did not accept connections on port "
                  + spec.readyPort()
                  + " within "
                  + spec.startupTimeout()
                  + "; last lines:\n"
                  + logs(node, LOG_TAIL_LINES),
              e);
        }
      }
      sleep(READY_POLL);
    }
  }

  private void awaitStopped(String node) {
    long deadline = System.nanoTime() + spec.callTimeout().toNanos();
    while (isRunning(node)) {
      if (System.nanoTime() - deadline > 0) {
        throw new ChaosInfraException(
            node + " still runs " + spec.callTimeout() + " after SIGKILL");
      }
      sleep(READY_POLL);
    }
  }

  private static void sleep(Duration duration) {
    try {
      Thread.sleep(duration.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ChaosInfraException("interrupted while waiting", e);
    }
  }

  /** Collects an exec's or a log's frames, bounded in size. */
  private static final class Output extends ResultCallback.Adapter<Frame> {
    private static final int LIMIT_BYTES = 1 << 20;
    private final StringBuilder stdout = new StringBuilder();
    private final StringBuilder stderr = new StringBuilder();

    @Override
    public void onNext(Frame frame) {
      StringBuilder target = frame.getStreamType() == StreamType.STDERR ? stderr : stdout;
      synchronized (this) {
        if (target.length() < LIMIT_BYTES) {
          target.append(new String(frame.getPayload(), StandardCharsets.UTF_8));
        }
      }
    }

    synchronized String stdout() {
      return stdout.toString();
    }

    synchronized String stderr() {
      return stderr.toString();
    }

    void closeQuietly() {
      try {
        close();
      } catch (IOException e) {
        // Nothing left to read; the stream is abandoned either way.
      }
    }
  }
}
