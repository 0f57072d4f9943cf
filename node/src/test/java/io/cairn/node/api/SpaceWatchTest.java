package io.cairn.node.api;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The watermark's two edges: low below it, writable again only 10% above it; 0 turns it off. */
class SpaceWatchTest {
  @Test
  void lowBelowTheWatermarkAndBackOnlyTenPercentAboveIt() {
    long min = 1000;
    assertFalse(SpaceWatch.next(false, 1000, min), "at the watermark is not below it");
    assertTrue(SpaceWatch.next(false, 999, min));
    assertTrue(SpaceWatch.next(true, 1000, min), "stays low at the watermark");
    assertTrue(SpaceWatch.next(true, 1099, min), "stays low just under 10% above");
    assertFalse(SpaceWatch.next(true, 1100, min), "leaves at 10% above");
  }

  @Test
  void aZeroWatermarkIsOff() {
    assertFalse(SpaceWatch.next(false, 0, 0));
    assertFalse(SpaceWatch.next(true, 0, 0), "turning it off leaves the low state");
  }
}
