package io.cairn.client;

import io.cairn.proto.Operation;
import io.cairn.proto.SubmitResponse;
import java.util.List;
import java.util.Optional;

/**
 * A write's attempts ran out, on a retryable failure, after at least one of them may have reached
 * the log (no node said it was not appended): the operations may or may not be applied, now or
 * later. Only writes throw it, never reads. Always {@link #isRetryable() retryable}; {@link
 * #code()} and {@link #detail()} are those of the last attempt, which is also the cause.
 *
 * <p>Resolve it in one of two ways. Retry the same operations (same ids and {@code created_at}):
 * exactly-once makes that safe however long after (the node's history store keeps every applied
 * id), and the reply gives each operation's one result, {@code replayed} when it was applied
 * before. Or look each id up with {@link CairnClient#getTransfer(String)}: found means applied with
 * that result; not found means not applied when the read was served, though a delayed copy of the
 * request could still arrive, so only a retry settles it for good. Never resubmit the same intent
 * under a new id: that may apply it twice.
 */
public final class OutcomeUnknownException extends CairnException {
  private final List<String> operationIds;
  private final List<Operation> operations;
  private final SubmitResponse response;

  /**
   * Made by the client library.
   *
   * @param operationIds the ids of the operations whose outcome is unknown (copied)
   * @param last the failure of the last attempt
   */
  public OutcomeUnknownException(List<String> operationIds, CairnException last) {
    this(operationIds, List.of(), last);
  }

  /**
   * Made by the client library.
   *
   * @param operationIds the ids of the operations whose outcome is unknown (copied)
   * @param operations those operations as sent, or empty when the library does not hold them
   * @param last the failure of the last attempt, or what made the answer ambiguous
   */
  public OutcomeUnknownException(
      List<String> operationIds, List<Operation> operations, CairnException last) {
    this(operationIds, operations, null, last);
  }

  /**
   * Made by the client library, for an answer that holds results but leaves some unknown (an {@code
   * EXPIRED} result).
   *
   * @param operationIds the ids of the operations whose outcome is unknown (copied)
   * @param operations those operations as sent, or empty when the library does not hold them
   * @param response the node's answer, or null when there was none
   * @param last what made the outcome unknown
   */
  public OutcomeUnknownException(
      List<String> operationIds,
      List<Operation> operations,
      SubmitResponse response,
      CairnException last) {
    super(
        last.code(),
        last.detail(),
        true,
        "outcome unknown for " + describe(operationIds) + ": " + last.getMessage(),
        last);
    this.operationIds = List.copyOf(operationIds);
    this.operations = List.copyOf(operations);
    this.response = response;
  }

  /**
   * The ids of every operation whose outcome is unknown: all of a {@link CairnClient#submit}
   * request's, only the caller's own for a coalesced single operation, none for a membership change
   * (retry that call: it is idempotent). Immutable.
   */
  public List<String> operationIds() {
    return operationIds;
  }

  /**
   * The operations whose outcome is unknown, exactly as they were sent: same ids and the same
   * {@code created_at}. Resend these (with {@link CairnClient#single} or {@link
   * CairnClient#submit}) to retry. One rebuilt under the same id with a new {@code created_at} is
   * still found by its id (as a retry, or DUPLICATE_ID if its body differs); but a rebuilt
   * operation whose first attempt never applied is then taken as new, where the original would have
   * been refused as EXPIRED once older than the dedupe window. Empty for a membership change.
   * Immutable.
   */
  public List<Operation> operations() {
    return operations;
  }

  /**
   * The node's answer when there was one: a {@link CairnClient#submit} whose results include {@code
   * EXPIRED} still reports every other operation's result here. Empty when no answer came.
   */
  public Optional<SubmitResponse> response() {
    return Optional.ofNullable(response);
  }

  private static String describe(List<String> ids) {
    return ids.size() == 1 ? "operation " + ids.get(0) : ids.size() + " operations";
  }
}
