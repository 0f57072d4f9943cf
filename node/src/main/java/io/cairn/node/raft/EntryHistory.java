package io.cairn.node.raft;

import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.OpResult;
import io.cairn.node.store.HistoryStore;
import io.cairn.proto.Account;
import io.cairn.proto.DedupeRecord;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.StatementLine;
import java.io.IOException;
import java.util.List;

/**
 * What one applied log entry leaves in the {@link HistoryStore}: every operation the ledger
 * recorded (applied, or refused with a recorded result), a statement line for each account an
 * applied operation changed, with the account's balance right after it, and the entry's Watch event
 * when it has one. Built from the ledger's results alone, so every replica writes the same keys and
 * values.
 */
final class EntryHistory {
  private EntryHistory() {}

  static void write(
      HistoryStore store,
      LedgerCommand command,
      long index,
      long ledgerTimeMillis,
      List<List<OpResult>> perRequest,
      List<Caller> callers,
      List<List<List<Account>>> changes,
      WatchEvents.Encoded event)
      throws IOException {
    try (HistoryStore.Batch batch = store.begin(index, ledgerTimeMillis)) {
      if (event != null) {
        batch.watch(event.events(), event.encoded());
      }
      for (int r = 0; r < perRequest.size(); r++) {
        List<Operation> ops = command.requests().get(r).getOperationsList();
        List<OpResult> results = perRequest.get(r);
        String principal = callers.get(r).principal();
        for (int i = 0; i < results.size(); i++) {
          OpResult res = results.get(i);
          // Recorded ⟺ decided by this entry: a replay carries its first index, a refusal none.
          if (res.replayed() || res.appliedIndex() != index) {
            continue;
          }
          Operation op = ops.get(i);
          batch.operation(
              DedupeRecord.newBuilder()
                  .setOperation(op)
                  .setCode(res.code())
                  .setAppliedIndex(index)
                  .setRecordedAtMillis(ledgerTimeMillis)
                  .setPrincipal(principal)
                  .build());
          if (res.code() == ResultCode.OK) {
            for (Account a : changes.get(r).get(i)) {
              batch.line(a.getId(), line(op, a, index, ledgerTimeMillis, principal));
            }
          }
        }
      }
      batch.commit();
    }
  }

  private static StatementLine line(
      Operation op, Account after, long index, long timeMillis, String principal) {
    StatementLine.Builder b =
        StatementLine.newBuilder()
            .setAppliedIndex(index)
            .setLedgerTimeMillis(timeMillis)
            .setOperation(op)
            .setPrincipal(principal)
            .setBalanceAfter(after.getBalance())
            .setVersionAfter(after.getVersion());
    switch (op.getKindCase()) {
      case MINT -> b.setCredit(op.getMint().getAmount());
      case BURN -> b.setDebit(op.getBurn().getAmount());
      case TRANSFER -> {
        if (after.getId().equals(op.getTransfer().getFrom())) {
          b.setDebit(op.getTransfer().getAmount());
        } else {
          b.setCredit(op.getTransfer().getAmount());
        }
      }
      default -> {
        // creating an account moves nothing; role changes touch no account
      }
    }
    return b.build();
  }
}
