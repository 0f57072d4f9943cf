package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.client.Ops;
import io.cairn.client.OutcomeUnknownException;
import io.cairn.proto.Account;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.Consistency;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.LedgerSummary;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.MembershipResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Stamp;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ScopeType;

/** cairnctl: Cairn's command line, built on the client library. */
@Command(
    name = "cairnctl",
    mixinStandardHelpOptions = true,
    // Every subcommand inherits --help and --version, so 'cairnctl COMMAND --help' works.
    scope = ScopeType.INHERIT,
    version = "cairnctl 0.1.0",
    description = "Talks to a Cairn ledger cluster.",
    subcommands = {
      Cairnctl.AccountCmd.class,
      Cairnctl.MintCmd.class,
      Cairnctl.BurnCmd.class,
      Cairnctl.TransferCmd.class,
      Cairnctl.SummaryCmd.class,
      Cairnctl.ClusterCmd.class,
      WatchCmd.class,
      BenchCmd.class,
      BenchWatchCmd.class
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:done; for writes, the ledger answered OK",
      "1:the ledger answered a result code other than OK (printed)",
      "2:bad command-line input",
      "3:the cluster could not be reached or refused the call",
      "4:outcome unknown: the write may or may not be applied; look it up by id",
      "5:watch: the entries asked for are compacted on every node"
    })
public final class Cairnctl {
  static final int OK = 0;
  static final int LEDGER_CODE = 1;
  static final int USAGE = 2;
  static final int TRANSPORT = 3;
  static final int UNKNOWN = 4;

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
  }

  // Inherited options are bound here, on the root, wherever on the line they are given.
  @CommandLine.Mixin Global global = new Global();

  private Cairnctl() {}

  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cl = new CommandLine(new Cairnctl());
    cl.setOut(out);
    cl.setErr(err);
    cl.setExitCodeExceptionMapper(e -> e instanceof CairnException ? TRANSPORT : USAGE);
    cl.setParameterExceptionHandler(
        (e, a) -> {
          err.println("cairnctl: " + e.getMessage());
          err.println("(see: cairnctl " + e.getCommandLine().getCommandName() + " --help)");
          return USAGE;
        });
    cl.setExecutionExceptionHandler(
        (e, commandLine, parsed) -> {
          if (e instanceof OutcomeUnknownException u) {
            err.println("cairnctl: " + u.getMessage());
            for (String id : u.operationIds()) {
              err.println("look it up with: cairnctl transfer get " + id);
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
        });
    return cl.execute(args);
  }

  /** Base of every command: the global options, a client, and output in text or JSON. */
  abstract static class Base implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    Global global() {
      return ((Cairnctl) spec.root().userObject()).global;
    }

    List<String> endpoints() {
      return global().endpoints.isEmpty()
          ? List.of("127.0.0.1:7201", "127.0.0.1:7202", "127.0.0.1:7203")
          : global().endpoints;
    }

    CairnClient client() {
      long millis = Math.max(1, (long) (global().timeoutSeconds * 1000));
      return CairnClient.builder()
          .endpoints(endpoints())
          .totalTimeout(Duration.ofMillis(millis))
          .attemptTimeout(Duration.ofMillis(Math.min(millis, 3000)))
          .build();
    }

    PrintWriter out() {
      return spec.commandLine().getOut();
    }

    void emit(String human, Object json) {
      out().println(global().json ? Json.write(json) : human);
    }

    int membership(String what, MembershipResponse r) {
      Map<String, Object> j = Json.object();
      List<Object> members = new ArrayList<>();
      StringBuilder human = new StringBuilder(what + "; members (term " + r.getTerm() + "):");
      for (var m : r.getMembersList()) {
        Map<String, Object> mj = Json.object();
        mj.put("id", m.getId());
        mj.put("raft_address", m.getRaftAddress());
        mj.put("api_endpoint", m.getApiEndpoint());
        members.add(mj);
        human.append(System.lineSeparator())
            .append("  ").append(m.getId()).append("  raft ").append(m.getRaftAddress())
            .append("  api ").append(m.getApiEndpoint());
      }
      j.put("members", members);
      j.put("term", Json.u64(r.getTerm()));
      emit(human.toString(), j);
      return OK;
    }

    int result(OperationResult r, String what) {
      Map<String, Object> j = Json.object();
      j.put("id", r.getId());
      j.put("code", r.getCode().name());
      j.put("replayed", r.getReplayed());
      j.put("applied_index", Json.u64(r.getAppliedIndex()));
      String human =
          what + ": " + r.getCode().name() + (r.getReplayed() ? " (replayed: first result)" : "")
              + "  [id " + r.getId() + ", index " + Long.toUnsignedString(r.getAppliedIndex())
              + "]";
      emit(human, j);
      return r.getCode() == ResultCode.OK ? OK : LEDGER_CODE;
    }
  }

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

  static Map<String, Object> accountJson(Account a) {
    Map<String, Object> j = Json.object();
    j.put("id", a.getId());
    j.put("balance", Json.u64(a.getBalance()));
    j.put("version", Json.u64(a.getVersion()));
    return j;
  }

  static Map<String, Object> stampJson(Stamp s) {
    Map<String, Object> j = Json.object();
    j.put("node_id", s.getNodeId());
    j.put("applied_index", Json.u64(s.getAppliedIndex()));
    j.put("term", Json.u64(s.getTerm()));
    j.put("state_root", Json.hex(s.getStateRoot()));
    return j;
  }

  static String shortRoot(com.google.protobuf.ByteString root) {
    String h = Json.hex(root);
    return h.length() > 12 ? h.substring(0, 12) : h;
  }

  static String stampText(Stamp s) {
    return "served by " + s.getNodeId() + " at index " + Long.toUnsignedString(s.getAppliedIndex())
        + ", root " + shortRoot(s.getStateRoot());
  }

  // ---- account ----

  @Command(
      name = "account",
      description = "Create, read and list accounts.",
      subcommands = {AccountCreate.class, AccountGet.class, AccountList.class})
  static final class AccountCmd implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }
  }

  @Command(name = "create", description = "Create an account with balance 0.")
  static final class AccountCreate extends Base {
    @Parameters(paramLabel = "ID", description = "1-64 characters of [A-Za-z0-9._:-]")
    String id;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        return result(c.createAccount(id), "create " + id);
      }
    }
  }

  @Command(name = "get", description = "Show an account (linearizable read by default).")
  static final class AccountGet extends Base {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(names = "--stale", description = "Serve from the asked node without a leader round.")
    boolean stale;

    @Option(
        names = "--min-index",
        paramLabel = "N",
        description = "Wait until the node has applied index N (read-your-writes).")
    long minIndex;

    @Option(names = "--verify", description = "Check the Merkle proof against the reply's root.")
    boolean verify;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        GetAccountResponse r;
        if (verify) {
          r = c.verifiedAccount(id);
        } else {
          r =
              c.getAccount(
                  id,
                  ReadOptions.newBuilder()
                      .setConsistency(stale ? Consistency.STALE : Consistency.LINEARIZABLE)
                      .setMinAppliedIndex(minIndex)
                      .build());
        }
        Map<String, Object> j = Json.object();
        j.put("found", r.getFound());
        if (r.getFound()) {
          j.putAll(accountJson(r.getAccount()));
        } else {
          j.put("id", id);
        }
        j.put("stamp", stampJson(r.getStamp()));
        if (verify) {
          j.put("proof", "verified");
        }
        String human =
            (r.getFound()
                    ? id + ": balance " + Long.toUnsignedString(r.getAccount().getBalance())
                        + ", version " + Long.toUnsignedString(r.getAccount().getVersion())
                    : id + ": no such account")
                + "\n" + stampText(r.getStamp())
                + (verify
                    ? "\nproof verified against root " + Json.hex(r.getStamp().getStateRoot())
                        + " at index " + Long.toUnsignedString(r.getStamp().getAppliedIndex())
                    : "");
        emit(human, j);
        return r.getFound() ? OK : LEDGER_CODE;
      }
    }
  }

  @Command(name = "list", description = "List accounts in id order, one page at a time.")
  static final class AccountList extends Base {
    @Option(names = "--after", paramLabel = "ID", description = "Start after this id.")
    String after = "";

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100")
    int limit;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        ListAccountsResponse r = c.listAccounts(after, limit);
        List<Object> accounts = new ArrayList<>();
        StringBuilder human = new StringBuilder();
        for (Account a : r.getAccountsList()) {
          accounts.add(accountJson(a));
          human.append(String.format("%-30s %20s  v%s%n", a.getId(),
              Long.toUnsignedString(a.getBalance()), Long.toUnsignedString(a.getVersion())));
        }
        if (!r.getNextStartAfter().isEmpty()) {
          human.append("(more: --after ").append(r.getNextStartAfter()).append(")\n");
        }
        human.append(stampText(r.getStamp()));
        Map<String, Object> j = Json.object();
        j.put("accounts", accounts);
        j.put("next_start_after", r.getNextStartAfter());
        j.put("stamp", stampJson(r.getStamp()));
        emit(human.toString(), j);
        return OK;
      }
    }
  }

  // ---- mint, burn, transfer ----

  @Command(name = "mint", description = "Create new tokens in an account.")
  static final class MintCmd extends Base {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "AMOUNT")
    String amount;

    @Override
    public Integer call() {
      long a = amount(amount);
      try (CairnClient c = client()) {
        return result(c.mint(id, a), "mint " + amount + " to " + id);
      }
    }
  }

  @Command(name = "burn", description = "Destroy tokens held by an account.")
  static final class BurnCmd extends Base {
    @Parameters(index = "0", paramLabel = "ID")
    String id;

    @Parameters(index = "1", paramLabel = "AMOUNT")
    String amount;

    @Override
    public Integer call() {
      long a = amount(amount);
      try (CairnClient c = client()) {
        return result(c.burn(id, a), "burn " + amount + " from " + id);
      }
    }
  }

  @Command(
      name = "transfer",
      description = {
        "Move AMOUNT from FROM to TO. Running it again with the same --id is a retry: it",
        "returns the first result and is applied once. 'transfer get ID' looks an id up."
      },
      subcommands = {TransferGet.class})
  static final class TransferCmd extends Base {
    @Parameters(index = "0", paramLabel = "FROM", arity = "0..1")
    String from;

    @Parameters(index = "1", paramLabel = "TO", arity = "0..1")
    String to;

    @Parameters(index = "2", paramLabel = "AMOUNT", arity = "0..1")
    String amount;

    @Option(names = "--id", paramLabel = "ID", description = "Operation id (default: random).")
    String id;

    @Option(
        names = "--expect-version",
        paramLabel = "V",
        description = "Apply only if FROM is at version V (compare-and-set).")
    Long expectVersion;

    @Override
    public Integer call() {
      if (from == null || to == null || amount == null) {
        throw new IllegalArgumentException("usage: transfer FROM TO AMOUNT [--id ID]");
      }
      long a = amount(amount);
      String opId = id == null ? Ops.newId() : id;
      Operation op =
          expectVersion == null
              ? Ops.transfer(opId, from, to, a)
              : Ops.transfer(opId, from, to, a, expectVersion);
      try (CairnClient c = client()) {
        return result(c.single(op), "transfer " + amount + " " + from + " -> " + to);
      }
    }
  }

  @Command(name = "get", description = "Look up an operation by id (within the dedupe window).")
  static final class TransferGet extends Base {
    @Parameters(paramLabel = "ID")
    String id;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        GetTransferResponse r = c.getTransfer(id);
        Map<String, Object> j = Json.object();
        j.put("id", id);
        j.put("found", r.getFound());
        if (r.getFound()) {
          j.put("code", r.getResult().getCode().name());
          j.put("applied_index", Json.u64(r.getResult().getAppliedIndex()));
          j.put("operation", describe(r.getOperation()));
        }
        j.put("window_floor_millis", r.getWindowFloorMillis());
        j.put("stamp", stampJson(r.getStamp()));
        String human =
            r.getFound()
                ? id + ": " + describe(r.getOperation()) + " -> " + r.getResult().getCode()
                    + " at index " + Long.toUnsignedString(r.getResult().getAppliedIndex())
                : id + ": not found (never applied, or older than the dedupe window)";
        emit(human + "\n" + stampText(r.getStamp()), j);
        return r.getFound() ? OK : LEDGER_CODE;
      }
    }
  }

  static String describe(Operation op) {
    return switch (op.getKindCase()) {
      case CREATE_ACCOUNT -> "create " + op.getCreateAccount().getAccount();
      case MINT -> "mint " + Long.toUnsignedString(op.getMint().getAmount()) + " to "
          + op.getMint().getAccount();
      case BURN -> "burn " + Long.toUnsignedString(op.getBurn().getAmount()) + " from "
          + op.getBurn().getAccount();
      case TRANSFER -> "transfer " + Long.toUnsignedString(op.getTransfer().getAmount()) + " "
          + op.getTransfer().getFrom() + " -> " + op.getTransfer().getTo();
      default -> "unknown operation";
    };
  }

  // ---- summary, cluster ----

  @Command(name = "summary", description = "Ledger totals: accounts, minted, burned, balances.")
  static final class SummaryCmd extends Base {
    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        LedgerSummary s = c.summary();
        Map<String, Object> j = Json.object();
        j.put("account_count", Json.u64(s.getAccountCount()));
        j.put("total_minted", Json.u64(s.getTotalMinted()));
        j.put("total_burned", Json.u64(s.getTotalBurned()));
        j.put("total_balance", Json.u64(s.getTotalBalance()));
        boolean conserved = s.getTotalMinted() - s.getTotalBurned() == s.getTotalBalance();
        j.put("conserved", conserved);
        j.put("dedupe_entries", Json.u64(s.getDedupeEntries()));
        j.put("dedupe_floor_millis", s.getDedupeFloorMillis());
        j.put("stamp", stampJson(s.getStamp()));
        emit(
            String.format(
                "accounts %s, minted %s, burned %s, balances %s (%s)%nremembered ids %s%n%s",
                Long.toUnsignedString(s.getAccountCount()),
                Long.toUnsignedString(s.getTotalMinted()),
                Long.toUnsignedString(s.getTotalBurned()),
                Long.toUnsignedString(s.getTotalBalance()),
                conserved ? "conserved" : "NOT CONSERVED",
                Long.toUnsignedString(s.getDedupeEntries()),
                stampText(s.getStamp())),
            j);
        return conserved ? OK : LEDGER_CODE;
      }
    }
  }

  @Command(
      name = "cluster",
      description = "Cluster administration.",
      subcommands = {ClusterStatus.class, AddMember.class, RemoveMember.class})
  static final class ClusterCmd implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
      throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand");
    }
  }

  @Command(
      name = "status",
      description = {
        "Every member's own view: role, term, applied and commit index, state root.",
        "Warns when two nodes at the same applied index report different roots."
      })
  static final class ClusterStatus extends Base {
    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        ClusterStatusResponse any = c.status();
        List<ClusterStatusView.Row> rows = new ArrayList<>();
        for (var m : any.getMembersList()) {
          ClusterStatusResponse s;
          try {
            s = c.status(m.getApiEndpoint());
          } catch (CairnException e) {
            s = null;
          }
          rows.add(new ClusterStatusView.Row(m.getId(), m.getApiEndpoint(), s));
        }
        ClusterStatusView view = new ClusterStatusView(rows);
        emit(view.text(), view.json());
        return OK;
      }
    }
  }

  @Command(
      name = "add-member",
      description = {
        "Add a voting member. Start the new node first with cluster.join=1 (and its own",
        "cluster.peers entry); the leader sends it the log or a snapshot before it votes.",
        "Idempotent: re-running it after a timeout is safe."
      })
  static final class AddMember extends Base {
    @Parameters(index = "0", paramLabel = "ID", description = "The new node's node.id.")
    String id;

    @Parameters(index = "1", paramLabel = "RAFT_ADDRESS", description = "host:port of its Raft endpoint.")
    String raftAddress;

    @Parameters(index = "2", paramLabel = "API_ENDPOINT", description = "host:port of its API endpoint.")
    String apiEndpoint;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        return membership("added " + id, c.addMember(id, raftAddress, apiEndpoint));
      }
    }
  }

  @Command(
      name = "remove-member",
      description = {
        "Remove a member (the leader too: it steps down). Stop the removed node afterwards.",
        "Idempotent: removing an id that is not a member succeeds."
      })
  static final class RemoveMember extends Base {
    @Parameters(index = "0", paramLabel = "ID", description = "The member's node.id.")
    String id;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        return membership("removed " + id, c.removeMember(id));
      }
    }
  }
}
