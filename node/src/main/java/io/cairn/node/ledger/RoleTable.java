package io.cairn.node.ledger;

import io.cairn.proto.Role;
import io.cairn.proto.RoleGrant;
import io.cairn.proto.rules.Rules;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Who holds which roles: principal → its roles, never empty (a principal whose last role is revoked
 * leaves the table). Sorted by principal so that pages, snapshots and invariant checks never see a
 * hash order; each stored set is unmodifiable and never changed once stored (a change stores a new
 * set), so a snapshot copy shares them.
 *
 * <p>Not thread-safe, like the {@link Ledger} that owns it.
 */
final class RoleTable {
  private final TreeMap<String, Set<Role>> byPrincipal = new TreeMap<>();

  /** The roles of {@code principal}: an unmodifiable set in role order, empty for none. */
  Set<Role> roles(String principal) {
    Set<Role> r = byPrincipal.get(principal);
    return r != null ? r : Set.of();
  }

  /** Principals holding at least one role. */
  int size() {
    return byPrincipal.size();
  }

  /**
   * The table's own instance of {@code principal} when it holds roles, else {@code principal}: an
   * account's owner kept as that instance costs no string of its own per account.
   */
  String canonical(String principal) {
    Map.Entry<String, Set<Role>> e = byPrincipal.ceilingEntry(principal);
    return e != null && e.getKey().equals(principal) ? e.getKey() : principal;
  }

  /** Sets the roles of {@code principal}; an empty set removes it. */
  void put(String principal, Set<Role> roles) {
    if (roles.isEmpty()) {
      byPrincipal.remove(principal);
    } else {
      byPrincipal.put(principal, frozen(roles));
    }
  }

  /** An unmodifiable copy of {@code roles}, iterated in role order. */
  static Set<Role> frozen(Set<Role> roles) {
    EnumSet<Role> copy = EnumSet.noneOf(Role.class);
    copy.addAll(roles);
    return Collections.unmodifiableSet(copy);
  }

  /** Up to {@code limit} grants with principal greater than {@code startAfter}, in order. */
  List<RoleGrant> grantsAfter(String startAfter, int limit) {
    List<RoleGrant> out = new ArrayList<>(Math.min(limit, 1024));
    for (Map.Entry<String, Set<Role>> e : byPrincipal.tailMap(startAfter, false).entrySet()) {
      if (out.size() >= limit) {
        break;
      }
      out.add(grant(e.getKey(), e.getValue()));
    }
    return out;
  }

  static RoleGrant grant(String principal, Set<Role> roles) {
    return RoleGrant.newBuilder().setPrincipal(principal).addAllRoles(roles).build();
  }

  /** The principals and their (shared, unmodifiable) role sets, in principal order. */
  String[] principals() {
    return byPrincipal.keySet().toArray(new String[0]);
  }

  /** The role sets, aligned with {@link #principals()}; a copy of the list, the sets shared. */
  List<Set<Role>> roleSets() {
    return new ArrayList<>(byPrincipal.values());
  }

  /** O(n): every principal valid and every set non-empty and of real roles. */
  void checkConsistent() {
    for (Map.Entry<String, Set<Role>> e : byPrincipal.entrySet()) {
      if (!Rules.isValidPrincipal(e.getKey())
          || e.getValue().isEmpty()
          || !e.getValue().stream().allMatch(Rules::isValidRole)) {
        throw new IllegalStateException(
            "role table entry '" + e.getKey() + "' -> " + e.getValue() + " is invalid");
      }
    }
  }
}
