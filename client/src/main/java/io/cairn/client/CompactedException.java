package io.cairn.client;

import io.cairn.proto.ErrorDetail;
import io.grpc.Status;

/**
 * A {@link Subscription} asked for ledger entries that no node it can reach still holds: every
 * node keeps only a bounded window of recent entries ({@code watch.retention.*}). Nothing was
 * skipped silently; to continue, re-read the state you need (e.g. the accounts) and subscribe
 * again from {@link #oldestAvailableIndex()} or later.
 */
public final class CompactedException extends CairnException {
  private final long requestedIndex;
  private final long oldestAvailableIndex;

  public CompactedException(long requestedIndex, long oldestAvailableIndex, String message) {
    super(
        Status.Code.OUT_OF_RANGE,
        ErrorDetail.newBuilder()
            .setKind(ErrorDetail.Kind.COMPACTED)
            .setOldestAvailableIndex(oldestAvailableIndex)
            .build(),
        false,
        message,
        null);
    this.requestedIndex = requestedIndex;
    this.oldestAvailableIndex = oldestAvailableIndex;
  }

  /** The first log index the subscription still needed. */
  public long requestedIndex() {
    return requestedIndex;
  }

  /** The lowest index any asked node can still serve (the highest of their answers). */
  public long oldestAvailableIndex() {
    return oldestAvailableIndex;
  }
}
