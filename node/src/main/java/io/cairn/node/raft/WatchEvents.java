package io.cairn.node.raft;

import com.google.protobuf.ByteString;
import io.cairn.node.ledger.Caller;
import io.cairn.node.ledger.OpResult;
import io.cairn.proto.Account;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.WatchResponse;
import java.util.List;

/**
 * Builds the Watch event of one applied entry: every operation, its result and what it changed.
 * Without {@code node_id}: the event is stored as it is, and the node serving it appends its own
 * (field 7, encoded once per node in {@link #nodeIdSuffix}).
 */
final class WatchEvents {
  private WatchEvents() {}

  /** An entry's Watch event, encoded without node_id, and its number of operation events. */
  record Encoded(long prevIndex, int events, byte[] encoded) {}

  /**
   * The event for {@code command} applied at {@code results.stamp()}; {@code callers} holds who
   * submitted each request, {@code changes}, per request and operation, the accounts that operation
   * changed.
   */
  static WatchResponse of(
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
            .setStateRoot(merkleEnabled ? stamp.getStateRoot() : ByteString.EMPTY);
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

  /**
   * The encoded {@code node_id} field: appended to an encoded event, it makes the event name this
   * node (protobuf reads concatenated messages as one, and the event has no node_id of its own).
   */
  static byte[] nodeIdSuffix(String nodeId) {
    return WatchResponse.newBuilder().setNodeId(nodeId).build().toByteArray();
  }

  /** {@code event} followed by {@code suffix}. */
  static byte[] withSuffix(byte[] event, byte[] suffix) {
    byte[] out = new byte[event.length + suffix.length];
    System.arraycopy(event, 0, out, 0, event.length);
    System.arraycopy(suffix, 0, out, event.length, suffix.length);
    return out;
  }
}
