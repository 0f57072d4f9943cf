package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ResultCode;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;

/**
 * Base of every cairnctl command: the global options (--endpoint, --json, --timeout, given anywhere
 * on the line and bound on the root), a client built from them, and output in text or JSON. Public
 * because the bench commands ({@code io.cairn.cli.bench}) extend it.
 */
public abstract class CliCommand implements Callable<Integer> {
  /** The local cluster's API endpoints, used when no --endpoint is given. */
  public static final List<String> LOCAL_CLUSTER =
      List.of("127.0.0.1:7201", "127.0.0.1:7202", "127.0.0.1:7203");

  @CommandLine.Spec protected CommandLine.Model.CommandSpec spec;

  private Cairnctl.Global global() {
    return ((Cairnctl) spec.root().userObject()).global;
  }

  /** The --endpoint values given, or {@code defaults} when there are none. */
  protected List<String> endpoints(List<String> defaults) {
    return global().endpoints.isEmpty() ? defaults : global().endpoints;
  }

  /** The --endpoint values given, or the local cluster's three. */
  protected List<String> endpoints() {
    return endpoints(LOCAL_CLUSTER);
  }

  /** --timeout: how long a call may take, retries included. */
  protected double timeoutSeconds() {
    return global().timeoutSeconds;
  }

  /** --json: print one JSON value instead of text. */
  protected boolean json() {
    return global().json;
  }

  /** --certs-dir, --user, --plaintext: how to reach the nodes. */
  protected Transport transport() {
    return global().transport();
  }

  /** A client builder on this command's transport (TLS as --user unless --plaintext). */
  protected io.cairn.client.CairnClientBuilder clientBuilder() {
    return transport().apply(CairnClient.builder());
  }

  protected CairnClient client() {
    long millis = Math.max(1, (long) (timeoutSeconds() * 1000));
    return clientBuilder()
        .endpoints(endpoints())
        .totalTimeout(Duration.ofMillis(millis))
        .attemptTimeout(Duration.ofMillis(Math.min(millis, 3000)))
        .build();
  }

  protected PrintWriter out() {
    return spec.commandLine().getOut();
  }

  protected PrintWriter err() {
    return spec.commandLine().getErr();
  }

  /** Prints {@code human}, or with --json the JSON value {@code json}, on stdout. */
  protected void emit(String human, Object json) {
    out().println(json() ? Json.write(json) : human);
  }

  int result(OperationResult r, String what) {
    Map<String, Object> j = Json.object();
    j.put("id", r.getId());
    j.put("code", r.getCode().name());
    j.put("replayed", r.getReplayed());
    j.put("applied_index", Json.u64(r.getAppliedIndex()));
    String human =
        what
            + ": "
            + r.getCode().name()
            + (r.getReplayed() ? " (replayed: first result)" : "")
            + "  [id "
            + r.getId()
            + ", index "
            + Long.toUnsignedString(r.getAppliedIndex())
            + "]";
    emit(human, j);
    return r.getCode() == ResultCode.OK ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
  }

  /** For a group command given without its subcommand: a usage error (exit 2). */
  abstract static class Group implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }
  }
}
