package io.cairn.node.raft;

import io.cairn.node.ledger.OpResult;
import io.cairn.proto.LogEntryReply;
import io.cairn.proto.OperationResult;
import io.cairn.proto.Stamp;
import io.cairn.proto.SubmitResponse;
import java.util.List;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * What applying one log entry gave: per request, one result per operation, and the stamp (applied
 * index, state root) after the whole entry.
 *
 * <p>Handed from the apply thread to the waiting write in-process: Ratis passes the object that
 * {@code applyTransaction} returned to the leader's pending request unchanged, so nothing is
 * encoded on the way. {@link #getContent()} encodes only if Ratis ever needs bytes (it would, to
 * answer a remote Ratis client, which Cairn never runs).
 */
public final class EntryResults implements Message {
  private final Stamp stamp;
  private final List<List<OpResult>> perRequest;

  EntryResults(Stamp stamp, List<List<OpResult>> perRequest) {
    this.stamp = stamp;
    this.perRequest = perRequest;
  }

  /** The state after the entry: applied index, term and root. */
  public Stamp stamp() {
    return stamp;
  }

  /** How many requests the entry held. */
  public int requests() {
    return perRequest.size();
  }

  /** The results of request {@code i}, one per operation, in order. */
  public List<OpResult> results(int i) {
    return perRequest.get(i);
  }

  /** Request {@code i}'s reply, as the client receives it. */
  public SubmitResponse response(int i) {
    SubmitResponse.Builder b = SubmitResponse.newBuilder().setStamp(stamp);
    for (OpResult r : perRequest.get(i)) {
      b.addResults(toProto(r));
    }
    return b.build();
  }

  /** One operation's result as the API sends it. */
  public static OperationResult toProto(OpResult r) {
    return OperationResult.newBuilder()
        .setId(r.id())
        .setCode(r.code())
        .setReplayed(r.replayed())
        .setAppliedIndex(r.appliedIndex())
        .build();
  }

  @Override
  public ByteString getContent() {
    LogEntryReply.Builder b = LogEntryReply.newBuilder();
    for (int i = 0; i < perRequest.size(); i++) {
      b.addResponses(response(i));
    }
    return UnsafeByteOperations.unsafeWrap(b.build().toByteArray());
  }

  @Override
  public String toString() {
    return "EntryResults(index "
        + stamp.getAppliedIndex()
        + ", "
        + perRequest.size()
        + " requests)";
  }
}
