package io.cairn.client;

import io.cairn.proto.ErrorDetail;
import io.grpc.Status;

/**
 * A {@link Subscription} asked for ledger entries that no node still holds: every node keeps only a
 * bounded window of recent entries ({@code watch.retention.*}), and every endpoint the client knows
 * answered COMPACTED. Thrown by {@link Subscription#poll} once the entries already received have
 * been returned; the subscription is then done. Final (not retryable), gRPC status OUT_OF_RANGE.
 * Nothing was skipped silently; to continue, re-read the state you need (e.g. the accounts, whose
 * stamp gives the applied index) and subscribe again from {@link #oldestAvailableIndex()} or later.
 */
public final class CompactedException extends CairnException {
  private final long requestedIndex;
  private final long oldestAvailableIndex;

  /** Made by the client library. */
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
