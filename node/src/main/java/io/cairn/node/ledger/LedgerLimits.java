package io.cairn.node.ledger;

/**
 * The ledger's bounds, all replicated configuration: every replica must use the same values or
 * results could differ. See docs/internals.md for how the dedupe window and floor work.
 *
 * @param maxRolePrincipals most principals holding at least one role; a grant to one more is {@code
 *     ROLE_LIMIT_REACHED}
 * @param dedupeMaxBytes most heap the dedupe table's records may take (as {@code DedupeTable}
 *     counts it); past it the oldest records of earlier entries leave, as under the count bound
 */
public record LedgerLimits(
    long dedupeWindowMillis,
    long dedupeMaxEntries,
    long maxClockSkewMillis,
    long maxAccounts,
    long maxRolePrincipals,
    long dedupeMaxBytes) {
  /** The default of {@code ledger.max.role.principals}. */
  public static final long DEFAULT_MAX_ROLE_PRINCIPALS = 100_000;

  /** The default of {@code ledger.dedupe.max.bytes}: 256 MiB. */
  public static final long DEFAULT_DEDUPE_MAX_BYTES = 256L << 20;

  public LedgerLimits {
    if (dedupeWindowMillis <= 0
        || dedupeMaxEntries <= 0
        || maxClockSkewMillis < 0
        || maxAccounts <= 0
        || maxRolePrincipals <= 0
        || dedupeMaxBytes <= 0) {
      throw new IllegalArgumentException("ledger limits must be positive: " + this);
    }
  }

  /** Limits with the default bounds on role holders and dedupe bytes (tests and benchmarks). */
  public LedgerLimits(
      long dedupeWindowMillis, long dedupeMaxEntries, long maxClockSkewMillis, long maxAccounts) {
    this(
        dedupeWindowMillis,
        dedupeMaxEntries,
        maxClockSkewMillis,
        maxAccounts,
        DEFAULT_MAX_ROLE_PRINCIPALS,
        DEFAULT_DEDUPE_MAX_BYTES);
  }
}
