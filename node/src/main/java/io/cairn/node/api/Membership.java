package io.cairn.node.api;

import io.cairn.node.config.HotSettings;
import io.cairn.node.raft.MembershipChangeException;
import io.cairn.node.raft.Peer;
import io.cairn.node.raft.RaftNode;
import io.cairn.proto.AddMemberRequest;
import io.cairn.proto.Member;
import io.cairn.proto.MembershipResponse;
import io.cairn.proto.RemoveMemberRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * AddMember / RemoveMember on the leader: one Raft configuration change at a time, each a
 * compare-and-set against the configuration the leader holds, so two admins racing cannot undo each
 * other silently. Both are idempotent (adding a present member or removing an absent one succeeds
 * and changes nothing), so a client may retry them after any failure.
 */
final class Membership {
  private static final Logger LOG = LoggerFactory.getLogger(Membership.class);
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,32}");
  private static final Pattern HOST_PORT = Pattern.compile("[A-Za-z0-9._-]{1,253}:[0-9]{1,5}");

  /** The largest group we accept: every member is a voter, and Raft gains nothing past this. */
  static final int MAX_MEMBERS = 9;

  private final RaftNode raft;
  private final HotSettings hot;

  Membership(RaftNode raft, HotSettings hot) {
    this.raft = raft;
    this.hot = hot;
  }

  static List<Member> members(Collection<Peer> peers) {
    List<Member> out = new ArrayList<>();
    for (Peer p : peers) {
      out.add(
          Member.newBuilder()
              .setId(p.id())
              .setRaftAddress(p.raftAddress())
              .setApiEndpoint(p.apiEndpoint())
              .build());
    }
    out.sort(java.util.Comparator.comparing(Member::getId));
    return out;
  }

  void add(
      AddMemberRequest request,
      StreamObserver<MembershipResponse> out,
      Supplier<StatusRuntimeException> notLeader,
      Function<Throwable, StatusRuntimeException> toStatus) {
    StatusRuntimeException invalid =
        first(
            check("id", request.getId(), ID, "1-32 characters of [A-Za-z0-9._-]"),
            check("raft_address", request.getRaftAddress(), HOST_PORT, "host:port"),
            check("api_endpoint", request.getApiEndpoint(), HOST_PORT, "host:port"));
    if (refused(out, invalid, notLeader)) {
      return;
    }
    List<Peer> current = raft.members();
    List<Peer> next = new ArrayList<>();
    for (Peer p : current) {
      if (!p.id().equals(request.getId())) {
        next.add(p);
      }
    }
    if (next.size() >= MAX_MEMBERS) {
      out.onError(
          ApiErrors.invalid(
              "id", "the group already has " + MAX_MEMBERS + " members, the most Cairn accepts"));
      return;
    }
    next.add(new Peer(request.getId(), request.getRaftAddress(), request.getApiEndpoint()));
    change("add " + request.getId(), current, next, out, toStatus);
  }

  void remove(
      RemoveMemberRequest request,
      StreamObserver<MembershipResponse> out,
      Supplier<StatusRuntimeException> notLeader,
      Function<Throwable, StatusRuntimeException> toStatus) {
    StatusRuntimeException invalid =
        check("id", request.getId(), ID, "1-32 characters of [A-Za-z0-9._-]");
    if (refused(out, invalid, notLeader)) {
      return;
    }
    List<Peer> current = raft.members();
    List<Peer> next = current.stream().filter(p -> !p.id().equals(request.getId())).toList();
    if (next.isEmpty()) {
      out.onError(ApiErrors.invalid("id", "cannot remove the last member of the group"));
      return;
    }
    change("remove " + request.getId(), current, next, out, toStatus);
  }

  /** Answers the first reason not to go on (bad input, then not the leader), if any. */
  private static boolean refused(
      StreamObserver<MembershipResponse> out,
      StatusRuntimeException invalid,
      Supplier<StatusRuntimeException> notLeader) {
    StatusRuntimeException error = invalid != null ? invalid : notLeader.get();
    if (error != null) {
      out.onError(error);
      return true;
    }
    return false;
  }

  private void change(
      String what,
      List<Peer> current,
      List<Peer> next,
      StreamObserver<MembershipResponse> out,
      Function<Throwable, StatusRuntimeException> toStatus) {
    // Membership waits for a new member to catch up, so it gets more time than a transfer.
    long timeoutMillis = 3 * hot.get("api.write.timeout.millis");
    // No special case for "nothing to change": Ratis answers such a request with success at
    // once, which is what makes both calls idempotent (a retry while the first change is still
    // in progress is refused as ABORTED, which clients retry). Ratis compares ids only, so the
    // reply lists the configuration as it now is, not the one asked for.
    LOG.info(
        "node={} membership: {} ({} -> {} members)",
        raft.selfId(),
        what,
        current.size(),
        next.size());
    CompletableFuture<Void> done =
        raft.changeMembers(current, next).orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
    done.whenComplete(
        (ok, err) -> {
          if (err == null) {
            LOG.info("node={} membership: {} committed", raft.selfId(), what);
            out.onNext(
                MembershipResponse.newBuilder()
                    .addAllMembers(members(raft.members()))
                    .setTerm(raft.status().term())
                    .build());
            out.onCompleted();
            return;
          }
          LOG.warn("node={} membership: {} failed: {}", raft.selfId(), what, err.toString());
          out.onError(status(err, toStatus));
        });
  }

  private static StatusRuntimeException status(
      Throwable err, Function<Throwable, StatusRuntimeException> toStatus) {
    Throwable cause = err;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof MembershipChangeException e
        && e.reason() == MembershipChangeException.Reason.IN_PROGRESS) {
      // Retryable: one change at a time, the previous one is still being committed.
      return Status.ABORTED
          .withDescription("another membership change is in progress; retry shortly")
          .asRuntimeException();
    }
    if (cause instanceof MembershipChangeException e) {
      return Status.FAILED_PRECONDITION
          .withDescription("membership change refused: " + e.getMessage())
          .asRuntimeException();
    }
    if (cause instanceof TimeoutException) {
      return Status.DEADLINE_EXCEEDED
          .withDescription(
              "membership change not committed in time (a new member may still be catching"
                  + " up); check cluster status, then retry: the call is idempotent")
          .asRuntimeException();
    }
    return toStatus.apply(cause);
  }

  private static StatusRuntimeException check(
      String field, String value, Pattern pattern, String expected) {
    if (!pattern.matcher(value).matches()) {
      return ApiErrors.invalid(field, "'" + abbreviate(value) + "' is not " + expected);
    }
    if (pattern == HOST_PORT) {
      int port = Integer.parseInt(value.substring(value.lastIndexOf(':') + 1));
      if (port < 1 || port > 65535) {
        return ApiErrors.invalid(field, "port " + port + " is out of range [1, 65535]");
      }
    }
    return null;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "...";
  }

  private static StatusRuntimeException first(StatusRuntimeException... errors) {
    for (StatusRuntimeException e : errors) {
      if (e != null) {
        return e;
      }
    }
    return null;
  }
}
