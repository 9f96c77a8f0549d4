package depot.it;

import depot.testing.ChildJvm;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node whose heap fills up refuses new files, clients and replicas with a clear error, goes on serving what
 * it holds, and takes them again once there is room: a real cluster in a JVM of its own with a 256 MiB heap,
 * filled by ballast as a large catalog would fill it.
 */
class HeapPressureIT {
  @Test
  void aFullHeapRefusesNewFilesClearlyAndServesTheRest() throws Exception {
    ChildJvm.Result child = ChildJvm.run(ClusterInFullHeap.class,
        List.of("-Xmx256m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"), 180, "70");
    String output = child.output();
    assertEquals(0, child.exitCode(), output);
    assertTrue(output.contains("\"error\":\"insufficient_memory\""), output);
    assertTrue(output.contains("registration refused: register failed: 507"), output);
    assertTrue(output.contains("storage-1 reports heapFull"), output);
    assertTrue(output.contains("replica refused: {\"error\":\"insufficient_memory\""), output);
    assertTrue(output.contains("accepted again at"), output);
    assertTrue(output.contains("storage-1 takes replicas again"), output);
  }
}
