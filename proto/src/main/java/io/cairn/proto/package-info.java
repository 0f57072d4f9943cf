/**
 * Cairn's wire format: the public gRPC API ({@code LedgerServiceGrpc} and its messages), the
 * replicated log-entry and snapshot formats (generated from the .proto files in {@code cairn/v1}),
 * and what the node and every client must agree on byte for byte. Field numbers are never reused.
 *
 * <ul>
 *   <li>{@link io.cairn.proto.errors.Errors}: the one error table: the trailer carrying an {@code
 *       ErrorDetail}, the gRPC status of each failure kind, and which failures are retryable.
 *   <li>{@link io.cairn.proto.rules.Rules}: the rule book for ids, amounts and operations, checked
 *       by the client before sending, by the node's API (INVALID_ARGUMENT naming the field) and by
 *       the ledger on every replica (a replicated result code).
 *   <li>{@link io.cairn.proto.verify.StateHashing} and {@link io.cairn.proto.verify.ProofVerifier}:
 *       the hashing of the Merkle state commitment and the verification of account proofs against a
 *       state root.
 *   <li>{@link io.cairn.proto.backup.Backup}: the backup file of {@code cairnctl snapshot
 *       save|restore}, written by the node and read by the CLI.
 * </ul>
 *
 * <p>Ledger outcomes are {@code ResultCode}s inside replies, never gRPC errors; gRPC errors are for
 * transport and cluster failures, and one carrying an {@code ErrorDetail} has the status the error
 * table gives its kind.
 */
package io.cairn.proto;
