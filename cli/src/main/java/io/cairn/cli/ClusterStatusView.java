package io.cairn.cli;

import io.cairn.proto.ClusterStatusResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Formats {@code cluster status}: one row per member, and a root-agreement verdict: two reachable
 * nodes at the same applied index must report the same state root.
 */
final class ClusterStatusView {
  /** One member; {@code status} is null when it did not answer. */
  record Row(String id, String endpoint, ClusterStatusResponse status) {}

  private final List<Row> rows;
  private final boolean rootsAgree;

  ClusterStatusView(List<Row> rows) {
    this.rows = rows;
    Map<Long, String> rootAt = new HashMap<>();
    boolean agree = true;
    for (Row r : rows) {
      if (r.status() != null) {
        String root = Json.hex(r.status().getStateRoot());
        String seen = rootAt.putIfAbsent(r.status().getAppliedIndex(), root);
        agree &= seen == null || seen.equals(root);
      }
    }
    this.rootsAgree = agree;
  }

  boolean rootsAgree() {
    return rootsAgree;
  }

  List<Object> json() {
    List<Object> out = new ArrayList<>();
    for (Row r : rows) {
      Map<String, Object> j = Json.object();
      j.put("id", r.id());
      j.put("endpoint", r.endpoint());
      ClusterStatusResponse s = r.status();
      j.put("reachable", s != null);
      if (s != null) {
        j.put("role", s.getRole());
        j.put("term", Json.u64(s.getTerm()));
        j.put("applied_index", Json.u64(s.getAppliedIndex()));
        j.put("commit_index", Json.u64(s.getCommitIndex()));
        j.put("state_root", Json.hex(s.getStateRoot()));
        j.put("leader_id", s.getLeaderId());
        j.put("free_bytes", Json.u64(s.getFreeBytes()));
        j.put("low_on_space", s.getLowOnSpace());
      }
      j.put("root_agreement", rootsAgree);
      out.add(j);
    }
    return out;
  }

  String text() {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            "%-6s %-22s %-10s %6s %12s %12s  %s%n",
            "ID", "ENDPOINT", "ROLE", "TERM", "APPLIED", "COMMIT", "ROOT"));
    for (Row r : rows) {
      ClusterStatusResponse s = r.status();
      if (s == null) {
        sb.append(String.format("%-6s %-22s %-10s%n", r.id(), r.endpoint(), "UNREACHABLE"));
      } else {
        sb.append(
            String.format(
                "%-6s %-22s %-10s %6s %12s %12s  %s%n",
                r.id(),
                r.endpoint(),
                s.getRole(),
                Long.toUnsignedString(s.getTerm()),
                Long.toUnsignedString(s.getAppliedIndex()),
                Long.toUnsignedString(s.getCommitIndex()),
                Views.shortRoot(s.getStateRoot())));
      }
    }
    for (Row r : rows) {
      ClusterStatusResponse s = r.status();
      if (s != null && s.getLowOnSpace()) {
        sb.append("WARNING: ")
            .append(r.id())
            .append(" is low on disk space (")
            .append(Long.toUnsignedString(s.getFreeBytes()))
            .append(" bytes free): the cluster refuses writes (NO_SPACE) until it has room\n");
      }
    }
    if (!rootsAgree) {
      sb.append("WARNING: nodes at the same applied index report different state roots\n");
    }
    long up = rows.stream().map(Row::status).filter(Objects::nonNull).count();
    sb.append(up).append(" of ").append(rows.size()).append(" nodes answered");
    return sb.toString();
  }
}
