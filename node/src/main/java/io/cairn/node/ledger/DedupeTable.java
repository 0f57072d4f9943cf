package io.cairn.node.ledger;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import java.io.IOException;

/**
 * The dedupe table's storage: remembered operations in arrival order (a ring), found by id through
 * an open-addressing hash index. Built for the garbage collector, not for elegance: a record is one
 * {@code byte[]} (the id, the submitting principal, then the operation's protobuf bytes) plus a row
 * in a few primitive arrays, where a {@code HashMap} of protobuf records held about ten objects per
 * operation. Every record lives for minutes (the dedupe window) under load of thousands per second,
 * so those objects all reached the old generation and died there: G1's concurrent marking and
 * remembered set work then took more CPU than applying the operations (measured in the issue 7
 * notes).
 *
 * <p>Records leave only from the oldest end ({@link #evictOldest()}); the caller decides when.
 * Capacity grows by doubling as records are added and never shrinks. Ids must be valid ledger ids
 * and principals valid principals or empty (0-64 ASCII characters), which the ledger checks before
 * it records anything.
 *
 * <p>Not thread-safe, like the {@link Ledger} that owns it.
 */
final class DedupeTable {
  private static final int INITIAL_CAPACITY = 1024;

  // The ring: slot (head + i) % capacity holds the i-th oldest record.
  // [id length][id][principal length][principal][operation]
  private byte[][] record = new byte[INITIAL_CAPACITY][];
  private int[] hash = new int[INITIAL_CAPACITY];
  private long[] appliedIndex = new long[INITIAL_CAPACITY];
  private long[] recordedAt = new long[INITIAL_CAPACITY];
  private long[] createdAt = new long[INITIAL_CAPACITY];
  private byte[] code = new byte[INITIAL_CAPACITY];
  private int head;
  private int count;
  private long bytes;

  // Linear probing over slot + 1 (0 = empty); at most half full.
  private int[] index = new int[INITIAL_CAPACITY * 2];

  int size() {
    return count;
  }

  /**
   * The heap the records take: each record's bytes plus {@link #ROW_BYTES}. The arrays' spare
   * capacity is left out (the count bound caps it).
   */
  long bytes() {
    return bytes;
  }

  /** A record's array header and reference, its row in the primitive arrays and two index slots. */
  static final int ROW_BYTES = 16 + 8 + 4 + 3 * 8 + 1 + 2 * 4;

  /** What {@link #bytes()} grows by when {@code op} is added under {@code principal}. */
  static long bytesOf(Operation op, String principal) {
    return ROW_BYTES + recordLength(op, principal);
  }

  /** A record's length: both lengths, the id, the principal, then the operation. */
  private static int recordLength(Operation op, String principal) {
    return 2 + op.getId().length() + principal.length() + op.getSerializedSize();
  }

  /** The slot holding {@code id}, or -1. */
  int find(String id) {
    int h = hashOf(id);
    int mask = index.length - 1;
    for (int i = h & mask; ; i = (i + 1) & mask) {
      int v = index[i];
      if (v == 0) {
        return -1;
      }
      int slot = v - 1;
      if (hash[slot] == h && idEquals(record[slot], id)) {
        return slot;
      }
    }
  }

  /**
   * Remembers {@code op} (whose id is not in the table), submitted by {@code principal} ("" for
   * none), as the newest record.
   */
  void add(Operation op, ResultCode result, long applied, long recordedAtMillis, String principal) {
    String id = op.getId();
    if (count == record.length) {
      grow();
    }
    int slot = (head + count) % record.length;
    byte[] r = new byte[recordLength(op, principal)];
    int opOffset = 2 + id.length() + principal.length();
    int size = r.length - opOffset;
    r[0] = (byte) id.length();
    putAscii(id, r, 1); // valid ids and principals are ASCII
    r[1 + id.length()] = (byte) principal.length();
    putAscii(principal, r, 2 + id.length());
    try {
      CodedOutputStream out = CodedOutputStream.newInstance(r, opOffset, size);
      op.writeTo(out); // straight into the record: no intermediate array on every operation
      out.checkNoSpaceLeft();
    } catch (IOException e) {
      throw new IllegalStateException("cannot encode operation " + id, e);
    }
    record[slot] = r;
    bytes += ROW_BYTES + r.length;
    hash[slot] = hashOf(id);
    appliedIndex[slot] = applied;
    recordedAt[slot] = recordedAtMillis;
    createdAt[slot] = op.getCreatedAtMillis();
    code[slot] = (byte) result.getNumber();
    count++;
    insert(slot);
  }

  private static void putAscii(String s, byte[] to, int offset) {
    for (int i = 0; i < s.length(); i++) {
      to[offset + i] = (byte) s.charAt(i);
    }
  }

  /** Where the operation's bytes start in a record: after the id and the principal. */
  private static int opOffset(byte[] r) {
    int principalAt = 1 + r[0];
    return principalAt + 1 + r[principalAt];
  }

  /** The principal that submitted the record's operation ("" for none). */
  String principal(int slot) {
    byte[] r = record[slot];
    int at = 1 + r[0];
    return new String(r, at + 1, r[at], java.nio.charset.StandardCharsets.US_ASCII);
  }

  /** The slot of the oldest record; the table must not be empty. */
  int oldest() {
    return head;
  }

  /** The slot of the {@code i}-th oldest record, {@code 0 <= i < size()}. */
  int slotAt(int i) {
    return (head + i) % record.length;
  }

  /** Forgets the oldest record; the table must not be empty. */
  void evictOldest() {
    int slot = head;
    remove(slot);
    bytes -= ROW_BYTES + record[slot].length;
    record[slot] = null;
    head = (head + 1) % record.length;
    count--;
  }

  long appliedIndex(int slot) {
    return appliedIndex[slot];
  }

  long recordedAt(int slot) {
    return recordedAt[slot];
  }

  long createdAt(int slot) {
    return createdAt[slot];
  }

  ResultCode code(int slot) {
    ResultCode c = ResultCode.forNumber(code[slot]);
    return c != null ? c : ResultCode.UNRECOGNIZED;
  }

  /**
   * The records oldest first, copied: the arrays of records are shared (a record's bytes never
   * change once written), the columns are copied, so the table may go on changing while the copy is
   * written out. O(size) on the caller's thread, no per-record allocation.
   */
  Frozen freeze() {
    return new Frozen(
        unrolled(record, new byte[count][]),
        unrolled(code, new byte[count]),
        unrolled(appliedIndex, new long[count]),
        unrolled(recordedAt, new long[count]));
  }

  /**
   * Copies one column's live rows, oldest first, to the start of {@code to}: the ring is at most
   * two contiguous runs, so two array copies. Shared by {@link #freeze} and {@link #grow}.
   */
  private <A> A unrolled(A column, A to) {
    int firstRun = Math.min(count, record.length - head);
    System.arraycopy(column, head, to, 0, firstRun);
    System.arraycopy(column, 0, to, firstRun, count - firstRun);
    return to;
  }

  /** A copy of the table's records for a snapshot (see {@link #freeze}), oldest first. */
  static final class Frozen {
    private final byte[][] record;
    private final byte[] code;
    private final long[] appliedIndex;
    private final long[] recordedAt;

    private Frozen(byte[][] record, byte[] code, long[] appliedIndex, long[] recordedAt) {
      this.record = record;
      this.code = code;
      this.appliedIndex = appliedIndex;
      this.recordedAt = recordedAt;
    }

    /** How many records the copy holds. */
    int size() {
      return record.length;
    }

    /**
     * Record {@code i}'s operation as protobuf bytes (a read-only view, no copy): a snapshot writer
     * frames them as they are instead of decoding and re-encoding every record, which made writing
     * a snapshot 3x slower.
     */
    java.nio.ByteBuffer operationBytes(int i) {
      byte[] r = record[i];
      int offset = opOffset(r);
      // slice(): CodedOutputStream.writeRawBytes writes a buffer's whole capacity, not what
      // remains of it, so the view must be exactly the operation.
      return java.nio.ByteBuffer.wrap(r, offset, r.length - offset).slice().asReadOnlyBuffer();
    }

    /** Record {@code i}'s principal as its ASCII bytes (a read-only view; empty for none). */
    java.nio.ByteBuffer principalBytes(int i) {
      byte[] r = record[i];
      int at = 1 + r[0];
      return java.nio.ByteBuffer.wrap(r, at + 1, r[at]).slice().asReadOnlyBuffer();
    }

    /** Record {@code i}'s result code number. */
    int codeNumber(int i) {
      return code[i];
    }

    long appliedIndex(int i) {
      return appliedIndex[i];
    }

    long recordedAt(int i) {
      return recordedAt[i];
    }
  }

  /** The remembered operation, decoded afresh (reads and retries only, never the hot path). */
  Operation operation(int slot) {
    byte[] r = record[slot];
    int offset = opOffset(r);
    try {
      return Operation.parser().parseFrom(r, offset, r.length - offset);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("dedupe record in slot " + slot + " is corrupt", e);
    }
  }

  /** O(n): every record is found by its own id, and the index holds nothing else. */
  void checkConsistent() {
    long used = java.util.Arrays.stream(index).filter(v -> v != 0).count();
    if (used != count) {
      throw new IllegalStateException(
          "dedupe index holds " + used + " entries for " + count + " records");
    }
    for (int i = 0; i < count; i++) {
      int slot = slotAt(i);
      String id = operation(slot).getId();
      if (find(id) != slot) {
        throw new IllegalStateException("dedupe record '" + id + "' is not found by its id");
      }
    }
  }

  /** The farthest any index entry sits from its home position (probe steps); for tests. */
  int longestProbe() {
    int mask = index.length - 1;
    int longest = 0;
    for (int i = 0; i < index.length; i++) {
      if (index[i] != 0) {
        longest = Math.max(longest, (i - (hash[index[i] - 1] & mask)) & mask);
      }
    }
    return longest;
  }

  /** Seeded per process, so ids crafted to collide do not turn probing into O(n) per lookup. */
  private static int hashOf(String id) {
    return SeededHash.of(id);
  }

  private static boolean idEquals(byte[] r, String id) {
    int n = r[0];
    if (n != id.length()) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (r[1 + i] != (byte) id.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private void insert(int slot) {
    int mask = index.length - 1;
    int i = hash[slot] & mask;
    while (index[i] != 0) {
      i = (i + 1) & mask;
    }
    index[i] = slot + 1;
  }

  /** Backward-shift deletion: no tombstones, so lookups never slow down with churn. */
  private void remove(int slot) {
    int mask = index.length - 1;
    int i = hash[slot] & mask;
    while (index[i] != slot + 1) {
      i = (i + 1) & mask;
    }
    int j = i;
    while (true) {
      j = (j + 1) & mask;
      int v = index[j];
      if (v == 0) {
        index[i] = 0;
        return;
      }
      int home = hash[v - 1] & mask;
      // The entry at j may move back to the hole at i unless its home lies cyclically in (i, j].
      boolean stays = i <= j ? (i < home && home <= j) : (i < home || home <= j);
      if (!stays) {
        index[i] = v;
        i = j;
      }
    }
  }

  private void grow() {
    int capacity = record.length * 2;
    if (capacity < 0 || capacity > (1 << 29)) {
      throw new IllegalStateException("dedupe table cannot grow past " + record.length);
    }
    // Every column is unrolled against the old ring (record.length, head) before any is replaced.
    byte[][] r = unrolled(record, new byte[capacity][]);
    int[] h = unrolled(hash, new int[capacity]);
    long[] a = unrolled(appliedIndex, new long[capacity]);
    long[] t = unrolled(recordedAt, new long[capacity]);
    long[] c = unrolled(createdAt, new long[capacity]);
    byte[] k = unrolled(code, new byte[capacity]);
    record = r;
    hash = h;
    appliedIndex = a;
    recordedAt = t;
    createdAt = c;
    code = k;
    head = 0;
    index = new int[capacity * 2];
    for (int i = 0; i < count; i++) {
      insert(i);
    }
  }

  @Override
  public String toString() {
    return "DedupeTable{size=" + count + ", capacity=" + record.length + "}";
  }
}
