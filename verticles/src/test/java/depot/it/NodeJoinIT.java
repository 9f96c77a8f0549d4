package depot.it;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A storage node that comes up takes the copies that files were short of, at once. */
class NodeJoinIT {

  private static boolean isUp(Api api, String nodeId) throws Exception {
    JsonArray nodes = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes").body()).getJsonArray("nodes");
    return nodes.stream().map(JsonObject.class::cast)
        .anyMatch(n -> nodeId.equals(n.getString("id")) && n.getString("status").startsWith("UP"));
  }

  @Test
  void aFileShortOfReplicasForWantOfNodesGetsANodeThatComesUpAtOnce() throws Exception {
    try (TestCluster cluster = TestCluster.start(3)) {
      Api api = new Api(cluster.baseUrl());
      String token = api.register("grower").getString("token");
      cluster.stopNode("storage-3");
      long down = System.currentTimeMillis() + 15_000;
      while (isUp(api, "storage-3") && System.currentTimeMillis() < down) {
        Thread.sleep(100);
      }
      assertTrue(!isUp(api, "storage-3"), "storage-3 is down");
      byte[] data = random(600_000, 12);
      assertEquals(201, api.deposit(token, "three.bin", data, 3, null).statusCode());
      JsonObject before = new JsonObject(api.get(token, "/api/v1/files/three.bin/meta").body());
      assertEquals(2, before.getInteger("liveReplicas"), "two live nodes, two copies");

      cluster.startNode("storage-3", new JsonArray().add("storage")); // back, with its data folder
      // Well inside the coordinator's 30 s full scan: the node's arrival is what starts the copy.
      long deadline = System.currentTimeMillis() + 5_000;
      JsonObject now;
      do {
        Thread.sleep(100);
        now = new JsonObject(api.get(token, "/api/v1/files/three.bin/meta").body());
      } while (now.getInteger("liveReplicas") < 3 && System.currentTimeMillis() < deadline);
      assertEquals(3, now.getInteger("liveReplicas"), now.encode());
      assertTrue(now.getJsonArray("nodes").contains("storage-3"), now.encode());
      assertArrayEquals(data, api.retrieve(token, "three.bin").body());
    }
  }
}
