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
        "Move AMOUNT from FROM to TO. Running it again with the same --id is a retry: it",
        "returns the first result and is applied once. 'transfer get ID' looks an id up."
      },
      subcommands = {TransferGet.class})
  static final class TransferCmd extends CliCommand {
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
      long a = Cairnctl.amount(amount);
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
                : id + ": not found (never applied, or older than the dedupe window)";
        emit(human + "\n" + Views.stampText(r.getStamp()), j);
        return r.getFound() ? Cairnctl.OK : Cairnctl.LEDGER_CODE;
      }
    }
  }
}
