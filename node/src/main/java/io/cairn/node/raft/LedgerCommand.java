package io.cairn.node.raft;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.node.ledger.Caller;
import io.cairn.proto.LogEntry;
import io.cairn.proto.SubmitRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.thirdparty.com.google.protobuf.UnsafeByteOperations;

/**
 * The command of one log entry: the leader's clock and the client requests it grouped, both as
 * parsed messages and as the entry's bytes (the {@link LogEntry} format).
 *
 * <p>The leader builds the bytes from each request's bytes as the client sent them, framed as field
 * 2 of {@code LogEntry}: byte for byte what encoding a {@code LogEntry} of the parsed requests
 * would give for canonical input, without encoding anything again. The parsed requests ride along
 * in-process to the leader's own apply ({@link LedgerStateMachine#startTransaction}), so the leader
 * parses each request once, on arrival, and a follower parses each entry once, at apply.
 */
public final class LedgerCommand implements Message {
  private static final int LEADER_TIME_FIELD = LogEntry.LEADER_TIME_MILLIS_FIELD_NUMBER;
  private static final int REQUESTS_FIELD = LogEntry.REQUESTS_FIELD_NUMBER;
  private static final int PRINCIPALS_FIELD = LogEntry.PRINCIPALS_FIELD_NUMBER;
  private static final int BOOTSTRAP_ADMIN_FIELD = LogEntry.BOOTSTRAP_ADMIN_FIELD_NUMBER;

  private final long leaderTimeMillis;
  private final List<SubmitRequest> requests;
  private final List<String> principals;
  private final String bootstrapAdmin;
  // An entry from before principals were recorded: every request counts as the bootstrap admin.
  private final boolean legacy;
  private final ByteString bytes;

  private LedgerCommand(
      long leaderTimeMillis,
      List<SubmitRequest> requests,
      List<String> principals,
      String bootstrapAdmin,
      boolean legacy,
      ByteString bytes) {
    this.legacy = legacy;
    this.leaderTimeMillis = leaderTimeMillis;
    this.requests = requests;
    this.principals = principals;
    this.bootstrapAdmin = bootstrapAdmin;
    this.bytes = bytes;
  }

  /**
   * The command for {@code requests}, whose encodings as received are {@code raw}, submitted by
   * {@code principals} (all three in the same order, of the same length), built by a leader whose
   * bootstrap admin is {@code bootstrapAdmin} ("" for none).
   */
  public static LedgerCommand of(
      long leaderTimeMillis,
      List<SubmitRequest> requests,
      List<byte[]> raw,
      List<String> principals,
      String bootstrapAdmin) {
    if (requests.size() != raw.size() || requests.size() != principals.size()) {
      throw new IllegalArgumentException(
          requests.size()
              + " requests, "
              + raw.size()
              + " bodies, "
              + principals.size()
              + " principals");
    }
    // proto3 leaves a zero field out; so does this, to stay the canonical encoding.
    int size =
        leaderTimeMillis == 0
            ? 0
            : CodedOutputStream.computeInt64Size(LEADER_TIME_FIELD, leaderTimeMillis);
    for (byte[] r : raw) {
      size += CodedOutputStream.computeByteArraySize(REQUESTS_FIELD, r);
    }
    for (String p : principals) {
      size += CodedOutputStream.computeStringSize(PRINCIPALS_FIELD, p);
    }
    if (!bootstrapAdmin.isEmpty()) {
      size += CodedOutputStream.computeStringSize(BOOTSTRAP_ADMIN_FIELD, bootstrapAdmin);
    }
    byte[] out = new byte[size];
    CodedOutputStream coded = CodedOutputStream.newInstance(out);
    try {
      if (leaderTimeMillis != 0) {
        coded.writeInt64(LEADER_TIME_FIELD, leaderTimeMillis);
      }
      for (byte[] r : raw) {
        coded.writeByteArray(REQUESTS_FIELD, r);
      }
      for (String p : principals) {
        coded.writeString(PRINCIPALS_FIELD, p);
      }
      if (!bootstrapAdmin.isEmpty()) {
        coded.writeString(BOOTSTRAP_ADMIN_FIELD, bootstrapAdmin);
      }
      coded.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new UncheckedIOException("sized exactly, so cannot happen", e);
    }
    return new LedgerCommand(
        leaderTimeMillis,
        List.copyOf(requests),
        List.copyOf(principals),
        bootstrapAdmin,
        false,
        UnsafeByteOperations.unsafeWrap(out));
  }

  /** Parses an entry's bytes (a follower, or any node replaying its log). */
  static LedgerCommand decode(ByteString logData) throws InvalidProtocolBufferException {
    LogEntry entry = LogEntry.parseFrom(logData.asReadOnlyByteBuffer());
    List<String> principals = entry.getPrincipalsList();
    if (principals.size() != entry.getRequestsCount()) {
      if (!principals.isEmpty()) {
        throw new InvalidProtocolBufferException(
            entry.getRequestsCount() + " requests but " + principals.size() + " principals");
      }
      // Written before principals were recorded, when every caller could do everything: replay
      // must give the results that were acknowledged then, so each request counts as the
      // bootstrap admin, not as nobody.
      return new LedgerCommand(
          entry.getLeaderTimeMillis(),
          entry.getRequestsList(),
          java.util.Collections.nCopies(entry.getRequestsCount(), ""),
          entry.getBootstrapAdmin(),
          true,
          logData);
    }
    return new LedgerCommand(
        entry.getLeaderTimeMillis(),
        entry.getRequestsList(),
        principals,
        entry.getBootstrapAdmin(),
        false,
        logData);
  }

  /** The leader's clock when it built the entry; ledger time is max(previous, this). */
  public long leaderTimeMillis() {
    return leaderTimeMillis;
  }

  /** The client requests, in entry order. */
  public List<SubmitRequest> requests() {
    return requests;
  }

  /** Who submitted request {@code i}: its client certificate's CN, or "". */
  public String principal(int i) {
    return principals.get(i);
  }

  /**
   * Who submitted request {@code i}, as the ledger decides with it: the recorded principal, and
   * whether the building leader named it its bootstrap admin.
   */
  public Caller caller(int i) {
    String p = principals.get(i);
    if (legacy) {
      return new Caller("", true);
    }
    return new Caller(p, !bootstrapAdmin.isEmpty() && bootstrapAdmin.equals(p));
  }

  /** The building leader's bootstrap admin ("" for none). */
  public String bootstrapAdmin() {
    return bootstrapAdmin;
  }

  /** The entry's bytes, as they go into the log. */
  @Override
  public ByteString getContent() {
    return bytes;
  }

  @Override
  public String toString() {
    return "LedgerCommand(" + requests.size() + " requests, " + bytes.size() + " bytes)";
  }
}
