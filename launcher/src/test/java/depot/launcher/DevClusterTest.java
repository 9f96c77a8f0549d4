package depot.launcher;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class DevClusterTest {
  @Test
  void theNodesShareTheEventLoopsOneInstanceWouldTake() {
    assertEquals(1, DevCluster.eventLoopsPerNode(2, 4), "2 cores, main + 3 storage nodes");
    assertEquals(4, DevCluster.eventLoopsPerNode(8, 4));
    assertEquals(2, DevCluster.eventLoopsPerNode(8, 7));
  }

  @Test
  void everyNodeKeepsAtLeastOneEventLoop() {
    assertEquals(1, DevCluster.eventLoopsPerNode(1, 11));
  }
}
