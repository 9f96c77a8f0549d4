package depot.node;

import depot.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link HeapPressure} on a real heap: a JVM of its own with 64 MiB, filled and emptied by ballast. */
class HeapPressureTest {
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
