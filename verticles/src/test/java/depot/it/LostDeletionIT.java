package depot.it;

import depot.protocol.Addresses;
import depot.storage.BlobBatch;
import depot.storage.BlobIds;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Set;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A leader that drops a blob and dies before its deletes reach the storage nodes leaves replicas that no
 * catalog lists. A node that stored them lately takes them for a deposit not yet committed; the catalog
 * remembers the drop, so the next leader's inventory comparison deletes them at once, and still keeps a
 * replica that is merely new.
 */
class LostDeletionIT {
  static TestCluster cluster;
  static Api api;

  @BeforeAll
  static void up() throws Exception {
    cluster = TestCluster.empty(new JsonObject());
    cluster.startNode("main", new JsonArray().add("directory").add("gateway"));
    cluster.startNode("coord-a", new JsonArray().add("coordinator"));
    cluster.startNode("coord-b", new JsonArray().add("coordinator"));
    cluster.startNode("storage-1", new JsonArray().add("storage"));
    cluster.startNode("storage-2", new JsonArray().add("storage"));
    cluster.awaitStorageNodes(2);
    cluster.awaitCoordinatorLeader();
    api = new Api(cluster.baseUrl());
  }

  @AfterAll
  static void down() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
  }

  static Set<String> inventory(String node) throws Exception {
    return cluster.inventory(node);
  }

  static boolean heldAnywhere(String blobId) throws Exception {
    return inventory("storage-1").contains(blobId) || inventory("storage-2").contains(blobId);
  }

  /** Stores a replica on one node only, through its batch endpoint, as a pipeline's last hop would. */
  static void storeOn(String node, String blobId, byte[] data) throws Exception {
    byte[] batch = BlobBatch.encode(List.of(new BlobBatch.Entry(blobId, null, Buffer.buffer(data)))).getBytes();
    HttpResponse<String> r = api.http.send(HttpRequest.newBuilder(URI.create(cluster.storageUrls().get(node) + "/internal/v1/batches"))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(batch)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(201, r.statusCode(), r.body());
  }

  static String coordinatorLeader() throws Exception {
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/admin/election");
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body()).getJsonObject("coordinator").getString("leader");
  }

  @Test
  void aReplicaWhoseDeletionWasLostIsDeletedByTheNextLeaderAndANewOneIsKept() throws Exception {
    JsonObject client = api.register("tidy");
    String token = client.getString("token");
    byte[] data = random(20_000, 41);
    assertEquals(201, api.deposit(token, "gone.bin", data, 2, null).statusCode());
    String blobId = TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(Addresses.COORDINATOR_FILE_LOCATE,
        new JsonObject().put("owner", client.getString("clientId")).put("name", "gone.bin"))).body().getString("blobId");
    assertTrue(heldAnywhere(blobId), "stored before the delete");

    assertEquals(204, api.delete(token, "gone.bin").statusCode());
    long deadline = System.currentTimeMillis() + 20_000;
    while (heldAnywhere(blobId) && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertFalse(heldAnywhere(blobId), "collected once the file was deleted");

    // What a leader that died between dropping the blob and deleting its replicas leaves on a node, just stored;
    // beside it, the replica of a deposit in flight, which no catalog lists yet either.
    storeOn("storage-1", blobId, data);
    String inFlight = BlobIds.newId();
    storeOn("storage-1", inFlight, random(20_000, 42));
    assertTrue(inventory("storage-1").containsAll(List.of(blobId, inFlight)), "both on storage-1");

    String leader = coordinatorLeader();
    cluster.stopNode(leader);
    String next = leader.equals("coord-a") ? "coord-b" : "coord-a";
    deadline = System.currentTimeMillis() + 30_000;
    while (!next.equals(coordinatorLeader()) && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    assertEquals(next, coordinatorLeader(), "the other coordinator leads");

    // The new leader compares inventories as it takes over (the periodic comparison comes only after a minute).
    deadline = System.currentTimeMillis() + 20_000;
    while (inventory("storage-1").contains(blobId) && System.currentTimeMillis() < deadline) {
      Thread.sleep(100);
    }
    Set<String> held = inventory("storage-1");
    assertFalse(held.contains(blobId), "the replica of the dropped blob is deleted though it was stored just now");
    // Both were in the one comparison, whose deletions go in one request: the new replica was judged too.
    assertTrue(held.contains(inFlight), "the replica of a deposit not yet committed stays");
  }
}
