package io.cairn.node.ledger;

import io.cairn.proto.ResultCode;

/**
 * The outcome of one operation. {@code appliedIndex} is the log index where the operation was first
 * applied (for a replay, the stored one).
 */
public record OpResult(String id, ResultCode code, boolean replayed, long appliedIndex) {}
