package io.cairn.node.ledger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.cairn.proto.Operation;
import io.cairn.proto.ResultCode;
import io.cairn.proto.Transfer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * The dedupe table against a plain model (a map plus a queue): random adds and evictions, through
 * growth past the initial capacity, over ids of which half share one hash code (built from "Aa" and
 * "BB"), so probe chains are long, mix with other homes, and deletions shift entries back.
 */
class DedupeTableTest {
  record Step(boolean add, int id) {}

  @Provide
  Arbitrary<List<Step>> steps() {
    Arbitrary<Step> step =
        Arbitraries.integers()
            .between(0, 99)
            .flatMap(
                roll -> Arbitraries.integers().between(0, 4095).map(id -> new Step(roll < 70, id)));
    return step.list().ofMinSize(1).ofMaxSize(3000);
  }

  @Property(tries = 60)
  void behavesLikeAMapWithAQueue(@ForAll("steps") List<Step> steps) {
    DedupeTable table = new DedupeTable();
    Map<String, Long> model = new HashMap<>();
    ArrayDeque<String> order = new ArrayDeque<>();
    long n = 0;
    for (Step s : steps) {
      if (s.add()) {
        String id = collidingId(s.id());
        if (model.containsKey(id)) {
          continue; // the ledger never adds an id it holds
        }
        n++;
        table.add(op(id, n), ResultCode.forNumber((int) (n % 5)), n, 1000 + n, principal(n));
        model.put(id, n);
        order.addLast(id);
      } else if (!order.isEmpty()) {
        String oldest = order.pollFirst();
        assertEquals(oldest, table.operation(table.oldest()).getId());
        table.evictOldest();
        model.remove(oldest);
      }
      assertEquals(model.size(), table.size());
    }
    table.checkConsistent();
    int i = 0;
    for (String id : order) {
      int slot = table.find(id);
      assertEquals(table.slotAt(i++), slot, id);
      long k = model.get(id);
      assertEquals(k, table.appliedIndex(slot));
      assertEquals(1000 + k, table.recordedAt(slot));
      assertEquals(k * 10, table.createdAt(slot));
      assertEquals(ResultCode.forNumber((int) (k % 5)), table.code(slot));
      assertEquals(op(id, k), table.operation(slot));
      assertEquals(principal(k), table.principal(slot));
    }
    DedupeTable.Frozen frozen = table.freeze();
    i = 0;
    for (String id : order) {
      long k = model.get(id);
      assertEquals(op(id, k).toByteString(), ByteString.copyFrom(frozen.operationBytes(i)));
      assertEquals(principal(k), ByteString.copyFrom(frozen.principalBytes(i)).toStringUtf8(), id);
      i++;
    }
    for (int id = 0; id < 4096; id += 97) {
      String s = collidingId(id);
      assertEquals(model.containsKey(s), table.find(s) >= 0, s);
    }
  }

  @Test
  void growsPastItsFirstCapacityAndKeepsOrder() {
    DedupeTable table = new DedupeTable();
    for (int i = 0; i < 5000; i++) {
      table.add(op("op-" + i, i), ResultCode.OK, i, i, "");
      if (i % 3 == 0) {
        table.evictOldest();
      }
    }
    table.checkConsistent();
    assertEquals(5000 - 1667, table.size());
    assertEquals("op-1667", table.operation(table.oldest()).getId());
    assertTrue(table.find("op-4999") >= 0);
    assertEquals(-1, table.find("op-1666"));
  }

  @Test
  void idsCraftedToShareOneStringHashCodeKeepProbesShort() {
    DedupeTable table = new DedupeTable();
    int n = 0;
    for (int i = 0; i < 20_000; i++) { // 20,000 ids with one String.hashCode
      StringBuilder id = new StringBuilder(32);
      for (int bit = 0; bit < 16; bit++) {
        id.append(((i >> bit) & 1) == 0 ? "Aa" : "BB");
      }
      assertEquals("Aa".repeat(16).hashCode(), id.toString().hashCode());
      table.add(op(id.toString(), i), ResultCode.OK, i, i, "");
      n++;
    }
    assertEquals(n, table.size());
    // Under String.hashCode all 20,000 would share one home: a probe chain of 19,999.
    assertTrue(table.longestProbe() < 64, "longest probe " + table.longestProbe());
    table.checkConsistent();
  }

  /** Even i: twelve "Aa"/"BB" blocks chosen by the bits of i, all with one hash code. */
  static String collidingId(int i) {
    if (i % 2 == 1) {
      return "x" + i;
    }
    StringBuilder b = new StringBuilder(24);
    for (int bit = 0; bit < 12; bit++) {
      b.append(((i >> bit) & 1) == 0 ? "Aa" : "BB");
    }
    return b.toString();
  }

  /** No principal, a short one, or one of the longest (64 characters). */
  static String principal(long k) {
    return switch ((int) (k % 3)) {
      case 0 -> "";
      case 1 -> "client-" + (k % 7);
      default -> "p".repeat(63) + (k % 10);
    };
  }

  static Operation op(String id, long k) {
    return Operation.newBuilder()
        .setId(id)
        .setCreatedAtMillis(k * 10)
        .setTransfer(Transfer.newBuilder().setFrom("a").setTo("b").setAmount(k + 1))
        .build();
  }
}
