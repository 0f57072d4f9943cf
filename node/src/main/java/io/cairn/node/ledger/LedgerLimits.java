package io.cairn.node.ledger;

/**
 * The ledger's bounds, all replicated configuration: every replica must use the same values or
 * results could differ. See docs/internals.md for how the dedupe window and floor work.
 */
public record LedgerLimits(
    long dedupeWindowMillis, long dedupeMaxEntries, long maxClockSkewMillis, long maxAccounts) {
  public LedgerLimits {
    if (dedupeWindowMillis <= 0
        || dedupeMaxEntries <= 0
        || maxClockSkewMillis < 0
        || maxAccounts <= 0) {
      throw new IllegalArgumentException("ledger limits must be positive: " + this);
    }
  }
}
