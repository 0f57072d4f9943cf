package io.cairn.cli;

import io.cairn.cli.bench.BenchCmd;
import io.cairn.cli.bench.BenchWatchCmd;
import io.cairn.client.CairnException;
import io.cairn.client.OutcomeUnknownException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * cairnctl: Cairn's command line, built on the client library. This class is the root command
 * (global options, exit codes, error handling); each command group lives in its own file.
 */
@Command(
    name = "cairnctl",
    mixinStandardHelpOptions = true,
    // Every subcommand inherits --help and --version, so 'cairnctl COMMAND --help' works.
    scope = ScopeType.INHERIT,
    version = "cairnctl 0.1.0",
    description = "Talks to a Cairn ledger cluster.",
    subcommands = {
      AccountCmds.AccountCmd.class,
      SupplyCmds.MintCmd.class,
      SupplyCmds.BurnCmd.class,
      TransferCmds.TransferCmd.class,
      RoleCmds.RoleCmd.class,
      KeyCmds.KeyCmd.class,
      SummaryCmd.class,
      ClusterCmds.ClusterCmd.class,
      CertCmds.CertCmd.class,
      SnapshotCmds.SnapshotCmd.class,
      WatchCmd.class,
      BenchCmd.class,
      BenchWatchCmd.class,
      FuzzCmd.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:done; for writes, the ledger answered OK",
      "1:the ledger answered a result code other than OK (printed); cert: a file exists or is missing",
      "2:bad command-line input",
      "3:the cluster could not be reached or refused the call",
      "4:outcome unknown: the write may or may not be applied; look it up by id",
      "5:watch: the entries asked for are compacted on every node",
      "6:snapshot: the backup is corrupt, or the restore target is not usable"
    })
public final class Cairnctl {
  public static final int OK = 0;
  public static final int LEDGER_CODE = 1;
  public static final int USAGE = 2;
  public static final int TRANSPORT = 3;
  public static final int UNKNOWN = 4;

  /** Options every command takes. */
  static final class Global {
    @Option(
        names = "--endpoint",
        paramLabel = "HOST:PORT",
        scope = ScopeType.INHERIT,
        description =
            "A node's API endpoint (repeatable; default the local cluster's three). Writes and"
                + " linearizable reads follow the leader; --stale reads ask the first.")
    List<String> endpoints = new ArrayList<>();

    @Option(
        names = "--json",
        scope = ScopeType.INHERIT,
        description = "Print one JSON value on stdout instead of text.")
    boolean json;

    @Option(
        names = "--timeout",
        paramLabel = "SECONDS",
        scope = ScopeType.INHERIT,
        defaultValue = "15",
        description = "Give up (with retries) after this long (default ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(
        names = "--certs-dir",
        paramLabel = "DIR",
        scope = ScopeType.INHERIT,
        defaultValue = "${env:CAIRN_CERTS:-certs}",
        description =
            "Folder with ca.crt and client.<user>.crt/.key (default $CAIRN_CERTS, else ./certs;"
                + " scripts/cairnctl points it at the local cluster's).")
    Path certsDir;

    @Option(
        names = "--user",
        paramLabel = "NAME",
        scope = ScopeType.INHERIT,
        defaultValue = "${env:CAIRN_USER:-admin}",
        description =
            "Connect as this principal: use client.NAME.crt (default $CAIRN_USER, else admin).")
    String user;

    @Option(
        names = "--plaintext",
        scope = ScopeType.INHERIT,
        description = "No TLS: only for nodes started with tls.enabled=0 (benchmarks).")
    boolean plaintext;

    Transport transport() {
      return new Transport(certsDir, user, plaintext);
    }
  }

  // Inherited options are bound here, on the root, wherever on the line they are given.
  @CommandLine.Mixin Global global = new Global();

  private Cairnctl() {}

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** The whole command tree, as {@link #run} parses with it. */
  static CommandLine commandLine() {
    return new CommandLine(new Cairnctl());
  }

  static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = commandLine();
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(e -> e instanceof CairnException ? TRANSPORT : USAGE);
    cl.setParameterExceptionHandler(
        (e, a) -> {
          err.println("cairnctl: " + e.getMessage());
          err.println("(see: " + e.getCommandLine().getCommandSpec().qualifiedName() + " --help)");
          return USAGE;
        });
    cl.setExecutionExceptionHandler((e, commandLine, parsed) -> exitCodeOf(e, err));
    return cl.execute(args);
  }

  /** Prints one line for a command's failure and returns the exit code it stands for. */
  private static int exitCodeOf(Exception e, PrintWriter err) {
    if (e instanceof OutcomeUnknownException u) {
      err.println("cairnctl: " + u.getMessage());
      for (String id : u.operationIds()) {
        err.println("look it up with: cairnctl transfer get " + id);
      }
      for (io.cairn.proto.Operation op : u.operations()) {
        if (op.hasTransfer()) {
          err.println(
              "or retry it (applied at most once): the same command with --id "
                  + op.getId()
                  + " --created-at "
                  + op.getCreatedAtMillis());
        }
      }
      return UNKNOWN;
    }
    if (e instanceof CairnException c) {
      err.println("cairnctl: " + c.getMessage());
      return TRANSPORT;
    }
    if (e instanceof IllegalArgumentException) {
      err.println("cairnctl: " + e.getMessage());
      return USAGE;
    }
    err.println("cairnctl: " + e);
    return TRANSPORT;
  }

  /** An amount as the command line gives it: unsigned 64-bit decimal, greater than 0. */
  static long amount(String raw) {
    try {
      long v = Long.parseUnsignedLong(raw);
      if (v == 0) {
        throw new IllegalArgumentException("amount must be greater than 0");
      }
      return v;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "amount '" + raw + "' is not an unsigned 64-bit decimal (0 < amount < 2^64)");
    }
  }
}
