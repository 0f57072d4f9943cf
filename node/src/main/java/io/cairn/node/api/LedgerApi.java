package io.cairn.node.api;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.config.ConfigKeys;
import io.cairn.node.config.HotSettings;
import io.cairn.node.config.NodeConfig;
import io.cairn.node.ledger.LedgerTotals;
import io.cairn.node.metrics.NodeMetrics;
import io.cairn.node.raft.LedgerStateMachine;
import io.cairn.node.raft.Peer;
import io.cairn.node.raft.RaftNode;
import io.cairn.node.raft.RaftStatus;
import io.cairn.node.raft.WriteFailure;
import io.cairn.node.store.HistoryStore;
import io.cairn.proto.AddMemberRequest;
import io.cairn.proto.ClusterStatusRequest;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.Consistency;
import io.cairn.proto.ErrorDetail;
import io.cairn.proto.GetAccountRequest;
import io.cairn.proto.GetAccountResponse;
import io.cairn.proto.GetProofRequest;
import io.cairn.proto.GetProofResponse;
import io.cairn.proto.GetTransferRequest;
import io.cairn.proto.GetTransferResponse;
import io.cairn.proto.LedgerServiceGrpc;
import io.cairn.proto.LedgerSummary;
import io.cairn.proto.LedgerSummaryRequest;
import io.cairn.proto.ListAccountsRequest;
import io.cairn.proto.ListAccountsResponse;
import io.cairn.proto.ListRolesRequest;
import io.cairn.proto.ListRolesResponse;
import io.cairn.proto.ListTransfersRequest;
import io.cairn.proto.ListTransfersResponse;
import io.cairn.proto.MembershipResponse;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.RemoveMemberRequest;
import io.cairn.proto.SaveSnapshotRequest;
import io.cairn.proto.SnapshotChunk;
import io.cairn.proto.SubmitRequest;
import io.cairn.proto.SubmitResponse;
import io.cairn.proto.errors.Errors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The public gRPC {@code LedgerService} of one node. Writes are served on the leader and grouped
 * into log entries by the {@link WriteBatcher}; a follower forwards them to the leader ({@link
 * Forwarder}), or with {@code api.forward.enabled=0} answers NOT_LEADER with the leader's endpoint.
 * Reads are linearizable through a barrier entry in the log (see {@link #barrier()}), or stale with
 * a minimum applied index, and always served from one consistent view.
 */
final class LedgerApi extends LedgerServiceGrpc.LedgerServiceImplBase {
  private static final byte[] EMPTY_REQUEST = new byte[0];
  private final RaftNode raft;
  private final NodeMetrics metrics;
  private final LedgerStateMachine state;
  private final BackupStreams backups;
  private final ClusterClock clock;
  private final SpaceWatch space;
  private final String bootstrapAdmin;
  private final WriteBatcher batcher;
  private final RequestValidator validator;
  private final Executor responder;
  private final Map<String, String> endpointsById;
  private final Membership membership;
  private final HotSettings hot;
  private final SignatureCheck signatures;
  private final java.util.concurrent.ThreadPoolExecutor verifier;
  private final boolean unsafeLocalReads;
  private final Forwarder forwarder; // null: followers answer NOT_LEADER

  /** Submit as the leader's API takes it: the request's bytes, unchanged. */
  private static final io.grpc.MethodDescriptor<byte[], byte[]> SUBMIT_RAW =
      io.cairn.proto.wire.RawBytes.method(LedgerServiceGrpc.getSubmitMethod());

  private final boolean merkleEnabled;

  LedgerApi(
      NodeConfig config,
      RaftNode raft,
      WriteBatcher batcher,
      Executor responder,
      NodeMetrics metrics,
      HotSettings hot,
      Forwarder forwarder,
      ClusterClock clock,
      SpaceWatch space) {
    this.hot = hot;
    this.clock = clock;
    this.space = space;
    this.forwarder = forwarder;
    this.raft = raft;
    this.metrics = metrics;
    this.state = raft.stateMachine();
    this.backups = new BackupStreams(state);
    this.batcher = batcher;
    this.responder = responder;
    this.validator = new RequestValidator(hot);
    this.endpointsById =
        config.peers().stream()
            .collect(Collectors.toMap(NodeConfig.Peer::id, NodeConfig.Peer::apiEndpoint));
    this.membership = new Membership(raft, hot);
    this.merkleEnabled = config.getLong("merkle.enabled") == 1;
    this.bootstrapAdmin = config.get(ConfigKeys.AUTH_BOOTSTRAP_ADMIN);
    this.unsafeLocalReads = config.getLong("debug.unsafe.local.reads") == 1;
    this.signatures =
        new SignatureCheck(this::appliedKey, config.get(ConfigKeys.DEBUG_SKIP_SIGNATURE_CHECKS));
    // An Ed25519 check takes hundreds of microseconds here: too long for the transport's event
    // loop, so signed requests wait their turn on two threads; a full queue is OVERLOADED.
    this.verifier = ApiServer.boundedPool("cairn-verify", 2, 4096);
    this.verifier.setRejectedExecutionHandler(
        new java.util.concurrent.ThreadPoolExecutor.AbortPolicy());
  }

  private SignatureCheck.AccountKey appliedKey(String account) {
    return state.read(
        v ->
            v.ledger()
                .account(account)
                .map(
                    a ->
                        new SignatureCheck.AccountKey(
                            a.getPublicKey().toByteArray(), a.getRequireSignatures()))
                .orElse(null));
  }

  // ---- writes ----

  /**
   * Submit, served on the request's bytes (ApiServer binds it so): they are parsed once here,
   * checked, and go into the log entry unchanged; the reply is encoded once.
   */
  void submit(byte[] raw, StreamObserver<byte[]> out) {
    long started = System.nanoTime();
    String principal = Principals.current();
    SubmitRequest request;
    try {
      request = SubmitRequest.parseFrom(raw);
    } catch (InvalidProtocolBufferException e) {
      metrics.rejection("invalid");
      out.onError(ApiErrors.invalid("request", "malformed request: " + e.getMessage()));
      return;
    }
    String notStrict = StrictDecoding.reason(request, raw);
    if (notStrict != null) {
      // These bytes would go into the log as they came (ApiServer.RequestGuard checks the others).
      metrics.rejection("invalid");
      out.onError(ApiErrors.invalid("request", notStrict));
      return;
    }
    StatusRuntimeException invalid = validator.check(request);
    if (invalid != null) {
      metrics.rejection("invalid");
      out.onError(invalid);
      return;
    }
    // One look at Raft per Submit: a ready leader serves it; anything else is forwarded (or,
    // when this node may not forward, refused with the leader's address by submitHere).
    if (raft.isLeaderReady()) {
      signThenQueue(request, raw, principal, out, started);
    } else if (!toLeader(
        SUBMIT_RAW,
        raw,
        principal,
        true,
        out,
        () -> submitHere(request, raw, principal, out, started))) {
      submitHere(request, raw, principal, out, started);
    }
  }

  /**
   * Sends the call being handled to the leader through this node, if it should go there: this node
   * does not lead (or was just elected and is not ready: then the call waits until it is),
   * forwarding is on, and the call was not itself forwarded here (never twice). {@code here} runs
   * instead if this node becomes the ready leader meanwhile. Returns false when the call is to be
   * served (or refused) here.
   */
  private <Q, R> boolean toLeader(
      io.grpc.MethodDescriptor<Q, R> method,
      Q request,
      String principal,
      boolean write,
      StreamObserver<R> out,
      Runnable here) {
    if (forwarder == null || Principals.forwarded() || raft.isLeaderReady()) {
      return false;
    }
    long timeout = hot.get(write ? "api.write.timeout.millis" : "api.read.timeout.millis");
    forwarder.forward(method, request, principal, write, timeout, out, here);
    return true;
  }

  /** Submit on the leader (elsewhere: NOT_LEADER, the leader's address as a hint). */
  private void submitHere(
      SubmitRequest request,
      byte[] raw,
      String principal,
      StreamObserver<byte[]> out,
      long started) {
    StatusRuntimeException elsewhere = notLeaderHere();
    if (elsewhere != null) {
      metrics.rejection("not_leader");
      out.onError(elsewhere);
      return;
    }
    signThenQueue(request, raw, principal, out, started);
  }

  /** On the leader: signed requests through the verifier pool, the rest straight to the batch. */
  private void signThenQueue(
      SubmitRequest request,
      byte[] raw,
      String principal,
      StreamObserver<byte[]> out,
      long started) {
    // The leader's two refusals of a whole request come before its signature checks: a refused
    // request costs no Ed25519 verification.
    if (holdsNoRole(principal)) {
      // Every operation needs a role (docs/internals.md, Roles and owners): appending the request
      // would only fill the log with refusals.
      metrics.rejection("no_role");
      out.onError(ApiErrors.permissionDenied(ApiErrors.holdsNoRole(principal)));
      return;
    }
    SpaceWatch.Low low = space.anyLow();
    if (low != null) {
      // Every member takes every entry: one whose disk is nearly full would stop on it.
      metrics.rejection("no_space");
      out.onError(ApiErrors.noSpace(low));
      return;
    }
    if (SignatureCheck.anySigned(request)) {
      try {
        verifier.execute(
            io.grpc.Context.current()
                .wrap(() -> verifyThenQueue(request, raw, principal, out, started)));
      } catch (java.util.concurrent.RejectedExecutionException full) {
        metrics.rejection("overloaded");
        out.onError(ApiErrors.overloaded("the leader's signature checks", 20));
      }
      return;
    }
    queue(request, raw, principal, out, started);
  }

  /** On the verifier pool: the leader's check of every signature, before the entry is built. */
  private void verifyThenQueue(
      SubmitRequest request,
      byte[] raw,
      String principal,
      StreamObserver<byte[]> out,
      long started) {
    StatusRuntimeException bad = signatures.check(request);
    if (bad != null) {
      metrics.rejection("invalid");
      out.onError(bad);
      return;
    }
    queue(request, raw, principal, out, started);
  }

  private void queue(
      SubmitRequest request,
      byte[] raw,
      String principal,
      StreamObserver<byte[]> out,
      long started) {
    CompletableFuture<SubmitResponse> pending = batcher.offer(request, raw, principal);
    if (pending == null) {
      metrics.rejection("overloaded");
      out.onError(ApiErrors.overloaded("the leader's write queue", 20));
      return;
    }
    withdrawOnCancel(out, pending);
    boolean mayForward = forwarder != null && !Principals.forwarded();
    long timeout = hot.get("api.write.timeout.millis");
    pending
        .orTimeout(timeout, TimeUnit.MILLISECONDS)
        .whenComplete(
            (response, err) -> {
              if (mayForward && lostLeadership(err)) {
                // This node stopped leading with the write in hand (a handover, or deposed): the
                // new leader answers it instead. Safe to resend: its ids are deduplicated.
                long left = timeout - (System.nanoTime() - started) / 1_000_000;
                forwarder.forward(
                    SUBMIT_RAW, raw, principal, true, left, out, () -> respond(out, null, err));
                return;
              }
              metrics.submitLatency().record(System.nanoTime() - started, TimeUnit.NANOSECONDS);
              if (response != null) {
                countResults(request, response);
              } else {
                metrics.rejection("failed");
              }
              respond(out, response == null ? null : response.toByteArray(), err);
            });
  }

  /**
   * Whether the leader knows, from its applied state, that {@code principal} holds no role: then
   * every operation of its request would be refused, so the request is refused whole (not
   * appended). Known only once this leader has applied an entry of its own term (so every grant a
   * client was told about is applied here); before that, and for the bootstrap admin or a request
   * without a principal, the request goes to the log and the ledger decides per operation.
   */
  private boolean holdsNoRole(String principal) {
    return !principal.isEmpty()
        && !principal.equals(bootstrapAdmin)
        && state.knownToHoldNoRole(principal, raft::currentTerm);
  }

  /**
   * A caller that cancels (or whose deadline passes) while its write still waits in the queue takes
   * it back: it is never appended, and its admission slot was the last thing it held. Once in an
   * entry it goes on, as any write whose reply was lost. The handler can be set only while gRPC's
   * handler runs (the plain write path); a write queued later (after a signature check or a wait
   * for a leader) is withdrawn if its call was cancelled by the time it is queued.
   */
  private void withdrawOnCancel(StreamObserver<byte[]> out, CompletableFuture<SubmitResponse> f) {
    if (!(out instanceof ServerCallStreamObserver<byte[]> call)) {
      return;
    }
    Runnable withdraw =
        () -> {
          if (batcher.withdraw(f)) {
            metrics.rejection("cancelled");
          }
        };
    try {
      call.setOnCancelHandler(withdraw);
    } catch (IllegalStateException afterTheHandler) {
      if (call.isCancelled()) {
        withdraw.run();
      }
    }
  }

  private static boolean lostLeadership(Throwable err) {
    Throwable cause = err;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause instanceof WriteFailure wf
        && (wf.kind() == ErrorDetail.Kind.NOT_LEADER || wf.kind() == ErrorDetail.Kind.NO_LEADER);
  }

  private void countResults(SubmitRequest request, SubmitResponse response) {
    int n = Math.min(request.getOperationsCount(), response.getResultsCount());
    for (int i = 0; i < n; i++) {
      metrics.operation(request.getOperations(i).getKindCase(), response.getResults(i).getCode());
    }
  }

  // ---- reads ----

  private StatusRuntimeException proofsOff() {
    return Status.FAILED_PRECONDITION
        .withDescription("this node runs with merkle.enabled=0 (benchmark mode): no proofs")
        .asRuntimeException();
  }

  @Override
  public void getAccount(GetAccountRequest request, StreamObserver<GetAccountResponse> out) {
    StatusRuntimeException invalid =
        first(
            RequestValidator.account("account", request.getAccount()),
            RequestValidator.readOptions(request.getRead()));
    if (invalid == null && request.getWithProof() && !merkleEnabled) {
      invalid = proofsOff();
    }
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    read(
        request.getRead(),
        LedgerServiceGrpc.getGetAccountMethod(),
        request,
        out,
        view -> {
          GetAccountResponse.Builder b = GetAccountResponse.newBuilder().setStamp(view.stamp());
          view.ledger()
              .account(request.getAccount())
              .ifPresent(a -> b.setFound(true).setAccount(a));
          if (request.getWithProof()) {
            b.setProof(
                view.tree().prove(request.getAccount()).toBuilder()
                    .setAppliedIndex(view.stamp().getAppliedIndex()));
          }
          return b.build();
        });
  }

  @Override
  public void getProof(GetProofRequest request, StreamObserver<GetProofResponse> out) {
    StatusRuntimeException invalid =
        first(
            RequestValidator.account("account", request.getAccount()),
            RequestValidator.readOptions(request.getRead()));
    if (invalid == null && !merkleEnabled) {
      invalid = proofsOff();
    }
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    read(
        request.getRead(),
        LedgerServiceGrpc.getGetProofMethod(),
        request,
        out,
        view ->
            GetProofResponse.newBuilder()
                .setStamp(view.stamp())
                .setProof(
                    view.tree().prove(request.getAccount()).toBuilder()
                        .setAppliedIndex(view.stamp().getAppliedIndex()))
                .build());
  }

  @Override
  public void getTransfer(GetTransferRequest request, StreamObserver<GetTransferResponse> out) {
    StatusRuntimeException invalid =
        first(
            RequestValidator.account("id", request.getId()),
            RequestValidator.readOptions(request.getRead()));
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    read(
        request.getRead(),
        LedgerServiceGrpc.getGetTransferMethod(),
        request,
        out,
        view -> {
          GetTransferResponse.Builder b =
              GetTransferResponse.newBuilder()
                  .setStamp(view.stamp())
                  .setWindowFloorMillis(view.ledger().totals().floorMillis());
          view.ledger()
              .operation(request.getId())
              .or(() -> Optional.ofNullable(view.history().find(request.getId(), Long.MAX_VALUE)))
              .ifPresent(
                  r ->
                      b.setFound(true)
                          .setPrincipal(r.getPrincipal())
                          .setOperation(r.getOperation())
                          .setResult(
                              io.cairn.proto.OperationResult.newBuilder()
                                  .setId(r.getOperation().getId())
                                  .setCode(r.getCode())
                                  .setAppliedIndex(r.getAppliedIndex())));
          return b.build();
        });
  }

  @Override
  public void listAccounts(ListAccountsRequest request, StreamObserver<ListAccountsResponse> out) {
    String after = request.getStartAfter();
    StatusRuntimeException invalid =
        first(
            after.isEmpty() ? null : RequestValidator.account("start_after", after),
            RequestValidator.readOptions(request.getRead()));
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    int limit = pageLimit(request.getLimit());
    read(
        request.getRead(),
        LedgerServiceGrpc.getListAccountsMethod(),
        request,
        out,
        view -> {
          var page = view.ledger().accountsAfter(after, limit);
          ListAccountsResponse.Builder b =
              ListAccountsResponse.newBuilder().setStamp(view.stamp()).addAllAccounts(page);
          if (page.size() == limit) {
            b.setNextStartAfter(page.get(page.size() - 1).getId());
          }
          return b.build();
        });
  }

  /**
   * An account's statement from the history store: the lines of operations that changed it, in log
   * order, a page at a time, read like {@link #listAccounts}.
   */
  @Override
  public void listTransfers(
      ListTransfersRequest request, StreamObserver<ListTransfersResponse> out) {
    StatusRuntimeException invalid =
        first(
            first(
                RequestValidator.account("account", request.getAccount()),
                HistoryStore.validPageToken(request.getPageToken().toByteArray())
                    ? null
                    : ApiErrors.invalid(
                        "page_token", "is not a token a ListTransfers answer gave")),
            first(
                request.getSinceMillis() < 0
                    ? ApiErrors.invalid("since_millis", "must not be negative")
                    : null,
                RequestValidator.readOptions(request.getRead())));
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    HistoryStore.Query q =
        new HistoryStore.Query(
            request.getAccount(),
            request.getFromIndex(),
            request.getToIndex(),
            request.getSinceMillis(),
            request.getPageToken().toByteArray(),
            pageLimit(request.getLimit()));
    read(
        request.getRead(),
        LedgerServiceGrpc.getListTransfersMethod(),
        request,
        out,
        view -> {
          HistoryStore.Page page = view.history().statement(q);
          return ListTransfersResponse.newBuilder()
              .setStamp(view.stamp())
              .addAllLines(page.lines())
              .setNextPageToken(ByteString.copyFrom(page.nextPageToken()))
              .build();
        });
  }

  /** A page's size: {@code asked}, 100 when 0, at most {@code api.list.max.limit}. */
  /** {@code limit} is a uint32: 2^31 and above arrive as negative ints and are capped too. */
  private int pageLimit(int asked) {
    long unsigned = Integer.toUnsignedLong(asked);
    return unsigned == 0 ? 100 : (int) Math.min(unsigned, hot.getInt("api.list.max.limit"));
  }

  /** Who holds which roles, a page in principal order, read like {@link #listAccounts}. */
  @Override
  public void listRoles(ListRolesRequest request, StreamObserver<ListRolesResponse> out) {
    String after = request.getStartAfter();
    StatusRuntimeException invalid =
        first(
            after.isEmpty() || io.cairn.proto.rules.Rules.isValidPrincipal(after)
                ? null
                : ApiErrors.invalid("start_after", "must be empty or a principal"),
            RequestValidator.readOptions(request.getRead()));
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    int limit = pageLimit(request.getLimit());
    read(
        request.getRead(),
        LedgerServiceGrpc.getListRolesMethod(),
        request,
        out,
        view -> {
          var page = view.ledger().roleGrantsAfter(after, limit);
          ListRolesResponse.Builder b =
              ListRolesResponse.newBuilder().setStamp(view.stamp()).addAllGrants(page);
          if (page.size() == limit) {
            b.setNextStartAfter(page.get(page.size() - 1).getPrincipal());
          }
          return b.build();
        });
  }

  @Override
  public void getLedgerSummary(LedgerSummaryRequest request, StreamObserver<LedgerSummary> out) {
    StatusRuntimeException invalid = RequestValidator.readOptions(request.getRead());
    if (invalid != null) {
      out.onError(invalid);
      return;
    }
    read(
        request.getRead(),
        LedgerServiceGrpc.getGetLedgerSummaryMethod(),
        request,
        out,
        view -> {
          LedgerTotals t = view.ledger().totals();
          return LedgerSummary.newBuilder()
              .setAccountCount(t.accountCount())
              .setTotalMinted(t.totalMinted())
              .setTotalBurned(t.totalBurned())
              .setTotalBalance(t.totalBalance())
              .setDedupeEntries(t.dedupeEntries())
              .setDedupeFloorMillis(t.floorMillis())
              .setStamp(view.stamp())
              .build();
        });
  }

  @Override
  public void clusterStatus(
      ClusterStatusRequest request, StreamObserver<ClusterStatusResponse> out) {
    RaftStatus info = raft.status();
    var stamp = state.stamp();
    String leader = info.leaderId();
    ClusterStatusResponse.Builder b =
        ClusterStatusResponse.newBuilder()
            .setNodeId(raft.selfId())
            .setRole(info.role())
            .setTerm(info.term())
            .setLeaderId(leader)
            .setLeaderEndpoint(endpointOf(leader))
            .setAppliedIndex(stamp.getAppliedIndex())
            .setCommitIndex(Math.max(0, raft.commitIndex()))
            .setStateRoot(stamp.getStateRoot())
            .addAllMembers(Membership.members(raft.members()))
            .setStamp(stamp)
            .setWallClockMillis(clock.localMillis())
            .setFreeBytes(space.freeBytes())
            .setLowOnSpace(space.low());
    out.onNext(b.build());
    out.onCompleted();
  }

  // ---- admin ----

  @Override
  public void addMember(AddMemberRequest request, StreamObserver<MembershipResponse> out) {
    Runnable here = () -> membership.add(request, out, this::notLeaderHere, this::toStatus);
    if (!toLeader(
        LedgerServiceGrpc.getAddMemberMethod(), request, Principals.current(), true, out, here)) {
      here.run();
    }
  }

  @Override
  public void removeMember(RemoveMemberRequest request, StreamObserver<MembershipResponse> out) {
    Runnable here = () -> membership.remove(request, out, this::notLeaderHere, this::toStatus);
    if (!toLeader(
        LedgerServiceGrpc.getRemoveMemberMethod(),
        request,
        Principals.current(),
        true,
        out,
        here)) {
      here.run();
    }
  }

  @Override
  public void saveSnapshot(SaveSnapshotRequest request, StreamObserver<SnapshotChunk> out) {
    backups.save(out);
  }

  /** NOT_LEADER pointing at the leader this node knows, or null when this node leads. */
  private StatusRuntimeException notLeaderHere() {
    RaftStatus info = raft.status();
    if (info.isLeader()) {
      return null;
    }
    return redirect(info.leaderId(), true);
  }

  /**
   * Where to send the client instead: NOT_LEADER with the leader's endpoint, or NO_LEADER. A leader
   * that is not ready yet (it has not committed in its term) is named by its own Raft layer as the
   * leader; pointing the client at this very node would only burn its attempts, so that is
   * NOT_READY with a short retry hint.
   */
  private StatusRuntimeException redirect(String leader, boolean notApplied) {
    if (leader.equals(raft.selfId())) {
      return Errors.exception(
          ErrorDetail.newBuilder()
              .setKind(ErrorDetail.Kind.NOT_READY)
              .setRetryAfterMillis(100)
              .setNotApplied(notApplied)
              .build(),
          "leader not ready yet; retry shortly");
    }
    return ApiErrors.notLeader(leader, endpointOf(leader), notApplied);
  }

  /** A member's API endpoint: from the replicated configuration, else from cluster.peers. */
  private String endpointOf(String id) {
    if (id.isEmpty()) {
      return "";
    }
    for (Peer p : raft.members()) {
      if (p.id().equals(id) && !p.apiEndpoint().isEmpty()) {
        return p.apiEndpoint();
      }
    }
    return endpointsById.getOrDefault(id, "");
  }

  // ---- plumbing ----

  /**
   * Serves {@code reader} once the read's consistency is satisfied: after a barrier entry for
   * LINEARIZABLE, after this node applied {@code min_applied_index} for STALE (also honoured for
   * LINEARIZABLE). Completion hops to the responder pool so Ratis threads never serialize replies.
   */
  private <Q, T> void read(
      ReadOptions options,
      io.grpc.MethodDescriptor<Q, T> method,
      Q request,
      StreamObserver<T> out,
      Function<LedgerStateMachine.View, T> reader) {
    boolean linearizable =
        options.getConsistency() == Consistency.LINEARIZABLE && !unsafeLocalReads;
    Runnable here = () -> readHere(options, out, reader);
    if (!linearizable || !toLeader(method, request, Principals.current(), false, out, here)) {
      here.run();
    }
  }

  private <T> void readHere(
      ReadOptions options, StreamObserver<T> out, Function<LedgerStateMachine.View, T> reader) {
    CompletableFuture<?> ready;
    long timeoutMillis = hot.get("api.read.timeout.millis");
    if (options.getConsistency() == Consistency.LINEARIZABLE && !unsafeLocalReads) {
      long min = options.getMinAppliedIndex();
      ready = barrier().thenCompose(index -> awaitIndex(Math.max(index, min), timeoutMillis));
    } else {
      ready = awaitIndex(options.getMinAppliedIndex(), timeoutMillis);
    }
    ready
        .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .whenComplete(
            (ignored, err) -> {
              if (err != null) {
                respond(out, null, readTimedOut(err, options, timeoutMillis));
                return;
              }
              runOnResponder(
                  () -> {
                    T value;
                    try {
                      value = state.read(reader);
                    } catch (RuntimeException e) {
                      out.onError(
                          Status.INTERNAL.withDescription(e.toString()).asRuntimeException());
                      return;
                    }
                    out.onNext(value);
                    out.onCompleted();
                  });
            });
  }

  /**
   * A read's own timeout, said as one (the write path's timeout answer speaks of writes); other
   * failures unchanged.
   */
  private Throwable readTimedOut(Throwable err, ReadOptions options, long timeoutMillis) {
    Throwable cause = err;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (!(cause instanceof TimeoutException)) {
      return err;
    }
    return Status.DEADLINE_EXCEEDED
        .withDescription(
            "read not served within api.read.timeout.millis ("
                + timeoutMillis
                + " ms)"
                + (options.getMinAppliedIndex() > 0
                    ? ": waiting for min_applied_index " + options.getMinAppliedIndex()
                    : ""))
        .asRuntimeException();
  }

  /**
   * The index of a log entry appended after this read arrived, once this leader has applied it:
   * state read then reflects every write acknowledged before the read began (linearizable).
   *
   * <p>Not Ratis's ReadIndex: its leader answers a read at once, without a heartbeat round, when an
   * earlier read already confirmed the same commit index. A leader that was paused (GC, VM,
   * SIGSTOP) and deposed meanwhile, and has committed nothing since, therefore serves stale reads
   * after it resumes. The chaos suite caught exactly that (docs/internals.md). An empty entry rides
   * in the same batch as concurrent writes, so reads under write load cost almost nothing.
   */
  private CompletableFuture<Long> barrier() {
    StatusRuntimeException elsewhere = notLeaderHere();
    if (elsewhere != null) {
      return CompletableFuture.failedFuture(elsewhere);
    }
    CompletableFuture<SubmitResponse> pending =
        batcher.offer(SubmitRequest.getDefaultInstance(), EMPTY_REQUEST, "");
    if (pending == null) {
      metrics.rejection("overloaded");
      return CompletableFuture.failedFuture(ApiErrors.overloaded("the leader's write queue", 20));
    }
    return pending.thenApply(r -> r.getStamp().getAppliedIndex());
  }

  /**
   * Completes once {@code minIndex} is applied here. The wait itself carries the deadline (not only
   * the future composed on it): a linearizable read's wait on an index that never comes (a hostile
   * {@code min_applied_index} of 2^63) then leaves the bounded wait list when it times out, instead
   * of holding a place in it for good.
   */
  private CompletableFuture<Long> awaitIndex(long minIndex, long timeoutMillis) {
    if (minIndex <= 0) {
      return CompletableFuture.completedFuture(0L);
    }
    CompletableFuture<Long> f = state.awaitApplied(minIndex);
    if (f == null) {
      return CompletableFuture.failedFuture(ApiErrors.overloaded("the read wait list", 50));
    }
    return f.orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  private <T> void respond(StreamObserver<T> out, T value, Throwable err) {
    runOnResponder(
        () -> {
          if (err == null) {
            out.onNext(value);
            out.onCompleted();
          } else {
            out.onError(toStatus(err));
          }
        });
  }

  private StatusRuntimeException toStatus(Throwable err) {
    Throwable cause = err;
    while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof StatusRuntimeException sre) {
      return sre;
    }
    if (cause instanceof TimeoutException) {
      return ApiErrors.unavailable(
          ErrorDetail.Kind.OUTCOME_UNKNOWN,
          "timed out waiting for the cluster; a write may still be applied: retry with the same"
              + " ids to learn its outcome",
          false);
    }
    if (cause instanceof WriteFailure wf) {
      return switch (wf.kind()) {
        case NOT_LEADER, NO_LEADER ->
            redirect(
                wf.leaderId().isEmpty() ? raft.status().leaderId() : wf.leaderId(),
                wf.notApplied());
        case OVERLOADED -> ApiErrors.overloaded("the raft write queue", 20);
        default -> ApiErrors.unavailable(wf.kind(), wf.getMessage(), wf.notApplied());
      };
    }
    return ApiErrors.unavailable(ErrorDetail.Kind.OUTCOME_UNKNOWN, String.valueOf(cause), false);
  }

  /** Runs {@code r} on the responders (inline when already there; see {@link Responders}). */
  private void runOnResponder(Runnable r) {
    responder.execute(r);
  }

  private static StatusRuntimeException first(StatusRuntimeException a, StatusRuntimeException b) {
    return a != null ? a : b;
  }
}
