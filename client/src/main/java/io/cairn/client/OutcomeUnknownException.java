package io.cairn.client;

import java.util.List;

/**
 * A write's attempts ran out, on a retryable failure, after at least one of them may have reached
 * the log (no node said it was not appended): the operations may or may not be applied, now or
 * later. Only writes throw it, never reads. Always {@link #isRetryable() retryable}; {@link
 * #code()} and {@link #detail()} are those of the last attempt, which is also the cause.
 *
 * <p>Resolve it in one of two ways. Retry the same operations (same ids and {@code created_at}):
 * exactly-once makes that safe within the dedupe window (with the durable store, forever by
 * default), and the reply gives each operation's one result, {@code replayed} when it was applied
 * before. Or look each id up with {@link CairnClient#getTransfer(String)}: found means applied with
 * that result; not found means not applied when the read was served, though a delayed copy of the
 * request could still arrive, so only a retry settles it for good. Never resubmit the same intent
 * under a new id: that may apply it twice.
 */
public final class OutcomeUnknownException extends CairnException {
  private final List<String> operationIds;

  /**
   * Made by the client library.
   *
   * @param operationIds the ids of the operations whose outcome is unknown (copied)
   * @param last the failure of the last attempt
   */
  public OutcomeUnknownException(List<String> operationIds, CairnException last) {
    super(
        last.code(),
        last.detail(),
        true,
        "outcome unknown for " + describe(operationIds) + ": " + last.getMessage(),
        last);
    this.operationIds = List.copyOf(operationIds);
  }

  /**
   * The ids of every operation whose outcome is unknown: all of a {@link CairnClient#submit}
   * request's, only the caller's own for a coalesced single operation, none for a membership change
   * (retry that call: it is idempotent). Immutable.
   */
  public List<String> operationIds() {
    return operationIds;
  }

  private static String describe(List<String> ids) {
    return ids.size() == 1 ? "operation " + ids.get(0) : ids.size() + " operations";
  }
}
