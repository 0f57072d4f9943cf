package io.cairn.node.ledger;

/**
 * The ledger's bounds, all replicated configuration: every replica must use the same values or
 * results could differ. See docs/internals.md for how the dedupe window and floor work.
 *
 * @param maxRolePrincipals most principals holding at least one role; a grant to one more is {@code
 *     ROLE_LIMIT_REACHED}
 */
public record LedgerLimits(
    long dedupeWindowMillis,
    long dedupeMaxEntries,
    long maxClockSkewMillis,
    long maxAccounts,
    long maxRolePrincipals) {
  /** The default of {@code ledger.max.role.principals}. */
  public static final long DEFAULT_MAX_ROLE_PRINCIPALS = 100_000;

  public LedgerLimits {
    if (dedupeWindowMillis <= 0
        || dedupeMaxEntries <= 0
        || maxClockSkewMillis < 0
        || maxAccounts <= 0
        || maxRolePrincipals <= 0) {
      throw new IllegalArgumentException("ledger limits must be positive: " + this);
    }
  }

  /** Limits with the default bound on role holders (tests and benchmarks). */
  public LedgerLimits(
      long dedupeWindowMillis, long dedupeMaxEntries, long maxClockSkewMillis, long maxAccounts) {
    this(
        dedupeWindowMillis,
        dedupeMaxEntries,
        maxClockSkewMillis,
        maxAccounts,
        DEFAULT_MAX_ROLE_PRINCIPALS);
  }
}
