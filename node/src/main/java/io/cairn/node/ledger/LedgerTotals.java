package io.cairn.node.ledger;

/**
 * Ledger-wide counters. Amounts are unsigned 64-bit values held in longs. {@code totalBalance} is
 * kept from balance changes, independently of the mint and burn counters, so comparing it with
 * {@code totalMinted - totalBurned} is a real conservation check.
 */
public record LedgerTotals(
    long accountCount,
    long totalMinted,
    long totalBurned,
    long totalBalance,
    long dedupeEntries,
    long floorMillis,
    long nowMillis) {}
