package io.cairn.cli;

import io.cairn.client.CairnClient;
import io.cairn.client.Ops;
import io.cairn.proto.Consistency;
import io.cairn.proto.ListRolesResponse;
import io.cairn.proto.ReadOptions;
import io.cairn.proto.Role;
import io.cairn.proto.RoleGrant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cairnctl role grant|revoke|list}: who may do what, kept in the replicated ledger. */
final class RoleCmds {
  private RoleCmds() {}

  @Command(
      name = "role",
      description = {
        "Grant, revoke and list roles. Roles: admin (everything), issuer (create"
            + " accounts, mint, burn), member (transfer from owned accounts). Changing roles"
            + " needs admin."
      },
      subcommands = {RoleGrantCmd.class, RoleRevokeCmd.class, RoleList.class})
  static final class RoleCmd extends CliCommand.Group {}

  /** A role as typed: admin, issuer or member, in any case. */
  static Role role(String raw) {
    return switch (raw.toLowerCase(Locale.ROOT)) {
      case "admin" -> Role.ADMIN;
      case "issuer" -> Role.ISSUER;
      case "member" -> Role.MEMBER;
      default ->
          throw new IllegalArgumentException(
              "role '" + raw + "' is not one of admin, issuer, member");
    };
  }

  /** A role as printed: lower case, as typed. */
  static String name(Role r) {
    return r.name().toLowerCase(Locale.ROOT);
  }

  /** What grant and revoke share: the arguments, and an optional id to retry under. */
  abstract static class Change extends CliCommand {
    @Parameters(index = "0", paramLabel = "PRINCIPAL", description = "A client certificate's CN.")
    String principal;

    @Parameters(index = "1", paramLabel = "ROLE", description = "admin, issuer or member.")
    String role;

    @Option(names = "--id", paramLabel = "ID", description = "Operation id (default: random).")
    String id;

    String opId() {
      return id == null ? Ops.newId() : id;
    }
  }

  @Command(
      name = "grant",
      description = "Give PRINCIPAL the ROLE (admin only; granting a held role is OK).")
  static final class RoleGrantCmd extends Change {
    @Override
    public Integer call() {
      Role r = role(role);
      try (CairnClient c = client()) {
        return result(c.grantRole(opId(), principal, r), "grant " + name(r) + " to " + principal);
      }
    }
  }

  @Command(
      name = "revoke",
      description = "Take the ROLE from PRINCIPAL (admin only; revoking an unheld role is OK).")
  static final class RoleRevokeCmd extends Change {
    @Override
    public Integer call() {
      Role r = role(role);
      try (CairnClient c = client()) {
        return result(
            c.revokeRole(opId(), principal, r), "revoke " + name(r) + " from " + principal);
      }
    }
  }

  @Command(name = "list", description = "List who holds which roles, by principal, a page a time.")
  static final class RoleList extends CliCommand {
    @Option(names = "--after", paramLabel = "PRINCIPAL", description = "Start after this one.")
    String after = "";

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100")
    int limit;

    @Option(names = "--stale", description = "Serve from the asked node without a leader round.")
    boolean stale;

    @Option(
        names = "--min-index",
        paramLabel = "N",
        description = "Wait until the node has applied index N (read-your-writes).")
    long minIndex;

    @Override
    public Integer call() {
      ReadOptions read =
          ReadOptions.newBuilder()
              .setConsistency(stale ? Consistency.STALE : Consistency.LINEARIZABLE)
              .setMinAppliedIndex(minIndex)
              .build();
      try (CairnClient c = client()) {
        ListRolesResponse r = c.listRoles(after, limit, read);
        emit(text(r), json(r));
        return Cairnctl.OK;
      }
    }

    static String text(ListRolesResponse r) {
      StringBuilder human = new StringBuilder();
      for (RoleGrant g : r.getGrantsList()) {
        human.append(String.format("%-40s %s%n", g.getPrincipal(), String.join(", ", names(g))));
      }
      if (r.getGrantsCount() == 0) {
        human.append("(no principal holds a role)\n");
      }
      if (!r.getNextStartAfter().isEmpty()) {
        human.append("(more: --after ").append(r.getNextStartAfter()).append(")\n");
      }
      return human.append(Views.stampText(r.getStamp())).toString();
    }

    static Map<String, Object> json(ListRolesResponse r) {
      List<Object> grants = new ArrayList<>();
      for (RoleGrant g : r.getGrantsList()) {
        Map<String, Object> o = Json.object();
        o.put("principal", g.getPrincipal());
        o.put("roles", new ArrayList<Object>(names(g)));
        grants.add(o);
      }
      Map<String, Object> j = Json.object();
      j.put("grants", grants);
      j.put("next_start_after", r.getNextStartAfter());
      j.put("stamp", Views.stampJson(r.getStamp()));
      return j;
    }

    private static List<String> names(RoleGrant g) {
      return g.getRolesList().stream().map(RoleCmds::name).toList();
    }
  }
}
