package io.cairn.cli.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The local cluster's processes, as {@code scripts/cluster} runs them: node {@code nN}'s pid is in
 * {@code <run>/nN.pid} and its metrics on 127.0.0.1 port {@code metricsBase + N}. Signals go only
 * to a process whose command line is a Cairn node's; restarts and rolls go through the cluster
 * script, each bounded in time.
 */
final class NodeControl {
  private static final Pattern NODE_ID = Pattern.compile("n([1-9])");
  private static final Pattern LEADER_CHANGES =
      Pattern.compile(
          "^cairn_raft_leader_changes_total(?:\\{[^}]*\\})?\\s+([0-9.eE+-]+)\\s*$",
          Pattern.MULTILINE);
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(2);

  private final Path runDir;
  private final Path clusterScript;
  private final int metricsBase;
  private final PrintWriter err;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();

  NodeControl(Path runDir, Path clusterScript, int metricsBase, PrintWriter err) {
    this.runDir = runDir;
    this.clusterScript = clusterScript;
    this.metricsBase = metricsBase;
    this.err = err;
  }

  /** N of a node id {@code nN}. */
  static int number(String nodeId) {
    Matcher m = NODE_ID.matcher(nodeId);
    if (!m.matches()) {
      throw new IllegalArgumentException("not a local node id (n1..n9): " + nodeId);
    }
    return Integer.parseInt(m.group(1));
  }

  /** The running Cairn node process of {@code nodeId}. */
  ProcessHandle process(String nodeId) throws IOException {
    Path pidFile = runDir.resolve(nodeId + ".pid");
    long pid = Long.parseLong(Files.readString(pidFile).trim());
    Path cmdline = Path.of("/proc", Long.toString(pid), "cmdline");
    String cmd = Files.isReadable(cmdline) ? Files.readString(cmdline) : "";
    ProcessHandle p = ProcessHandle.of(pid).orElse(null);
    if (p == null || !p.isAlive() || !cmd.contains("io.cairn.node.Main")) {
      throw new IllegalStateException(
          nodeId + " (pid " + pid + " in " + pidFile + ") is not a running Cairn node");
    }
    return p;
  }

  /**
   * SIGKILL to {@code nodeId}: hands {@code signalled} the nanoTime right after the signal was
   * sent, at once, then waits for the process to be gone. (The wait can take a second: the JDK
   * polls a process that is not its child. A fault recorded only after it missed every
   * acknowledgement of that second, and the first measurements read about one second too long.)
   */
  void kill(String nodeId, java.util.function.LongConsumer signalled)
      throws IOException, InterruptedException {
    ProcessHandle p = process(nodeId);
    if (!p.destroyForcibly()) {
      throw new IllegalStateException("could not send SIGKILL to " + nodeId);
    }
    signalled.accept(System.nanoTime());
    p.onExit().orTimeout(10, TimeUnit.SECONDS).join();
  }

  /**
   * Sends {@code signal} (STOP or CONT) to {@code nodeId} with kill(1); returns the nanoTime once
   * kill(1) has exited (the signal was delivered by then).
   */
  long signal(String nodeId, String signal) throws IOException, InterruptedException {
    long pid = process(nodeId).pid();
    Process k = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
    if (!k.waitFor(5, TimeUnit.SECONDS) || k.exitValue() != 0) {
      k.destroyForcibly();
      throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
    }
    return System.nanoTime();
  }

  /**
   * Runs the cluster script with {@code args}, at most {@code timeoutSeconds}, its output (both
   * streams) copied to stderr as " | line" and each line also handed to {@code onLine}.
   *
   * @throws IllegalStateException if it failed or timed out (then it is killed)
   */
  void script(List<String> args, long timeoutSeconds, Consumer<String> onLine)
      throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>();
    cmd.add(clusterScript.toString());
    cmd.addAll(args);
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line = r.readLine(); line != null; line = r.readLine()) {
                  onLine.accept(line);
                  synchronized (err) {
                    err.println("  | " + line);
                    err.flush();
                  }
                }
              } catch (IOException e) {
                // the process went away; its exit status says the rest
              }
            },
            "cluster-script-output");
    reader.setDaemon(true);
    reader.start();
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(cmd + " did not finish within " + timeoutSeconds + " s");
    }
    reader.join(2_000);
    if (p.exitValue() != 0) {
      throw new IllegalStateException(cmd + " failed (exit " + p.exitValue() + ")");
    }
  }

  /** {@code nodeId}'s cairn.raft.leader.changes counter, or -1 if its metrics did not answer. */
  long leaderChanges(String nodeId) throws InterruptedException {
    URI uri = URI.create("http://127.0.0.1:" + (metricsBase + number(nodeId)) + "/metrics");
    try {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(uri).timeout(HTTP_TIMEOUT).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      return r.statusCode() == 200 ? parseLeaderChanges(r.body()) : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  /** The leader-change counter in a Prometheus text page, or -1 if it is not there. */
  static long parseLeaderChanges(String prometheusText) {
    Matcher m = LEADER_CHANGES.matcher(prometheusText);
    return m.find() ? (long) Double.parseDouble(m.group(1)) : -1;
  }
}
