package io.cairn.node.ledger;

import io.cairn.proto.DedupeRecord;

/**
 * What the ledger asks of the durable history of applied operations, when its in-memory dedupe
 * window cannot answer: whether an id was applied before, and with what result. The store under the
 * state machine implements it; a ledger without one ({@link #NONE}) keeps the window rules alone.
 *
 * <p>Deterministic by contract: the answer for {@code (id, beforeIndex)} depends only on the log
 * entries below {@code beforeIndex}, so every replica, including one replaying entries its store
 * already holds, decides alike.
 */
public interface History {
  /** No history: ids that left the dedupe window are refused as {@code EXPIRED}. */
  History NONE =
      new History() {
        @Override
        public DedupeRecord find(String id, long beforeIndex) {
          return null;
        }

        @Override
        public boolean complete() {
          return false;
        }
      };

  /** The record of {@code id} if an entry below {@code beforeIndex} applied it, else null. */
  DedupeRecord find(String id, long beforeIndex);

  /**
   * Whether this history holds every operation ever applied: then an id it does not know was never
   * applied, and the dedupe window's count floor need not refuse it.
   */
  boolean complete();
}
