package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.Operation;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairnctl transfer} and {@code cairnctl transfer get}. */
final class TransferCmds {
  private TransferCmds() {}

  @Command(
      name = "transfer",
      description = {
        "Move AMOUNT from FROM to TO. Running it again with the same --id and"
            + " --created-at is a retry: it returns the first result and is applied once."
            + " 'transfer get ID' looks an id up."
      },
      subcommands = {TransferGet.class, TransferVerify.class})
  static final class TransferCmd extends CliCommand {
    @Parameters(index = "0", paramLabel = "FROM", arity = "0..1")
    String from;

    @Parameters(index = "1", paramLabel = "TO", arity = "0..1")
    String to;

    @Parameters(index = "2", paramLabel = "AMOUNT", arity = "0..1")
    String amount;

    @Option(
        names = "--id",
        paramLabel = "ID",
        description = "Operation id (default: random); needs --created-at.")
    String id;

    @Option(
        names = "--created-at",
        paramLabel = "MILLIS",
        description = {
          "The transfer's creation time, ms since the epoch (with --id; e.g. $(date +%%s%%3N)).",
          "A retry passes the first call's id and time: it returns the first result"
              + " however long after and is never applied twice (one never applied that is"
              + " older than the dedupe window is EXPIRED, not taken as new)."
        })
    Long createdAt;

    @Option(
        names = "--expect-version",
        paramLabel = "V",
        description = "Apply only if FROM is at version V (compare-and-set).")
    Long expectVersion;

    @Option(
        names = "--sign-key",
        paramLabel = "FILE",
        description =
            "Sign the transfer with this Ed25519 private key (PEM, 'cairnctl key create').")
    java.nio.file.Path signKey;

    @Override
    public Integer call() {
      if (from == null || to == null || amount == null) {
        throw new IllegalArgumentException(
            "usage: transfer FROM TO AMOUNT [--id ID --created-at MILLIS]");
      }
      if ((id == null) != (createdAt == null)) {
        // An id alone would be stamped anew on every run: a retry after the ledger forgot the id
        // would apply a second time. The pair names the operation for good.
        throw new IllegalArgumentException(
            "--id and --created-at go together: a retry sends the first call's id and time"
                + " (e.g. T=$(date +%s%3N), then --id ID --created-at $T on every try)");
      }
      long a = Cairnctl.amount(amount);
      String opId = id == null ? Ops.newId() : id;
      long created = createdAt == null ? System.currentTimeMillis() : createdAt;
      Operation op = Ops.transfer(opId, created, from, to, a);
      if (expectVersion != null) {
        op =
            op.toBuilder()
                .setTransfer(op.getTransfer().toBuilder().setExpectedFromVersion(expectVersion))
                .build();
      }
      if (signKey != null) {
        try {
          op = Ops.signed(op, KeyCmds.readPrivate(signKey));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
      try (CairnClient c = client()) {
        return result(c.single(op), "transfer " + amount + " " + from + " -> " + to);
      }
    }
  }

  @Command(name = "get", description = "Look up an operation by id (within the dedupe window).")
  static final class TransferGet extends CliCommand {
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
          j.put("operation", Views.describe(r.getOperation()));
          j.put("principal", r.getPrincipal());
          j.put(
              "signature",
              java.util.Base64.getEncoder()
                  .encodeToString(r.getOperation().getSignature().toByteArray()));
        }
        j.put("window_floor_millis", r.getWindowFloorMillis());
        j.put("stamp", Views.stampJson(r.getStamp()));
        String human =
            r.getFound()
                ? id
                    + ": "
                    + Views.describe(r.getOperation())
                    + " -> "
                    + r.getResult().getCode()
                    + " at index "
                    + Long.toUnsignedString(r.getResult().getAppliedIndex())
                    + Views.byText(r.getPrincipal())
                    + (r.getOperation().getSignature().isEmpty()
                        ? ""
                        : " (signed; check it with: cairnctl transfer verify " + id + ")")
                : id + ": not found (never applied, or older than the dedupe window)";
        emit(human + "\n" + Views.stampText(r.getStamp()), j);
        return r.getFound() ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
      }
    }
  }

  @Command(
      name = "verify",
      description = {
        "Check a stored debit's signature offline: read the operation by id (transfer"
            + " get), then verify its Ed25519 signature here, against --public-key FILE or"
            + " else the debited account's key as a Merkle proof shows it. Exit 0 when it"
            + " verifies, 1 when it does not, is unsigned or is not found."
      })
  static final class TransferVerify extends CliCommand {
    @Parameters(paramLabel = "ID")
    String id;

    @Option(
        names = "--public-key",
        paramLabel = "FILE",
        description = "Verify against this key (PEM) instead of the account's.")
    java.nio.file.Path publicKey;

    @Override
    public Integer call() throws java.io.IOException {
      try (CairnClient c = client()) {
        GetTransferResponse r = c.getTransfer(id);
        if (!r.getFound()) {
          emit(id + ": not found", Map.of("id", id, "found", false));
          return Cairnctl.LEDGER_CODE;
        }
        Operation op = r.getOperation();
        String account = io.cairn.proto.signing.Signing.debitedAccount(op);
        if (account == null || op.getSignature().isEmpty()) {
          emit(
              id + ": " + Views.describe(op) + " carries no signature",
              Map.of("id", id, "signed", false));
          return Cairnctl.LEDGER_CODE;
        }
        byte[] key =
            publicKey != null
                ? KeyCmds.readPublic(publicKey).getEncoded()
                : c.verifiedAccount(account).getAccount().getPublicKey().toByteArray();
        boolean ok = io.cairn.proto.signing.Signing.verify(key, op);
        Map<String, Object> j = Json.object();
        j.put("id", id);
        j.put("operation", Views.describe(op));
        j.put("principal", r.getPrincipal());
        j.put("key_fingerprint", key.length == 0 ? "" : KeyCmds.fingerprint(key));
        j.put(
            "key_from",
            publicKey != null ? publicKey.toString() : "account " + account + " (proof-checked)");
        j.put("verified", ok);
        emit(
            id
                + ": "
                + Views.describe(op)
                + (ok ? ": signature VERIFIES" : ": signature DOES NOT VERIFY")
                + " against key "
                + (key.length == 0 ? "(none)" : KeyCmds.fingerprint(key))
                + " of "
                + (publicKey != null
                    ? publicKey.toString()
                    : "account " + account + " (proof-checked)"),
            j);
        return ok ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
      }
    }
  }
}
