package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class KeyedCapsTest {
  @Test
  void bothCapsHoldAndAReleaseGivesBackItsPlace() {
    KeyedCaps<String> caps = new KeyedCaps<>(3, 2);
    assertNull(caps.tryAcquire("a"));
    assertNull(caps.tryAcquire("a"));
    assertEquals(KeyedCaps.Refusal.PER_KEY, caps.tryAcquire("a"));
    assertNull(caps.tryAcquire("b"));
    assertEquals(KeyedCaps.Refusal.TOTAL, caps.tryAcquire("c"));
    assertEquals(3, caps.total());
    caps.release("a");
    assertNull(caps.tryAcquire("c"));
    caps.release("b");
    caps.release("c");
    caps.release("a");
    assertEquals(0, caps.total());
    assertNull(caps.tryAcquire("a"));
    assertNull(caps.tryAcquire("a"));
  }
}
