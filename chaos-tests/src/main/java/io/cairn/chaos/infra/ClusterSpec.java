package io.cairn.chaos.infra;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * What {@link NodeContainers} starts: {@code nodeCount} containers of {@code image}, named and
 * reachable by alias {@code n1..nN} on one Docker network of their own.
 *
 * @param image a local image (never pulled), e.g. {@code cairn-node:test}
 * @param nodeCount how many nodes, 1 to {@link #MAX_NODES}
 * @param command the arguments passed to each node's entry point, by node name
 * @param env extra environment of each node, by node name
 * @param readyPort a TCP port each node listens on once it is ready (checked from the host at the
 *     node's IP); 0 to not wait
 * @param startupTimeout how long a node may take to start and be ready
 * @param callTimeout the bound on any one Docker call, exec or host command of the harness
 * @param files host files copied into each node's container before it starts, by node name: a map
 *     from the path inside the container to the file on the host (certificates, say)
 */
public record ClusterSpec(
    String image,
    int nodeCount,
    Function<String, List<String>> command,
    Function<String, Map<String, String>> env,
    int readyPort,
    Duration startupTimeout,
    Duration callTimeout,
    Function<String, Map<String, java.nio.file.Path>> files) {
  /** At most this many nodes: the engine's address pool hands each network a /28. */
  public static final int MAX_NODES = 9;

  /** Checks the values. */
  public ClusterSpec {
    Objects.requireNonNull(image, "image");
    Objects.requireNonNull(command, "command");
    Objects.requireNonNull(env, "env");
    Objects.requireNonNull(startupTimeout, "startupTimeout");
    Objects.requireNonNull(callTimeout, "callTimeout");
    Objects.requireNonNull(files, "files");
    if (nodeCount < 1 || nodeCount > MAX_NODES) {
      throw new IllegalArgumentException(
          "nodeCount must be in [1, " + MAX_NODES + "]: " + nodeCount);
    }
    if (readyPort < 0 || readyPort > 65_535) {
      throw new IllegalArgumentException("readyPort out of range: " + readyPort);
    }
  }

  /** {@code nodeCount} nodes of {@code image}, no arguments, 60 s to start, 30 s per call. */
  public static ClusterSpec of(String image, int nodeCount) {
    return new ClusterSpec(
        image,
        nodeCount,
        node -> List.of(),
        node -> Map.of(),
        0,
        Duration.ofSeconds(60),
        Duration.ofSeconds(30),
        node -> Map.of());
  }

  /** The same, with these per-node arguments. */
  public ClusterSpec withCommand(Function<String, List<String>> perNode) {
    return new ClusterSpec(
        image, nodeCount, perNode, env, readyPort, startupTimeout, callTimeout, files);
  }

  /** The same, with this per-node environment. */
  public ClusterSpec withEnv(Function<String, Map<String, String>> perNode) {
    return new ClusterSpec(
        image, nodeCount, command, perNode, readyPort, startupTimeout, callTimeout, files);
  }

  /** The same, waiting for each node to accept TCP connections on {@code port}. */
  public ClusterSpec withReadyPort(int port) {
    return new ClusterSpec(
        image, nodeCount, command, env, port, startupTimeout, callTimeout, files);
  }

  /** The same, copying these files into each node's container (container path to host file). */
  public ClusterSpec withFiles(Function<String, Map<String, java.nio.file.Path>> perNode) {
    return new ClusterSpec(
        image, nodeCount, command, env, readyPort, startupTimeout, callTimeout, perNode);
  }

  /** The same, with these timeouts. */
  public ClusterSpec withTimeouts(Duration startup, Duration call) {
    return new ClusterSpec(image, nodeCount, command, env, readyPort, startup, call, files);
  }

  /**
   * Environment that shifts a node's wall clock by {@code offset} with libfaketime (in the image);
   * monotonic clocks are left alone, so timers and timeouts inside the JVM still work.
   *
   * @param offset libfaketime's relative form, e.g. {@code "+5s"}, {@code "-2m"}
   */
  public static Map<String, String> clockSkewEnv(String offset) {
    return Map.of(
        "LD_PRELOAD", "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
        "FAKETIME", offset,
        "FAKETIME_DONT_FAKE_MONOTONIC", "1",
        "FAKETIME_DONT_RESET", "1");
  }
}
