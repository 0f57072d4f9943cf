package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.proto.Account;
import io.cairn.proto.Consistency;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.ListTransfersRequest;
import io.cairn.proto.ListTransfersResponse;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.StatementLine;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairnctl account create|get|list|statement}. */
final class AccountCmds {
  private AccountCmds() {}

  @Command(
      name = "account",
      description = "Create, read and list accounts; show an account's statement.",
      subcommands = {
        AccountCreate.class,
        AccountGet.class,
        AccountList.class,
        AccountStatement.class
      })
  static final class AccountCmd extends CliCommand.Group {}

  @Command(
      name = "create",
      description = {
        "Create an account with balance 0 (admin or issuer), owned by --owner or else"
            + " by the principal that runs the command; its owner, with any role, may"
            + " transfer from it."
      })
  static final class AccountCreate extends CliCommand {
    @Parameters(paramLabel = "ID", description = "1-64 characters of [A-Za-z0-9._:-]")
    String id;

    @Option(
        names = "--owner",
        paramLabel = "PRINCIPAL",
        description = "The owner's certificate CN (default: yours).")
    String owner = "";

    @Option(
        names = "--public-key",
        paramLabel = "FILE",
        description = "Ed25519 public key of the account (PEM, from 'cairnctl key create').")
    java.nio.file.Path publicKey;

    @Option(
        names = "--require-signatures",
        description = "Every debit from the account must be signed by --public-key's key.")
    boolean requireSignatures;

    @Override
    public Integer call() throws java.io.IOException {
      if (requireSignatures && publicKey == null) {
        throw new IllegalArgumentException("--require-signatures needs --public-key FILE");
      }
      try (CairnClient c = client()) {
        String what = "create " + id + (owner.isEmpty() ? "" : " (owner " + owner + ")");
        if (publicKey == null) {
          return result(c.createAccount(id, owner), what);
        }
        java.security.PublicKey key = KeyCmds.readPublic(publicKey);
        what +=
            ", key "
                + KeyCmds.fingerprint(key)
                + (requireSignatures ? ", signatures required" : "");
        return result(
            c.single(
                io.cairn.client.Ops.createAccount(
                    io.cairn.client.Ops.newId(), id, owner, key, requireSignatures)),
            what);
      }
    }
  }

  @Command(name = "get", description = "Show an account (linearizable read by default).")
  static final class AccountGet extends CliCommand {
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
        GetAccountResponse r = verify ? c.verifiedAccount(id) : c.getAccount(id, readOptions());
        emit(text(r), json(r));
        return r.getFound() ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
      }
    }

    private ReadOptions readOptions() {
      return ReadOptions.newBuilder()
          .setConsistency(stale ? Consistency.STALE : Consistency.LINEARIZABLE)
          .setMinAppliedIndex(minIndex)
          .build();
    }

    private String text(GetAccountResponse r) {
      return (r.getFound()
              ? id
                  + ": balance "
                  + Long.toUnsignedString(r.getAccount().getBalance())
                  + ", version "
                  + Long.toUnsignedString(r.getAccount().getVersion())
                  + ", owner "
                  + Views.ownerText(r.getAccount())
              : id + ": no such account")
          + "\n"
          + Views.stampText(r.getStamp())
          + (verify
              ? "\nproof verified against root "
                  + Json.hex(r.getStamp().getStateRoot())
                  + " at index "
                  + Long.toUnsignedString(r.getStamp().getAppliedIndex())
              : "");
    }

    private Map<String, Object> json(GetAccountResponse r) {
      Map<String, Object> j = Json.object();
      j.put("found", r.getFound());
      if (r.getFound()) {
        j.putAll(Views.accountJson(r.getAccount()));
      } else {
        j.put("id", id);
      }
      j.put("stamp", Views.stampJson(r.getStamp()));
      if (verify) {
        j.put("proof", "verified");
      }
      return j;
    }
  }

  @Command(name = "list", description = "List accounts in id order, one page at a time.")
  static final class AccountList extends CliCommand {
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
          accounts.add(Views.accountJson(a));
          human.append(
              String.format(
                  "%-30s %20s  v%-6s owner %s%n",
                  a.getId(),
                  Long.toUnsignedString(a.getBalance()),
                  Long.toUnsignedString(a.getVersion()),
                  Views.ownerText(a)));
        }
        if (!r.getNextStartAfter().isEmpty()) {
          human.append("(more: --after ").append(r.getNextStartAfter()).append(")\n");
        }
        human.append(Views.stampText(r.getStamp()));
        Map<String, Object> j = Json.object();
        j.put("accounts", accounts);
        j.put("next_start_after", r.getNextStartAfter());
        j.put("stamp", Views.stampJson(r.getStamp()));
        emit(human.toString(), j);
        return Cairnctl.OK;
      }
    }
  }

  @Command(
      name = "statement",
      description = {
        "Show an account's statement: the operations that changed it (creation, mints,"
            + " burns, transfers in and out) in log order, each with the balance after it, a"
            + " page at a time."
      })
  static final class AccountStatement extends CliCommand {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(
        names = "--since",
        paramLabel = "T",
        description = "Lines at or after ledger time T: epoch millis or an ISO-8601 instant.")
    String since;

    @Option(
        names = "--from-index",
        paramLabel = "N",
        description = "Lines at log index N or later.")
    long fromIndex;

    @Option(names = "--to-index", paramLabel = "N", description = "Lines at log index N or before.")
    long toIndex;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100")
    int limit;

    @Option(
        names = "--page",
        paramLabel = "TOKEN",
        description = "The next page, from the token the previous page printed.")
    String page = "";

    @Override
    public Integer call() {
      ListTransfersRequest request =
          ListTransfersRequest.newBuilder()
              .setAccount(id)
              .setFromIndex(fromIndex)
              .setToIndex(toIndex)
              .setSinceMillis(since == null ? 0 : Views.parseTime(since, "--since"))
              .setLimit(limit)
              .setPageToken(Views.parseHex(page, "--page"))
              .build();
      try (CairnClient c = client()) {
        ListTransfersResponse r = c.listTransfers(request);
        List<Object> lines = new ArrayList<>();
        StringBuilder human = new StringBuilder();
        for (StatementLine l : r.getLinesList()) {
          lines.add(Views.statementLineJson(l));
          human.append(Views.statementLineText(l)).append('\n');
        }
        String next = Json.hex(r.getNextPageToken());
        if (!next.isEmpty()) {
          human.append("(more: --page ").append(next).append(")\n");
        }
        human.append(Views.stampText(r.getStamp()));
        Map<String, Object> j = Json.object();
        j.put("account", id);
        j.put("lines", lines);
        j.put("next_page", next);
        j.put("stamp", Views.stampJson(r.getStamp()));
        emit(human.toString(), j);
        return Cairnctl.OK;
      }
    }
  }
}
