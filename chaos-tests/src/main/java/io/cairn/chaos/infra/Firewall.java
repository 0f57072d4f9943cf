package io.cairn.chaos.infra;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The network faults in force, and the iptables ruleset they give each node.
 *
 * <p>The whole filter table of a node's network namespace is rewritten at once with {@code
 * iptables-restore}, so a change is atomic per node and re-applying after a restart (new namespace,
 * maybe a new IP) is the same operation. Only traffic between nodes is cut; the host (the test's
 * clients) keeps reaching every node, and loopback is never touched.
 */
final class Firewall {
  /** An undirected link between two nodes that is cut. */
  record Link(String a, String b) {
    Link {
      if (a.equals(b)) {
        throw new IllegalArgumentException("a link joins two different nodes: " + a);
      }
      if (a.compareTo(b) > 0) {
        String t = a;
        a = b;
        b = t;
      }
    }

    boolean touches(String node) {
      return a.equals(node) || b.equals(node);
    }

    String other(String node) {
      return a.equals(node) ? b : a;
    }
  }

  private final Set<Link> cuts = new HashSet<>();
  private final Map<String, Integer> lossPercent = new TreeMap<>();

  void cut(String a, String b) {
    cuts.add(new Link(a, b));
  }

  void clearCuts() {
    cuts.clear();
  }

  void loss(String node, int percent) {
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("loss percent must be in [0, 100]: " + percent);
    }
    if (percent == 0) {
      lossPercent.remove(node);
    } else {
      lossPercent.put(node, percent);
    }
  }

  void clearLoss() {
    lossPercent.clear();
  }

  boolean isCut(String a, String b) {
    return cuts.contains(new Link(a, b));
  }

  /** The iptables-restore input for {@code node}, given every node's current IP. */
  String rulesFor(String node, Map<String, String> ipOf) {
    List<String> lines = new ArrayList<>();
    lines.add("*filter");
    lines.add(":INPUT ACCEPT [0:0]");
    lines.add(":FORWARD ACCEPT [0:0]");
    lines.add(":OUTPUT ACCEPT [0:0]");
    new TreeMap<String, String>(ipOf)
        .forEach(
            (peer, ip) -> {
              if (!peer.equals(node) && cuts.contains(new Link(node, peer))) {
                lines.add("-A INPUT -s " + ip + "/32 -j DROP");
                lines.add("-A OUTPUT -d " + ip + "/32 -j DROP");
              }
            });
    Integer loss = lossPercent.get(node);
    if (loss != null) {
      // Incoming only: applying it both ways would square the loss a peer sees.
      lines.add(
          "-A INPUT ! -i lo -m statistic --mode random --probability "
              + String.format(Locale.ROOT, "%.4f", loss / 100.0)
              + " -j DROP");
    }
    lines.add("COMMIT");
    return String.join("\n", lines) + "\n";
  }
}
