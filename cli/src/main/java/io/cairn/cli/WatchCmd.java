package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.CompactedException;
import io.cairn.client.Subscription;
import io.cairn.proto.Account;
import io.cairn.proto.OperationEvent;
import io.cairn.proto.WatchResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cairnctl watch}: prints committed ledger entries as they are applied. */
@Command(
    name = "watch",
    description = {
      "Print committed ledger entries in log order: per operation its result and the accounts it"
          + " changed. Resumes on another node if the one serving it fails; never skips an entry.",
      "With --json, one JSON object per entry per line."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:--limit entries printed, or --duration elapsed",
      "2:bad command-line input",
      "3:no node could be reached for --timeout, or the stream failed",
      "5:the entries asked for are compacted on every node (the oldest available index is printed)"
    })
final class WatchCmd extends CliCommand {
  static final int COMPACTED = 5;

  @Option(
      names = "--from",
      paramLabel = "INDEX",
      defaultValue = "0",
      description = "First log index to print (default 0: from the index the node is at now).")
  long from;

  @Option(
      names = "--limit",
      paramLabel = "N",
      defaultValue = "0",
      description = "Stop after N entries (default 0: no limit).")
  long limit;

  @Option(
      names = "--duration",
      paramLabel = "SECONDS",
      defaultValue = "0",
      description = "Stop after this long (default 0: until interrupted).")
  double durationSeconds;

  @Override
  public Integer call() {
    if (from < 0 || limit < 0 || durationSeconds < 0) {
      throw new IllegalArgumentException("--from, --limit and --duration must not be negative");
    }
    long deadline =
        durationSeconds == 0 ? Long.MAX_VALUE : System.nanoTime() + (long) (durationSeconds * 1e9);
    long printed = 0;
    try (CairnClient c = client();
        Subscription sub = c.subscribe(from)) {
      while ((limit == 0 || printed < limit) && System.nanoTime() < deadline) {
        WatchResponse e = sub.poll(Duration.ofMillis(200));
        if (e != null) {
          emit(text(e), json(e));
          printed++;
        }
      }
      return Cairnctl.OK;
    } catch (CompactedException e) {
      spec.commandLine().getErr().println("cairnctl: " + e.getMessage());
      spec.commandLine()
          .getErr()
          .println("resume with: cairnctl watch --from " + e.oldestAvailableIndex());
      return COMPACTED;
    }
  }

  static String text(WatchResponse e) {
    StringBuilder sb = new StringBuilder();
    sb.append("index ")
        .append(Long.toUnsignedString(e.getIndex()))
        .append(" (prev ")
        .append(Long.toUnsignedString(e.getPrevIndex()))
        .append(", term ")
        .append(e.getTerm())
        .append(", from ")
        .append(e.getNodeId())
        .append(", root ")
        .append(Views.shortRoot(e.getStateRoot()))
        .append("): ")
        .append(e.getEventsCount())
        .append(e.getEventsCount() == 1 ? " op" : " ops");
    for (OperationEvent ev : e.getEventsList()) {
      sb.append("\n  ")
          .append(Views.describe(ev.getOperation()))
          .append("  ")
          .append(ev.getResult().getCode().name())
          .append(ev.getResult().getReplayed() ? " (replayed)" : "")
          .append("  [id ")
          .append(ev.getResult().getId())
          .append(Views.byText(ev.getPrincipal()))
          .append("]");
      for (Account a : ev.getChangedList()) {
        sb.append("  ")
            .append(a.getId())
            .append('=')
            .append(Long.toUnsignedString(a.getBalance()))
            .append(" (v")
            .append(Long.toUnsignedString(a.getVersion()))
            .append(')');
      }
    }
    return sb.toString();
  }

  static Map<String, Object> json(WatchResponse e) {
    Map<String, Object> j = Json.object();
    j.put("index", Json.u64(e.getIndex()));
    j.put("prev_index", Json.u64(e.getPrevIndex()));
    j.put("term", Json.u64(e.getTerm()));
    j.put("node_id", e.getNodeId());
    j.put("entry_time_millis", e.getEntryTimeMillis());
    j.put("state_root", Json.hex(e.getStateRoot()));
    List<Object> events = new ArrayList<>();
    for (OperationEvent ev : e.getEventsList()) {
      Map<String, Object> o = Json.object();
      o.put("id", ev.getResult().getId());
      o.put("operation", Views.describe(ev.getOperation()));
      o.put("code", ev.getResult().getCode().name());
      o.put("replayed", ev.getResult().getReplayed());
      o.put("applied_index", Json.u64(ev.getResult().getAppliedIndex()));
      o.put("principal", ev.getPrincipal());
      List<Object> changed = new ArrayList<>();
      for (Account a : ev.getChangedList()) {
        changed.add(Views.accountJson(a));
      }
      o.put("changed", changed);
      events.add(o);
    }
    j.put("events", events);
    return j;
  }
}
