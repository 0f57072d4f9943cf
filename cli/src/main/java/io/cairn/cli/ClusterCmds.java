package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.CairnException;
import io.cairn.proto.ClusterStatusResponse;
import io.cairn.proto.MembershipResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code cairnctl cluster status|add-member|remove-member}. */
final class ClusterCmds {
  private ClusterCmds() {}

  @Command(
      name = "cluster",
      description = "Cluster administration.",
      subcommands = {ClusterStatus.class, AddMember.class, RemoveMember.class})
  static final class ClusterCmd extends CliCommand.Group {}

  @Command(
      name = "status",
      description = {
        "Every member's own view: role, term, applied and commit index, state root.",
        "Warns when two nodes at the same applied index report different roots."
      })
  static final class ClusterStatus extends CliCommand {
    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        ClusterStatusResponse any = c.status();
        List<ClusterStatusView.Row> rows = new ArrayList<>();
        for (var m : any.getMembersList()) {
          ClusterStatusResponse s;
          try {
            s = c.status(m.getApiEndpoint());
          } catch (CairnException e) {
            s = null;
          }
          rows.add(new ClusterStatusView.Row(m.getId(), m.getApiEndpoint(), s));
        }
        ClusterStatusView view = new ClusterStatusView(rows);
        emit(view.text(), view.json());
        return Cairnctl.OK;
      }
    }
  }

  /** A membership change: prints the membership it left. */
  abstract static class MembershipChange extends CliCommand {
    int membership(String what, MembershipResponse r) {
      Map<String, Object> j = Json.object();
      List<Object> members = new ArrayList<>();
      StringBuilder human = new StringBuilder(what + "; members (term " + r.getTerm() + "):");
      for (var m : r.getMembersList()) {
        Map<String, Object> mj = Json.object();
        mj.put("id", m.getId());
        mj.put("raft_address", m.getRaftAddress());
        mj.put("api_endpoint", m.getApiEndpoint());
        members.add(mj);
        human
            .append(System.lineSeparator())
            .append("  ")
            .append(m.getId())
            .append("  raft ")
            .append(m.getRaftAddress())
            .append("  api ")
            .append(m.getApiEndpoint());
      }
      j.put("members", members);
      j.put("term", Json.u64(r.getTerm()));
      emit(human.toString(), j);
      return Cairnctl.OK;
    }
  }

  @Command(
      name = "add-member",
      description = {
        "Add a voting member. Start the new node first with cluster.join=1 (and its own"
            + " cluster.peers entry); the leader sends it the log or a snapshot before it"
            + " votes.",
        "Idempotent: re-running it after a timeout is safe."
      })
  static final class AddMember extends MembershipChange {
    @Parameters(index = "0", paramLabel = "ID", description = "The new node's node.id.")
    String id;

    @Parameters(
        index = "1",
        paramLabel = "RAFT_ADDRESS",
        description = "host:port of its Raft endpoint.")
    String raftAddress;

    @Parameters(
        index = "2",
        paramLabel = "API_ENDPOINT",
        description = "host:port of its API endpoint.")
    String apiEndpoint;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        return membership("added " + id, c.addMember(id, raftAddress, apiEndpoint));
      }
    }
  }

  @Command(
      name = "remove-member",
      description = {
        "Remove a member (the leader too: it steps down). Stop the removed node afterwards.",
        "Idempotent: removing an id that is not a member succeeds."
      })
  static final class RemoveMember extends MembershipChange {
    @Parameters(index = "0", paramLabel = "ID", description = "The member's node.id.")
    String id;

    @Override
    public Integer call() {
      try (CairnClient c = client()) {
        return membership("removed " + id, c.removeMember(id));
      }
    }
  }
}
