package io.cairn.client;

import io.cairn.client.internal.Caller;
import io.cairn.client.internal.Coalescer;
import io.cairn.client.internal.Expiry;
import io.cairn.proto.AddMemberRequest;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.GetProofRequest;
import io.cairn.proto.GetProofResponse;
import io.cairn.proto.GetTransferRequest;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.LedgerServiceGrpc.LedgerServiceStub;
import io.cairn.proto.LedgerSummary;
import io.cairn.proto.LedgerSummaryRequest;
import io.cairn.proto.ListAccountsRequest;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.ListRolesRequest;
import io.cairn.proto.ListRolesResponse;
import io.cairn.proto.ListTransfersRequest;
import io.cairn.proto.ListTransfersResponse;
import io.cairn.proto.MembershipResponse;
import io.cairn.proto.Operation;
import io.cairn.proto.OperationResult;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.RemoveMemberRequest;
import io.cairn.proto.Role;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.rules.Rules;
import io.cairn.proto.verify.ProofVerifier;
import io.grpc.Status;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A thread-safe client of a Cairn cluster: one instance is meant to be shared by every thread of an
 * application. Made by {@link #builder()}; {@link #close()} frees every channel and thread.
 *
 * <p><b>Writes</b> go to the leader (followed through NOT_LEADER redirects). Every operation
 * carries a client-made id and creation time (see {@link Ops}) and the ledger applies an id at most
 * once, so the client retries a write on every retryable failure, with exponential backoff and full
 * jitter, bounded by {@link CairnClientBuilder#maxAttempts} and {@link
 * CairnClientBuilder#totalTimeout}. A write that returns normally is committed on a majority of the
 * cluster with fsync and applied; its {@link OperationResult} code says whether the ledger accepted
 * it ({@code OK}) or refused it (for example {@code INSUFFICIENT_FUNDS}), and {@code replayed} says
 * the result is the stored one of an earlier request with the same id.
 *
 * <p><b>Reads</b> are linearizable unless {@link ReadOptions} say otherwise: the leader puts a
 * barrier entry through the log and answers once it is applied, so a read sees every write
 * acknowledged before the read started. {@code Consistency.STALE} with {@code min_applied_index} is
 * answered by any node once it has applied that index (read-your-writes without a round to the
 * leader). Every reply carries a {@code Stamp}: the node, applied index and state root it was
 * served at. A read never changes state, so it is retried like a write but never ends with {@link
 * OutcomeUnknownException}.
 *
 * <p><b>Routing around trouble.</b> Each endpoint has a circuit breaker ({@link
 * CairnClientBuilder#circuitBreaker}): one whose recent attempts failed at the transport is skipped
 * while another can be tried ({@link #endpointStates()}). Attempt deadlines follow the observed p99
 * ({@link CairnClientBuilder#adaptiveTimeout}), so a frozen node costs a few p99s, not seconds. A
 * read slower than the p99 is hedged to a second endpoint ({@link CairnClientBuilder#hedgeReads});
 * a write never is. A refused or reset connection is redialled at once, not after gRPC's reconnect
 * backoff. A reply a follower forwarded names the leader (header {@code cairn-leader}), and the
 * next writes go there directly.
 *
 * <p><b>Failures.</b> Ledger outcomes are result codes, never exceptions. Every other failure is an
 * unchecked {@link CairnException}, thrown by blocking methods and used to complete the futures of
 * the async ones:
 *
 * <ul>
 *   <li>{@link CairnException#code()} is the gRPC status of the last attempt and {@link
 *       CairnException#detail()} the node's {@code ErrorDetail} (kind, leader hint, offending
 *       field, whether nothing was appended).
 *   <li>{@link CairnException#isRetryable()} is true for UNAVAILABLE (no leader yet, node starting
 *       or stopping or unreachable), DEADLINE_EXCEEDED, ABORTED and RESOURCE_EXHAUSTED with a
 *       detail (a full queue on a node or in this client). The client has already retried these
 *       until its attempts or total timeout ran out; calling again later may succeed.
 *   <li>Everything else is final; do not retry unchanged: INVALID_ARGUMENT (a malformed request,
 *       checked by the client before sending where it can, else by the node, which names the field
 *       in the detail; nothing is appended), RESOURCE_EXHAUSTED without a detail (gRPC's
 *       message-size limit), FAILED_PRECONDITION (a feature switched off on the node, a refused
 *       membership change), DATA_LOSS (a proof or event chain that does not check out), CANCELLED
 *       (this client is closed, or the calling thread was interrupted), INTERNAL and UNKNOWN (an
 *       unexpected error in the node or the client). Of these, only INVALID_ARGUMENT (or a detail
 *       with {@code not_applied}) proves a write was not applied; after another final failure of a
 *       write, look its ids up with {@link #getTransfer(String)}.
 *   <li>{@link OutcomeUnknownException} (a retryable subtype) is thrown by writes only, when the
 *       attempts ended on a retryable failure after one of them may have reached the log: the
 *       operations may or may not be applied. It carries their ids. Resolve it by resending the
 *       same operations (same ids: they cannot apply twice, the reply gives the one result) or by
 *       looking each id up with {@link #getTransfer(String)}.
 *   <li>{@link CompactedException} (final) ends a {@link Subscription} whose entries no node still
 *       holds.
 * </ul>
 *
 * <p>Every call is bounded: one call (an RPC with its retries) ends within about the total timeout,
 * though a coalesced single operation may first wait in the client's bounded queue.
 */
public final class CairnClient implements AutoCloseable {
  private final Caller caller;
  private final Coalescer coalescer;
  private final ScheduledThreadPoolExecutor timer;
  private final ThreadPoolExecutor callbacks;
  private final long maxRequestBytes;
  private final long totalTimeoutMillis;
  private final java.util.Set<Subscription> subscriptions =
      java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  CairnClient(CairnClientBuilder b) {
    this.timer = new ScheduledThreadPoolExecutor(1, daemon("cairn-client-timer"));
    this.timer.setRemoveOnCancelPolicy(true);
    this.callbacks =
        new ThreadPoolExecutor(
            b.callbackThreads,
            b.callbackThreads,
            30,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(65_536),
            daemon("cairn-client-callback"),
            new ThreadPoolExecutor.CallerRunsPolicy());
    this.maxRequestBytes = b.maxRequestBytes;
    this.totalTimeoutMillis = b.totalTimeout.toMillis();
    this.caller =
        new Caller(
            b.endpoints,
            policy(b),
            timer,
            callbacks,
            b.resolver,
            b.maxInflightCalls,
            b.sslContext,
            b.endpointStateListener);
    this.coalescer =
        b.coalesceMaxOps <= 1
            ? null
            : new Coalescer(
                request -> sendWrite(request),
                b.coalesceMaxQueued,
                b.coalesceMaxInflight,
                b.coalesceMaxOps,
                b.maxRequestBytes - 1024,
                b.lingerQuiet,
                b.lingerMax);
  }

  private static Caller.Policy policy(CairnClientBuilder b) {
    return new Caller.Policy(
        b.attemptTimeout.toMillis(),
        b.totalTimeout.toMillis(),
        b.maxAttempts,
        b.backoffBase.toMillis(),
        b.backoffMax.toMillis(),
        b.attemptTimeoutMin.toMillis(),
        b.timeoutMultiplier,
        b.hedgeReads,
        b.hedgeMinDelay.toMillis(),
        b.keepAliveTime.toMillis(),
        b.keepAliveTimeout.toMillis(),
        new io.cairn.client.internal.EndpointHealth.Settings(
            b.breakerWindowCalls,
            b.breakerMinimumCalls,
            b.breakerFailureRatePercent,
            b.breakerOpenWait.toMillis(),
            b.slowCallFraction,
            b.slowCallRatePercent));
  }

  /** Coalesced requests on the wire at once by default ({@link CairnClientBuilder#coalesce}). */
  public static final int DEFAULT_COALESCE_INFLIGHT = 1;

  /**
   * The coalescer's default quiet gap, in microseconds (see {@link
   * CairnClientBuilder#coalesceLinger}).
   */
  public static final int DEFAULT_LINGER_QUIET_MICROS = 100;

  /**
   * The coalescer's default maximum linger, in microseconds (see {@link
   * CairnClientBuilder#coalesceLinger}).
   */
  public static final int DEFAULT_LINGER_MAX_MICROS = 2000;

  /**
   * A builder with every setting at its bounded default (the three nodes of a local cluster on
   * 127.0.0.1:7201-7203); {@link CairnClientBuilder#build()} makes the client.
   */
  public static CairnClientBuilder builder() {
    return new CairnClientBuilder();
  }

  // ---- writes ----

  /**
   * Creates an account with balance 0, under a fresh operation id; blocks until applied. Same
   * guarantees and failures as {@link #single(Operation)}.
   *
   * @param account the new account's id: 1-64 characters of [A-Za-z0-9._:-]
   * @return the result, committed on a majority with fsync and applied: {@code OK} (the account is
   *     owned by this client's principal), {@code ACCOUNT_EXISTS}, {@code ACCOUNT_LIMIT_REACHED} or
   *     {@code PERMISSION_DENIED} (neither ADMIN nor ISSUER)
   * @throws CairnException INVALID_ARGUMENT (final) when {@code account} breaks the id rule, before
   *     anything is sent; any other failure as in {@link #single(Operation)}
   * @throws OutcomeUnknownException the write may or may not be applied; {@link
   *     OutcomeUnknownException#operationIds()} holds its fresh id. Resolve with {@link
   *     #getTransfer(String)}: creating the account again would be a new operation
   */
  public OperationResult createAccount(String account) {
    return single(Ops.createAccount(Ops.newId(), account));
  }

  /**
   * Creates an account with balance 0 owned by {@code owner}, under a fresh operation id; blocks
   * until applied. The owner, once it holds any role, may transfer from the account; it is set once
   * and is part of the account's Merkle leaf. Same guarantees and failures as {@link
   * #createAccount(String)}.
   *
   * @param owner a principal (a client certificate's CN, 1-64 characters of [A-Za-z0-9._:-]), or ""
   *     for this client's own principal
   * @throws CairnException INVALID_ARGUMENT (final) when {@code account} or {@code owner} break the
   *     rule book, before anything is sent; otherwise as {@link #createAccount(String)}
   * @throws OutcomeUnknownException as {@link #createAccount(String)}
   */
  public OperationResult createAccount(String account, String owner) {
    return single(Ops.createAccount(Ops.newId(), account, owner));
  }

  /**
   * Mints {@code amount} new tokens into {@code account}, under a fresh operation id; blocks until
   * applied. Same guarantees and failures as {@link #single(Operation)}.
   *
   * @param amount unsigned 64-bit, greater than 0
   * @return the result, committed on a majority with fsync and applied: {@code OK}, {@code
   *     NO_SUCH_ACCOUNT} or {@code AMOUNT_OVERFLOW} (the balance or the total supply would pass
   *     2^64 - 1)
   * @throws CairnException INVALID_ARGUMENT (final) when {@code account} or {@code amount} break
   *     the rule book, before anything is sent; any other failure as in {@link #single(Operation)}
   * @throws OutcomeUnknownException the write may or may not be applied; {@link
   *     OutcomeUnknownException#operationIds()} holds its fresh id. Resolve with {@link
   *     #getTransfer(String)} before minting again: a new call is a new operation
   */
  public OperationResult mint(String account, long amount) {
    return single(Ops.mint(Ops.newId(), account, amount));
  }

  /**
   * Burns {@code amount} tokens from {@code account}, under a fresh operation id; blocks until
   * applied. Same guarantees and failures as {@link #single(Operation)}.
   *
   * @param amount unsigned 64-bit, greater than 0
   * @return the result, committed on a majority with fsync and applied: {@code OK}, {@code
   *     NO_SUCH_ACCOUNT} or {@code INSUFFICIENT_FUNDS}
   * @throws CairnException INVALID_ARGUMENT (final) when {@code account} or {@code amount} break
   *     the rule book, before anything is sent; any other failure as in {@link #single(Operation)}
   * @throws OutcomeUnknownException the write may or may not be applied; {@link
   *     OutcomeUnknownException#operationIds()} holds its fresh id. Resolve with {@link
   *     #getTransfer(String)} before burning again: a new call is a new operation
   */
  public OperationResult burn(String account, long amount) {
    return single(Ops.burn(Ops.newId(), account, amount));
  }

  /**
   * Moves {@code amount} from {@code from} to {@code to}, under a fresh operation id; blocks until
   * applied. Same guarantees and failures as {@link #single(Operation)}. To be able to retry
   * safely, prefer {@link #transfer(String, long, String, String, long)} or {@link
   * #single(Operation)} with an id (and creation time) you keep.
   *
   * @param amount unsigned 64-bit, greater than 0
   * @return the result, committed on a majority with fsync and applied: {@code OK}, {@code
   *     NO_SUCH_ACCOUNT}, {@code INSUFFICIENT_FUNDS} or {@code AMOUNT_OVERFLOW}
   * @throws CairnException INVALID_ARGUMENT (final) when an account id or {@code amount} break the
   *     rule book or {@code from} equals {@code to}, before anything is sent; any other failure as
   *     in {@link #single(Operation)}
   * @throws OutcomeUnknownException the transfer may or may not be applied; {@link
   *     OutcomeUnknownException#operations()} holds it as sent: resolve with {@link
   *     #getTransfer(String)} or by resending that operation with {@link #single(Operation)}, never
   *     with a new call of this method (that would be a second transfer)
   */
  public OperationResult transfer(String from, String to, long amount) {
    return single(Ops.transfer(Ops.newId(), from, to, amount));
  }

  /**
   * A transfer with a caller-chosen id and creation time; blocks until applied. The id and {@code
   * createdAtMillis} together name the operation: keep both, and to retry call again with the same
   * two and the same body. The ledger then returns the first result ({@code replayed} true),
   * however long after (its history store keeps every applied id), and never applies it twice; an
   * id never applied whose creation time is older than the dedupe window is refused ({@code
   * EXPIRED}, thrown as {@link OutcomeUnknownException}) rather than taken as new. The same id with
   * another body gives {@code DUPLICATE_ID}. Same guarantees and failures as {@link
   * #single(Operation)}.
   *
   * @param id the operation id, 1-64 characters of [A-Za-z0-9._:-], unique per transfer
   * @param createdAtMillis when the transfer was first issued (ms since the epoch, e.g. {@code
   *     System.currentTimeMillis()} at the first attempt); the ledger refuses a time further ahead
   *     of its clock than the allowed skew ({@code TIMESTAMP_IN_FUTURE})
   * @return the result, committed on a majority with fsync and applied: {@code OK}, {@code
   *     NO_SUCH_ACCOUNT}, {@code INSUFFICIENT_FUNDS}, {@code AMOUNT_OVERFLOW}, {@code
   *     TIMESTAMP_IN_FUTURE} or {@code DUPLICATE_ID}
   * @throws CairnException INVALID_ARGUMENT (final) when {@code id}, an account id or {@code
   *     amount} break the rule book or {@code from} equals {@code to}, before anything is sent; any
   *     other failure as in {@link #single(Operation)}
   * @throws OutcomeUnknownException the transfer may or may not be applied (its {@link
   *     OutcomeUnknownException#operations()} holds it as sent): call again with the same
   *     arguments, or look {@code id} up with {@link #getTransfer(String)}
   */
  public OperationResult transfer(
      String id, long createdAtMillis, String from, String to, long amount) {
    return single(Ops.transfer(id, createdAtMillis, from, to, amount));
  }

  /**
   * Gives {@code principal} the {@code role} (ADMIN only), under a fresh operation id; blocks until
   * applied. A principal may hold several roles; granting one already held is {@code OK} and
   * changes nothing, so calling again after any failure, an unknown outcome included, is safe. Same
   * guarantees and failures as {@link #single(Operation)}.
   *
   * @param principal a client certificate's CN: 1-64 characters of [A-Za-z0-9._:-]
   * @param role {@code ADMIN}, {@code ISSUER} or {@code MEMBER}
   * @return the result, committed on a majority with fsync and applied: {@code OK}, {@code
   *     PERMISSION_DENIED} (this client's principal is not an admin) or {@code ROLE_LIMIT_REACHED}
   *     (the ledger holds roles for its maximum number of principals)
   * @throws CairnException INVALID_ARGUMENT (final) when {@code principal} or {@code role} break
   *     the rule book, before anything is sent; any other failure as in {@link #single(Operation)}
   * @throws OutcomeUnknownException the grant may or may not be applied: call again
   */
  public OperationResult grantRole(String principal, Role role) {
    return grantRole(Ops.newId(), principal, role);
  }

  /**
   * {@link #grantRole(String, Role)} under a caller-chosen id: calling again with the same id and
   * arguments is a retry that returns the first result ({@code replayed} true).
   *
   * @param id the operation id, 1-64 characters of [A-Za-z0-9._:-]
   * @return as {@link #grantRole(String, Role)}, or {@code DUPLICATE_ID} when {@code id} was used
   *     for another operation
   * @throws CairnException as {@link #grantRole(String, Role)}
   * @throws OutcomeUnknownException the grant may or may not be applied: call again
   */
  public OperationResult grantRole(String id, String principal, Role role) {
    return single(Ops.grantRole(id, principal, role));
  }

  /**
   * Takes {@code role} from {@code principal} (ADMIN only), under a fresh operation id; blocks
   * until applied. It holds from the next operation the ledger applies: requests already in the log
   * behind it are judged without the role. Revoking a role not held is {@code OK} and changes
   * nothing, so calling again is safe. Same guarantees and failures as {@link #single(Operation)}.
   *
   * @return the result, committed on a majority with fsync and applied: {@code OK} or {@code
   *     PERMISSION_DENIED} (this client's principal is not an admin)
   * @throws CairnException INVALID_ARGUMENT (final) when {@code principal} or {@code role} break
   *     the rule book, before anything is sent; any other failure as in {@link #single(Operation)}
   * @throws OutcomeUnknownException the revocation may or may not be applied: call again
   */
  public OperationResult revokeRole(String principal, Role role) {
    return revokeRole(Ops.newId(), principal, role);
  }

  /**
   * {@link #revokeRole(String, Role)} under a caller-chosen id: calling again with the same id and
   * arguments is a retry that returns the first result.
   *
   * @return as {@link #revokeRole(String, Role)}, or {@code DUPLICATE_ID} when {@code id} was used
   *     for another operation
   * @throws CairnException as {@link #revokeRole(String, Role)}
   * @throws OutcomeUnknownException the revocation may or may not be applied: call again
   */
  public OperationResult revokeRole(String id, String principal, Role role) {
    return single(Ops.revokeRole(id, principal, role));
  }

  /**
   * Submits one operation (built with {@link Ops}) and blocks until it is applied; see {@link
   * #singleAsync(Operation)}, which this waits for.
   *
   * <p>On return the operation is committed on a majority of the cluster with fsync and applied on
   * the leader; the result's code says whether the ledger accepted it ({@code OK}) or refused it,
   * the refusal being replicated like any result. {@code replayed} true means the id was applied
   * before (a retry) and this is the stored result. {@code applied_index} is the log index it was
   * applied at: a STALE read with that {@code min_applied_index} sees it.
   *
   * @return the operation's result
   * @throws CairnException INVALID_ARGUMENT (final, nothing sent) when {@code op} breaks the rule
   *     book ({@link io.cairn.proto.rules.Rules#check}); a retryable failure (UNAVAILABLE,
   *     DEADLINE_EXCEEDED, ABORTED, RESOURCE_EXHAUSTED) when the client's retries ran out and the
   *     client knows nothing reached the log (for example this client's queue or in-flight limit
   *     was full, or a node said so): resending {@code op} is safe; CANCELLED when the client is
   *     closed or the thread is interrupted (if the call had started, its outcome is unknown: look
   *     the id up); any other final code as described on {@link CairnClient}
   * @throws OutcomeUnknownException the retries ran out after an attempt that may have reached the
   *     log: resend the same {@code op} (it cannot apply twice; the reply gives its result) or look
   *     its id up with {@link #getTransfer(String)}
   */
  public OperationResult single(Operation op) {
    return join(singleAsync(op));
  }

  /**
   * Submits one operation without blocking. Concurrent single operations from many threads share
   * requests (up to {@link CairnClientBuilder#coalesce} operations each, never atomic: each is
   * applied or refused on its own), each caller still getting its own result or error, an {@link
   * OutcomeUnknownException} naming only its own id.
   *
   * <p>{@code op} is checked against the rule book first, so a malformed operation fails alone
   * instead of failing the shared request. The future completes normally once the operation is
   * committed on a majority with fsync and applied, exactly as {@link #single(Operation)} returns.
   *
   * @return a future of the result; it completes exceptionally with INVALID_ARGUMENT (final,
   *     nothing sent) at once when {@code op} breaks the rule book, with a retryable
   *     RESOURCE_EXHAUSTED {@link CairnException} at once when the client's queue of single
   *     operations is full (nothing sent; retry after a pause), with CANCELLED when the client is
   *     closed, and otherwise with the failures of {@link #single(Operation)}
   */
  public CompletableFuture<OperationResult> singleAsync(Operation op) {
    // Checked here, by the node's own rule book: one caller's malformed operation must fail
    // alone, not take the shared request it would have joined down with it.
    Rules.Violation invalid = Rules.check(op);
    if (invalid != null) {
      return CompletableFuture.failedFuture(
          new CairnException(
              Status.Code.INVALID_ARGUMENT,
              null,
              false,
              "operation " + invalid.field() + ": " + invalid.message(),
              null));
    }
    if (coalescer != null) {
      return coalescer.submit(op);
    }
    return submitAsync(List.of(op), false).thenApply(r -> r.getResults(0));
  }

  /**
   * The operations' results, or an {@link OutcomeUnknownException} when one is {@code EXPIRED} (see
   * {@link Expiry}); an unknown outcome names the operations as sent.
   */
  private static CompletableFuture<SubmitResponse> settled(
      List<Operation> sent, CompletableFuture<SubmitResponse> answer) {
    CompletableFuture<SubmitResponse> out = new CompletableFuture<>();
    answer.whenComplete(
        (r, err) -> {
          if (err != null) {
            Throwable e = err instanceof CompletionException c ? c.getCause() : err;
            if (e instanceof OutcomeUnknownException u && u.operations().isEmpty()) {
              e =
                  new OutcomeUnknownException(
                      u.operationIds(), sent, (CairnException) u.getCause());
            }
            out.completeExceptionally(e);
            return;
          }
          OutcomeUnknownException expired = Expiry.unknownIfAnyExpired(sent, r);
          if (expired != null) {
            out.completeExceptionally(expired);
          } else {
            out.complete(r);
          }
        });
    // A caller cancelling the future it holds cancels the call (and frees its permit).
    out.whenComplete(
        (r, err) -> {
          if (out.isCancelled()) {
            answer.cancel(false);
          }
        });
    return out;
  }

  /**
   * {@link #transfer(String, String, long)} without blocking: a transfer under a fresh id,
   * submitted with {@link #singleAsync(Operation)}. On {@link OutcomeUnknownException} the id is in
   * {@link OutcomeUnknownException#operationIds()}; resolve it with {@link #getTransfer(String)},
   * not with a new call (that would be a second transfer).
   *
   * @return a future of the result, with the guarantees and failures of {@link
   *     #singleAsync(Operation)}
   */
  public CompletableFuture<OperationResult> transferAsync(String from, String to, long amount) {
    return singleAsync(Ops.transfer(Ops.newId(), from, to, amount));
  }

  /**
   * Submits operations in one request and blocks until they are applied; see {@link
   * #submitAsync(List, boolean)}.
   *
   * @param ops 1 to the node's {@code api.max.ops.per.request} operations, built with {@link Ops}
   * @param atomic all or nothing: if one operation is refused, none is applied and the others
   *     report {@code ROLLED_BACK}
   * @return one result per operation, in order, and the stamp of the state they were applied to
   * @throws CairnException INVALID_ARGUMENT (final, nothing applied) when the request is over
   *     {@link CairnClientBuilder#maxRequestBytes} (checked before sending), empty, over the node's
   *     operations limit or holds an operation that breaks the rule book (the node's detail names
   *     it as {@code operations[i].field}); a retryable code when the retries ran out and nothing
   *     reached the log; otherwise as on {@link CairnClient}
   * @throws OutcomeUnknownException some attempt may have reached the log: every operation may or
   *     may not be applied ({@link OutcomeUnknownException#operationIds()} lists them all). Resend
   *     the same operations (same ids and {@code atomic}), or look each id up with {@link
   *     #getTransfer(String)}
   */
  public SubmitResponse submit(List<Operation> ops, boolean atomic) {
    return join(submitAsync(ops, atomic));
  }

  /**
   * Submits operations in one request without blocking; never coalesced with other calls.
   *
   * <p>The future completes normally once the request's log entry is committed on a majority of the
   * cluster with fsync and applied; each result's code says whether that operation was applied
   * ({@code OK}), refused, or, for an atomic request, {@code ROLLED_BACK} because another was
   * refused. Operations whose ids were applied before return their stored result with {@code
   * replayed} true.
   *
   * @return a future that fails as {@link #submit(List, boolean)} throws; the size check fails it
   *     at once
   */
  public CompletableFuture<SubmitResponse> submitAsync(List<Operation> ops, boolean atomic) {
    SubmitRequest request =
        SubmitRequest.newBuilder().addAllOperations(ops).setAtomic(atomic).build();
    if (request.getSerializedSize() > maxRequestBytes) {
      return CompletableFuture.failedFuture(
          new CairnException(
              Status.Code.INVALID_ARGUMENT,
              null,
              false,
              "request is "
                  + request.getSerializedSize()
                  + " bytes; the limit is "
                  + maxRequestBytes,
              null));
    }
    return settled(request.getOperationsList(), sendWrite(request));
  }

  private CompletableFuture<SubmitResponse> sendWrite(SubmitRequest request) {
    List<String> ids = request.getOperationsList().stream().map(Operation::getId).toList();
    return caller.call(Caller.Kind.WRITE, null, request, LedgerServiceStub::submit, ids);
  }

  // ---- reads ----

  /**
   * The account, read linearizably: {@link #getAccount(String, ReadOptions)} with the default
   * options.
   *
   * @return {@code found} and the account (balance, version) with the stamp it was read at
   * @throws CairnException INVALID_ARGUMENT (final) when the node finds the id malformed; a
   *     retryable code when no node answered within the retries (try again later); otherwise as on
   *     {@link CairnClient}. A read never throws {@link OutcomeUnknownException}
   */
  public GetAccountResponse getAccount(String account) {
    return getAccount(account, ReadOptions.getDefaultInstance());
  }

  /**
   * The account, read with the given consistency: LINEARIZABLE (default) sees every write
   * acknowledged before the call; STALE is answered by any node once it has applied {@code
   * min_applied_index}. Not verified against the state root: see {@link #verifiedAccount(String)}.
   *
   * @return {@code found} and the account (balance, version) with the stamp it was read at
   * @throws CairnException INVALID_ARGUMENT (final) when the node finds the id malformed; a
   *     retryable code when no node answered within the retries (try again later); otherwise as on
   *     {@link CairnClient}. A read never throws {@link OutcomeUnknownException}; UNAVAILABLE or
   *     DEADLINE_EXCEEDED (retryable) when the node did not reach {@code min_applied_index} in time
   */
  public GetAccountResponse getAccount(String account, ReadOptions read) {
    return read(
        GetAccountRequest.newBuilder().setAccount(account).setRead(read).build(),
        LedgerServiceStub::getAccount);
  }

  /**
   * The account, read linearizably and returned only after its Merkle proof (of presence, or of
   * absence when not found) checks out against the state root the node stamped on the reply, and is
   * about this account and this very leaf. This proves the reply is consistent with that root; to
   * trust the root itself, compare it with one obtained elsewhere (another node, a Watch), or
   * verify {@link #proof(String)} with {@link ProofVerifier} against a root you trust.
   *
   * @return {@code found}, the account and its proof, with the stamp they were read at
   * @throws CairnException DATA_LOSS (final) when the proof does not verify or disagrees with the
   *     reply; FAILED_PRECONDITION (final) when the node runs without the Merkle tree ({@code
   *     merkle.enabled=0}); otherwise as {@link #getAccount(String)}
   */
  public GetAccountResponse verifiedAccount(String account) {
    GetAccountResponse r =
        read(
            GetAccountRequest.newBuilder().setAccount(account).setWithProof(true).build(),
            LedgerServiceStub::getAccount);
    ProofVerifier.Result verdict =
        ProofVerifier.verify(r.getProof(), r.getStamp().getStateRoot().toByteArray());
    // A node could send a valid proof about some other account: check it is about this one.
    boolean consistent =
        verdict.valid()
            && r.getProof().getAccount().equals(account)
            && r.getProof().getPresent() == r.getFound()
            && (!r.getFound()
                || (r.getAccount().getId().equals(account)
                    && r.getProof().getLeaf().equals(r.getAccount())));
    if (!consistent) {
      throw new CairnException(
          Status.Code.DATA_LOSS,
          null,
          false,
          "proof for "
              + account
              + " does not verify: "
              + (verdict.valid() ? "proof and reply disagree" : verdict.reason()),
          null);
    }
    return r;
  }

  /**
   * A Merkle proof of {@code account} (of presence or of absence), read linearizably, not verified
   * here: check it with {@link ProofVerifier#verify} against a root you trust.
   *
   * @return the proof and the stamp (with the state root) it was made at
   * @throws CairnException FAILED_PRECONDITION (final) when the node runs without the Merkle tree;
   *     otherwise as {@link #getAccount(String)}
   */
  public GetProofResponse proof(String account) {
    return read(
        GetProofRequest.newBuilder().setAccount(account).build(), LedgerServiceStub::getProof);
  }

  /**
   * The stored operation and result of an operation id (transfer, mint, burn or create), read
   * linearizably: the way to resolve an {@link OutcomeUnknownException}.
   *
   * <p>{@code found} true: the operation was applied (or refused) with that result, once. {@code
   * found} false: it had not been applied when the read was served (the node's history store keeps
   * every applied operation). A delayed copy of the request could still reach the leader after such
   * a read; to settle an unknown outcome for good, resend the same operation (same id and {@code
   * created_at}): it either applies now or returns the stored result, never both.
   *
   * @return {@code found}, the operation, its result and the principal whose request applied it,
   *     and the stamp
   * @throws CairnException INVALID_ARGUMENT (final) when the node finds the id malformed; a
   *     retryable code when no node answered within the retries (try again later); otherwise as on
   *     {@link CairnClient}. A read never throws {@link OutcomeUnknownException}
   */
  public GetTransferResponse getTransfer(String id) {
    return read(GetTransferRequest.newBuilder().setId(id).build(), LedgerServiceStub::getTransfer);
  }

  /**
   * One page of an account's statement: the operations that changed it (its creation, mints, burns,
   * transfers in and out), in log order, each with the balance after it; read at one applied index,
   * linearizably unless {@code request.read} says otherwise.
   *
   * @param request the account, optional bounds ({@code from_index}, {@code to_index}, {@code
   *     since_millis}), {@code limit} (0: the node's default of 100; capped by its {@code
   *     api.list.max.limit}) and {@code page_token} from the previous page (empty to start)
   * @return the lines and {@code next_page_token}, empty when there are no more
   * @throws CairnException INVALID_ARGUMENT (final) for a malformed account, token or bound;
   *     otherwise as {@link #getTransfer(String)}
   */
  public ListTransfersResponse listTransfers(ListTransfersRequest request) {
    return read(request, LedgerServiceStub::listTransfers);
  }

  /**
   * One page of accounts in id order (lexicographic), read linearizably at one applied index.
   *
   * @param startAfter exclusive lower bound on the account id; empty to start at the first
   * @param limit most accounts in the page; 0 means the node's default (100), larger values are
   *     capped at the node's {@code api.list.max.limit}
   * @return the accounts and {@code next_start_after}, empty when there are no more; pass it back
   *     to read the next page (later pages may be at a later applied index)
   * @throws CairnException as {@link #getAccount(String)}
   */
  public ListAccountsResponse listAccounts(String startAfter, int limit) {
    return read(
        ListAccountsRequest.newBuilder().setStartAfter(startAfter).setLimit(limit).build(),
        LedgerServiceStub::listAccounts);
  }

  /**
   * The first page of role holders, read linearizably: {@link #listRoles(String, int, ReadOptions)}
   * from the start with the node's default page size (100).
   *
   * @throws CairnException as {@link #getAccount(String)}
   */
  public ListRolesResponse listRoles() {
    return listRoles("", 0, ReadOptions.getDefaultInstance());
  }

  /**
   * One page of the principals that hold roles, each with its roles, sorted by principal, read with
   * the given consistency (as {@link #getAccount(String, ReadOptions)}) at one applied index.
   *
   * @param startAfter exclusive lower bound on the principal; empty to start at the first
   * @param limit most principals in the page; 0 means the node's default (100), larger values are
   *     capped at the node's {@code api.list.max.limit}
   * @param read LINEARIZABLE (default) or STALE with a minimum applied index
   * @return the grants and {@code next_start_after}, empty when there are no more; pass it back to
   *     read the next page (later pages may be at a later applied index)
   * @throws CairnException INVALID_ARGUMENT (final) when {@code startAfter} is neither empty nor a
   *     principal; otherwise as {@link #getAccount(String, ReadOptions)}
   */
  public ListRolesResponse listRoles(String startAfter, int limit, ReadOptions read) {
    return read(
        ListRolesRequest.newBuilder()
            .setStartAfter(startAfter)
            .setLimit(limit)
            .setRead(read)
            .build(),
        LedgerServiceStub::listRoles);
  }

  /**
   * Ledger totals, read linearizably at one applied index: account count, minted, burned and total
   * balance (always minted - burned) and the dedupe window's size and floor.
   *
   * @throws CairnException as {@link #getAccount(String)}
   */
  public LedgerSummary summary() {
    return read(LedgerSummaryRequest.getDefaultInstance(), LedgerServiceStub::getLedgerSummary);
  }

  /**
   * The cluster as seen by one node: the first endpoint that answers, trying the others on
   * retryable failures. Not linearizable: role, leader and indexes are that node's current view.
   *
   * @throws CairnException a retryable code when no node answered within the retries; otherwise as
   *     on {@link CairnClient}
   */
  public ClusterStatusResponse status() {
    return read(ClusterStatusRequest.getDefaultInstance(), LedgerServiceStub::clusterStatus);
  }

  /**
   * One node's own view: a single attempt at that endpoint, no retry, no failover.
   *
   * @param endpoint host:port of the node to ask (mapped by {@link
   *     CairnClientBuilder#addressResolver})
   * @throws CairnException whatever that one attempt ended with, {@link
   *     CairnException#isRetryable()} saying whether asking again later may succeed
   */
  public ClusterStatusResponse status(String endpoint) {
    return join(
        caller.call(
            Caller.Kind.PINNED,
            endpoint,
            ClusterStatusRequest.getDefaultInstance(),
            LedgerServiceStub::clusterStatus,
            List.of()));
  }

  /**
   * Adds a voting member (admin). Start the new node first with {@code cluster.join=1}; the leader
   * brings it up to date before it votes. Idempotent: adding a member already present with the same
   * addresses succeeds, so retrying after any failure is safe. Retried like a write; one membership
   * change runs at a time (ABORTED, retryable, while another is committing).
   *
   * @param id the new node's {@code node.id}
   * @param raftAddress host:port of its Raft endpoint
   * @param apiEndpoint host:port of its API endpoint
   * @return the committed membership
   * @throws CairnException FAILED_PRECONDITION (final) when the cluster refuses the change;
   *     DEADLINE_EXCEEDED or another retryable code when it did not commit in time (the new member
   *     may still be catching up: check {@link #status()}, then call again); otherwise as on {@link
   *     CairnClient}
   * @throws OutcomeUnknownException the change may or may not be committed (no operation ids): call
   *     again, or read the membership with {@link #status()}
   */
  public MembershipResponse addMember(String id, String raftAddress, String apiEndpoint) {
    AddMemberRequest request =
        AddMemberRequest.newBuilder()
            .setId(id)
            .setRaftAddress(raftAddress)
            .setApiEndpoint(apiEndpoint)
            .build();
    return join(
        caller.call(Caller.Kind.WRITE, null, request, LedgerServiceStub::addMember, List.of()));
  }

  /**
   * Removes a member (admin), the leader included (it steps down once the change commits).
   * Idempotent: removing an id that is not a member succeeds, so retrying after any failure is
   * safe. Retried like a write; fails like {@link #addMember}.
   *
   * @param id the member's {@code node.id}
   * @return the committed membership
   * @throws CairnException as {@link #addMember}
   * @throws OutcomeUnknownException the change may or may not be committed (no operation ids): call
   *     again, or read the membership with {@link #status()}
   */
  public MembershipResponse removeMember(String id) {
    RemoveMemberRequest request = RemoveMemberRequest.newBuilder().setId(id).build();
    return join(
        caller.call(Caller.Kind.WRITE, null, request, LedgerServiceStub::removeMember, List.of()));
  }

  // ---- watch ----

  /**
   * {@link #subscribe(long, int)} with a buffer of 64 entries.
   *
   * @throws IllegalArgumentException when {@code fromIndex} is negative
   * @throws CairnException as {@link #subscribe(long, int)}
   */
  public Subscription subscribe(long fromIndex) {
    return subscribe(fromIndex, 64);
  }

  /**
   * Streams every committed ledger entry with log index {@code >= fromIndex} (0: from the entry
   * after the one the first answering node has applied now), in order, without gaps or duplicates,
   * resuming on another node after a failure. At most {@code bufferEntries} entries wait between
   * the network and {@link Subscription#poll}. Failures of the stream, including {@link
   * CompactedException} when no node still holds the entries, are thrown by {@link
   * Subscription#poll}. Close the subscription (or this client) to stop it.
   *
   * @param fromIndex the first log index wanted, or 0 for "from now"
   * @param bufferEntries at least 1
   * @throws IllegalArgumentException when {@code fromIndex} is negative or {@code bufferEntries} is
   *     below 1
   * @throws CairnException CANCELLED when this client is closed; when {@code fromIndex} is 0,
   *     whatever {@link #status()} throws
   */
  public Subscription subscribe(long fromIndex, int bufferEntries) {
    if (fromIndex < 0) {
      throw new IllegalArgumentException("fromIndex must be >= 0");
    }
    if (closed.get()) {
      throw new CairnException(Status.Code.CANCELLED, null, false, "client is closed", null);
    }
    long from = fromIndex == 0 ? status().getAppliedIndex() + 1 : fromIndex;
    Subscription s =
        new Subscription(
            caller, timer, from, bufferEntries, totalTimeoutMillis, subscriptions::remove);
    subscriptions.add(s);
    s.start();
    return s;
  }

  /** Endpoints known now: the configured ones and any leader the cluster pointed to. */
  public List<String> endpoints() {
    return caller.endpoints();
  }

  /**
   * The circuit-breaker state of every endpoint known now (as {@link #endpoints()}, in that order):
   * {@link EndpointState#OPEN} ones are skipped while another endpoint can be tried. A snapshot;
   * for every change as it happens, see {@link CairnClientBuilder#endpointStateListener}.
   */
  public java.util.Map<String, EndpointState> endpointStates() {
    return caller.endpointStates();
  }

  private <Q, R> R read(Q request, Caller.Rpc<Q, R> rpc) {
    return join(caller.call(Caller.Kind.READ, null, request, rpc, List.of()));
  }

  private static <T> T join(CompletableFuture<T> f) {
    try {
      return f.get();
    } catch (ExecutionException | CompletionException e) {
      Throwable c = e.getCause();
      if (c instanceof CairnException ce) {
        throw ce;
      }
      throw new CairnException(Status.Code.UNKNOWN, null, false, String.valueOf(c), c);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CairnException(Status.Code.CANCELLED, null, false, "interrupted", e);
    }
  }

  /**
   * Closes every channel, ends every open {@link Subscription} and stops the client's threads;
   * idempotent. Calls still pending fail, mostly with CANCELLED; a write among them may or may not
   * be applied (look its id up with another client). Later calls fail with CANCELLED.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    if (coalescer != null) {
      coalescer.close();
    }
    for (Subscription s : List.copyOf(subscriptions)) {
      s.close();
    }
    caller.close();
    timer.shutdownNow();
    callbacks.shutdown();
    try {
      callbacks.awaitTermination(2, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    callbacks.shutdownNow();
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
