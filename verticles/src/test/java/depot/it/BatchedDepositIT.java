package depot.it;

import depot.protocol.Addresses;
import depot.protocol.Headers;
import depot.storage.BlobBatch;
import depot.storage.BlobIds;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Small deposits made at the same time travel down their pipeline in batches (several per request per hop).
 * Each is still its own deposit: its own replicas on every node, its own hash check, its own answer.
 */
class BatchedDepositIT extends ClusterTestBase {

  private static CompletableFuture<HttpResponse<String>> depositAsync(String token, String name, byte[] data, String sha) {
    HttpRequest.Builder b = api.req("/api/v1/files/" + Api.enc(name) + "?replicas=3", token)
        .PUT(HttpRequest.BodyPublishers.ofByteArray(data));
    if (sha != null) {
      b.header(Headers.SHA256, sha);
    }
    return api.http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String blobIdOf(String owner, String name) throws Exception {
    return TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(Addresses.COORDINATOR_FILE_LOCATE,
        new JsonObject().put("owner", owner).put("name", name))).body().getString("blobId");
  }

  private static Set<String> inventory(String node) throws Exception {
    return cluster.inventory(node);
  }

  @Test
  void depositsMadeTogetherEachLandOnEveryNodeAndReadBackWhole() throws Exception {
    int clients = 3;
    int perClient = 12;
    List<JsonObject> owners = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      owners.add(api.register("batch-" + c + "-" + System.nanoTime()));
    }
    List<CompletableFuture<HttpResponse<String>>> puts = new ArrayList<>();
    List<byte[]> contents = new ArrayList<>();
    for (int i = 0; i < clients * perClient; i++) {
      byte[] data = DepositRetrieveIT.random(1 + i * 977 % 9000, 100 + i);
      contents.add(data);
      puts.add(depositAsync(owners.get(i % clients).getString("token"), "f-" + i, data, i % 2 == 0 ? Api.sha256(data) : null));
    }
    for (int i = 0; i < puts.size(); i++) {
      HttpResponse<String> put = puts.get(i).get(60, TimeUnit.SECONDS);
      assertEquals(201, put.statusCode(), "deposit " + i + ": " + put.body());
      JsonObject record = new JsonObject(put.body());
      assertEquals(Api.sha256(contents.get(i)), record.getString("sha256"), "deposit " + i);
      assertEquals(contents.get(i).length, record.getLong("size"));
      assertEquals(3, record.getInteger("liveReplicas"), put.body());
    }
    for (String node : cluster.storageNodeIds()) {
      Set<String> held = inventory(node);
      for (int i = 0; i < puts.size(); i++) {
        String blobId = blobIdOf(owners.get(i % clients).getString("clientId"), "f-" + i);
        assertTrue(held.contains(blobId), "deposit " + i + " (blob " + blobId + ") is on " + node);
      }
    }
    for (int i = 0; i < puts.size(); i++) {
      HttpResponse<byte[]> got = api.retrieve(owners.get(i % clients).getString("token"), "f-" + i);
      assertEquals(200, got.statusCode());
      assertArrayEquals(contents.get(i), got.body(), "deposit " + i + " reads back as deposited");
    }
  }

  @Test
  void aWrongHashFailsOnlyItsOwnDepositInABatch() throws Exception {
    JsonObject owner = api.register("batch-hash-" + System.nanoTime());
    String token = owner.getString("token");
    List<CompletableFuture<HttpResponse<String>>> puts = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      byte[] data = DepositRetrieveIT.random(4096, 500 + i);
      // Every third announces the hash of other bytes.
      String sha = i % 3 == 1 ? Api.sha256(DepositRetrieveIT.random(4096, 900 + i)) : Api.sha256(data);
      puts.add(depositAsync(token, "h-" + i, data, sha));
    }
    for (int i = 0; i < puts.size(); i++) {
      HttpResponse<String> put = puts.get(i).get(60, TimeUnit.SECONDS);
      if (i % 3 == 1) {
        assertEquals(400, put.statusCode(), "deposit " + i + ": " + put.body());
        assertEquals("hash_mismatch", new JsonObject(put.body()).getString("error"));
        assertEquals(404, api.get(token, "/api/v1/files/h-" + i + "/meta").statusCode(), "nothing stored for " + i);
      } else {
        assertEquals(201, put.statusCode(), "deposit " + i + ": " + put.body());
      }
    }
    JsonArray files = new JsonObject(api.get(token, "/api/v1/files").body()).getJsonArray("files");
    assertEquals(6, files.size(), files.encode());
  }

  /** The storage nodes' batch endpoint: a malformed batch is refused by every hop and stores nothing. */
  @Test
  void aMalformedBatchIsRefusedAndNothingIsStored() throws Exception {
    List<String> nodes = cluster.storageNodeIds();
    Map<String, String> urls = cluster.storageUrls();
    String blobId = BlobIds.newId();
    byte[] whole = BlobBatch.encode(List.of(new BlobBatch.Entry(blobId, null,
        io.vertx.core.buffer.Buffer.buffer(DepositRetrieveIT.random(1000, 7))))).getBytes();
    byte[] cut = java.util.Arrays.copyOf(whole, whole.length - 10);
    HttpResponse<String> resp = api.http.send(HttpRequest.newBuilder(URI.create(urls.get(nodes.get(0)) + "/internal/v1/batches"))
        .header(Headers.PIPELINE, nodes.get(1) + "=" + urls.get(nodes.get(1)))
        .PUT(HttpRequest.BodyPublishers.ofByteArray(cut)).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(400, resp.statusCode(), resp.body());
    assertTrue(resp.body().contains("cut short"), resp.body());
    for (String node : nodes) {
      assertFalse(inventory(node).contains(blobId), node + " took nothing of the refused batch");
    }
  }
}
