package depot.node;

import depot.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HeapPressure} on a real heap: a JVM of its own with 64 MiB, filled and emptied by ballast. */
class HeapPressureTest {
  /** Nodes in one JVM share a guard per limit; it stops watching when the last of them hands it back. */
  @Test
  void nodesOfOneJvmShareAGuardUntilTheLastHandsItBack() {
    HeapPressure first = HeapPressure.shared(77);
    HeapPressure second = HeapPressure.shared(77);
    HeapPressure otherLimit = HeapPressure.shared(78);
    assertSame(first, second);
    assertNotSame(first, otherLimit);
    first.close();
    assertTrue(second.watching(), "still held by the second node");
    second.close();
    assertFalse(second.watching(), "handed back by both");
    HeapPressure later = HeapPressure.shared(77);
    assertNotSame(first, later);
    assertTrue(later.watching());
    later.close();
    otherLimit.close();
    assertFalse(otherLimit.watching());
  }

  @Test
  void pressedAboveItsLimitAndReleasedOnlyWellBelowIt() throws Exception {
    ChildJvm.Result child = ChildJvm.run(HeapPressureInSmallHeap.class,
        List.of("-Xmx64m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"), 60, "50", "1000");
    assertEquals(0, child.exitCode(), child.output());
    assertTrue(child.output().contains("pressed at"), child.output());
    assertTrue(child.output().contains("still pressed at"), child.output());
    assertTrue(child.output().contains("released at"), child.output());
  }
}
