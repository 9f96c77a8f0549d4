package depot.coordinator;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RepairSlotsTest {

  @Test
  void aCopyCountsOnItsSourceAndItsTarget() {
    RepairSlots slots = new RepairSlots(2, 10);
    assertTrue(slots.tryAcquire("a", "b"));
    assertTrue(slots.tryAcquire("c", "a"));
    // a is in two copies already (once as source, once as target)
    assertFalse(slots.nodeFree("a"));
    assertFalse(slots.tryAcquire("a", "d"));
    assertFalse(slots.tryAcquire("d", "a"));
    assertTrue(slots.tryAcquire("b", "c"));
    assertFalse(slots.tryAcquire("b", "d"), "b is the target of one copy and the source of another");
    assertEquals(3, slots.running());
    assertEquals(Map.of("a", 2, "b", 2, "c", 2), slots.byNode());
  }

  @Test
  void theClusterWideLimitHoldsWhateverNodesAreFree() {
    RepairSlots slots = new RepairSlots(2, 2);
    assertTrue(slots.tryAcquire("a", "b"));
    assertTrue(slots.tryAcquire("c", "d"));
    assertTrue(slots.full());
    assertFalse(slots.tryAcquire("e", "f"));
    assertEquals(2, slots.running());
  }

  @Test
  void releasingGivesTheSlotsBack() {
    RepairSlots slots = new RepairSlots(1, 1);
    assertTrue(slots.tryAcquire("a", "b"));
    assertFalse(slots.tryAcquire("c", "d"));
    slots.release("a", "b");
    assertEquals(0, slots.running());
    assertEquals(Map.of(), slots.byNode());
    assertTrue(slots.tryAcquire("b", "a"));
  }

  @Test
  void aRefusedCopyTakesNothing() {
    RepairSlots slots = new RepairSlots(1, 5);
    assertTrue(slots.tryAcquire("a", "b"));
    assertFalse(slots.tryAcquire("c", "a"));
    assertTrue(slots.nodeFree("c"), "the refused copy took no slot on its free source");
    assertFalse(slots.tryAcquire("x", "x"), "a node does not copy to itself");
    assertEquals(1, slots.running());
  }

  @Test
  void limitsBelowOneAndUnbalancedReleasesAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> new RepairSlots(0, 4));
    assertThrows(IllegalArgumentException.class, () -> new RepairSlots(2, 0));
    assertThrows(IllegalStateException.class, () -> new RepairSlots(1, 1).release("a", "b"));
  }
}
