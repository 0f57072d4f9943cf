package io.cairn.client;

import java.util.List;

/**
 * A write's attempts ran out after at least one of them may have reached the log: the operations
 * may or may not be applied. Resolve it with {@link CairnClient#getTransfer(String)} for each id,
 * or retry the same operations (same ids): exactly-once makes that safe within the dedupe window.
 */
public final class OutcomeUnknownException extends CairnException {
  private final List<String> operationIds;

  public OutcomeUnknownException(List<String> operationIds, CairnException last) {
    super(
        last.code(),
        last.detail(),
        true,
        "outcome unknown for " + describe(operationIds) + ": " + last.getMessage(),
        last);
    this.operationIds = List.copyOf(operationIds);
  }

  /** The ids of every operation in the request whose outcome is unknown. */
  public List<String> operationIds() {
    return operationIds;
  }

  private static String describe(List<String> ids) {
    return ids.size() == 1 ? "operation " + ids.get(0) : ids.size() + " operations";
  }
}
