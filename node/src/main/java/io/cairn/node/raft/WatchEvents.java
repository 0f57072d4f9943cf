package io.cairn.node.raft;

import com.google.protobuf.ByteString;
import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.OpResult;
import io.cairn.proto.Account;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.WatchResponse;
import java.util.List;

/** Builds the Watch event of one applied entry: every operation, its result and what it changed. */
final class WatchEvents {
  private WatchEvents() {}

  /**
   * The event for {@code command} applied at {@code results.stamp()}; {@code callers} holds who
   * submitted each request, {@code changes}, per request and operation, the accounts that operation
   * changed.
   */
  static WatchResponse of(
      String nodeId,
      boolean merkleEnabled,
      long prevIndex,
      LedgerCommand command,
      EntryResults results,
      List<Caller> callers,
      List<List<List<Account>>> changes) {
    var stamp = results.stamp();
    WatchResponse.Builder b =
        WatchResponse.newBuilder()
            .setIndex(stamp.getAppliedIndex())
            .setPrevIndex(prevIndex)
            .setTerm(stamp.getTerm())
            .setEntryTimeMillis(command.leaderTimeMillis())
            .setStateRoot(merkleEnabled ? stamp.getStateRoot() : ByteString.EMPTY)
            .setNodeId(nodeId);
    for (int r = 0; r < results.requests(); r++) {
      SubmitRequest request = command.requests().get(r);
      List<OpResult> opResults = results.results(r);
      List<List<Account>> opChanges = changes.get(r);
      String principal = callers.get(r).principal();
      for (int i = 0; i < opResults.size(); i++) {
        b.addEvents(
            OperationEvent.newBuilder()
                .setOperation(request.getOperations(i))
                .setResult(EntryResults.toProto(opResults.get(i)))
                .addAllChanged(i < opChanges.size() ? opChanges.get(i) : List.of())
                .setPrincipal(principal));
      }
    }
    return b.build();
  }
}
