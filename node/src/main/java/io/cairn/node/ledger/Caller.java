package io.cairn.node.ledger;

import java.util.Objects;

/**
 * Who submitted one request, as the leader that built its log entry recorded it: every replica
 * decides permissions from these two values as they are in the log, never from its own config or
 * connections, so replaying an entry gives the same results everywhere.
 *
 * @param principal the subject CN of the client certificate the request came with: 1-64 characters
 *     of [A-Za-z0-9._:-] ({@link io.cairn.proto.rules.Rules#isValidPrincipal}), or {@code ""} for
 *     none. The API must refuse a certificate whose CN breaks that rule before anything reaches the
 *     log; the ledger denies every operation of a request whose principal breaks it anyway ({@code
 *     PERMISSION_DENIED}, not recorded), rather than stop every replica on that entry.
 * @param bootstrapAdmin whether the leader vouched that {@code principal} is the cluster's
 *     bootstrap admin (named by {@code auth.bootstrap.admin} in the leader's config). The flag is
 *     recorded in the log entry, so replicas with another config, or a later config, decide alike.
 *     Such a caller is an admin without holding the role.
 */
public record Caller(String principal, boolean bootstrapAdmin) {
  public Caller {
    Objects.requireNonNull(principal, "principal (use \"\" for none)");
  }
}
