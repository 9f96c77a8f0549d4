package depot.launcher;

import io.vertx.core.json.JsonArray;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DevClusterTest {
  @Test
  void theNodesShareTheEventLoopsOneInstanceWouldTake() {
    assertEquals(1, DevCluster.eventLoopsPerNode(2, 4), "2 cores, main + 3 storage nodes");
    assertEquals(4, DevCluster.eventLoopsPerNode(8, 4));
    assertEquals(2, DevCluster.eventLoopsPerNode(8, 7));
  }

  @Test
  void aDevClusterOffersLocalReadsUnlessTheEnvironmentSaysNo() {
    JsonArray storage = new JsonArray().add("storage");
    Path data = Path.of("/tmp/depot-dev-test/storage-1");
    assertTrue(DevCluster.nodeConfig(Map.of(), "storage-1", storage, data, 0).localReads(), "all on this host");
    assertFalse(DevCluster.nodeConfig(Map.of("DEPOT_LOCAL_READS", "false"), "storage-1", storage, data, 0).localReads());
  }

  @Test
  void everyNodeKeepsAtLeastOneEventLoop() {
    assertEquals(1, DevCluster.eventLoopsPerNode(1, 11));
  }
}
