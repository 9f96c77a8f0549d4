package depot.it;

import depot.protocol.Addresses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole cluster stops and starts again on the same disks with the same node ids: the catalog comes back
 * from its snapshot and journal, the replicas from the storage nodes' disks, and clients keep their tokens.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class RestartIT {
  static Path root;
  static TestCluster cluster;
  static Api api;

  static String aliceId;
  static String aliceToken;
  static String bobId;
  static String bobToken;
  /** What alice's and bob's files hold (the current version of each name). */
  static final Map<String, byte[]> aliceData = new LinkedHashMap<>();
  static final Map<String, byte[]> bobData = new LinkedHashMap<>();
  /** The listings before the restart, by name. */
  static Map<String, JsonObject> aliceBefore;
  static Map<String, JsonObject> bobBefore;
  static Map<String, Integer> ranksBefore;
  static long lamportBefore;
  /** Blobs no file uses any more: the replaced version of c.txt and the deleted gone.txt. */
  static String replacedBlob;
  static String deletedBlob;
  /** c.txt's second version, replaced after the first restart. */
  static String secondVersionBlob;

  @BeforeAll
  static void depositThenRestart() throws Exception {
    root = Files.createTempDirectory("depot-restart-it-");
    cluster = TestCluster.start(3, new JsonObject(), root);
    api = new Api(cluster.baseUrl());

    JsonObject alice = api.register("alice");
    aliceId = alice.getString("clientId");
    aliceToken = alice.getString("token");
    JsonObject bob = api.register("bob");
    bobId = bob.getString("clientId");
    bobToken = bob.getString("token");

    byte[] a = random(300_000, 1);
    deposit(aliceToken, "a.txt", a, 3, 1, aliceData);
    deposit(aliceToken, "big.bin", random(3 * 1024 * 1024 + 5, 2), 2, 1, aliceData);
    deposit(aliceToken, "c.txt", random(50_000, 3), 2, 1, aliceData);
    replacedBlob = blobIdOf(aliceId, "c.txt");
    deposit(aliceToken, "c.txt", random(60_000, 4), 2, 2, aliceData); // a new version replaces the old
    deposit(aliceToken, "gone.txt", random(1000, 5), 2, 1, aliceData);
    deletedBlob = blobIdOf(aliceId, "gone.txt");
    assertEquals(204, api.delete(aliceToken, "gone.txt").statusCode());
    aliceData.remove("gone.txt");
    HttpResponse<String> copy = api.deposit(aliceToken, "copy of a.txt", a, 2, Api.sha256(a));
    assertEquals(201, copy.statusCode(), copy.body());
    assertTrue(new JsonObject(copy.body()).getBoolean("deduplicated"), "same content is deduplicated: " + copy.body());
    aliceData.put("copy of a.txt", a);
    deposit(aliceToken, "résumé ü 日本.txt", "unicode name".getBytes(), 1, 1, aliceData);
    HttpResponse<String> more = api.setReplicas(aliceToken, "big.bin", 3);
    assertEquals(200, more.statusCode(), more.body());
    assertEquals(3, new JsonObject(more.body()).getInteger("replicas"));
    // bob has a file of the same name as alice, with other content
    deposit(bobToken, "a.txt", random(20_000, 6), 2, 1, bobData);

    awaitFullyReplicated(aliceToken);
    awaitFullyReplicated(bobToken);
    aliceBefore = listing(aliceToken);
    bobBefore = listing(bobToken);
    assertEquals(aliceData.keySet(), aliceBefore.keySet());
    ranksBefore = ranks();
    lamportBefore = stats().getLong("lamport");
    // Let garbage collection finish first: a collection racing the shutdown is a different story (see the last test).
    assertEquals(Set.of(), awaitNoHolders(replacedBlob), "the replaced version is collected before the restart");
    assertEquals(Set.of(), awaitNoHolders(deletedBlob), "the deleted file is collected before the restart");

    cluster.closeKeepingData();
    cluster = null;
    assertTrue(Files.exists(root.resolve("main").resolve("catalog").resolve("journal.jsonl")));
    for (String node : List.of("storage-1", "storage-2", "storage-3")) {
      assertTrue(Files.isDirectory(root.resolve(node).resolve("blobs")), node + " keeps its replicas");
    }

    cluster = TestCluster.start(3, new JsonObject(), root);
    api = new Api(cluster.baseUrl());
  }

  @AfterAll
  static void down() throws Exception {
    try {
      if (cluster != null) {
        cluster.closeKeepingData();
      }
    } finally {
      if (root != null) {
        TestCluster.deleteTree(root);
      }
    }
  }

  // ---- helpers ----

  static void deposit(String token, String name, byte[] data, int replicas, long expectedVersion,
                      Map<String, byte[]> kept) throws Exception {
    HttpResponse<String> r = api.deposit(token, name, data, replicas, null);
    assertEquals(201, r.statusCode(), name + ": " + r.body());
    JsonObject record = new JsonObject(r.body());
    assertEquals(expectedVersion, record.getLong("version"), name);
    assertEquals(Api.sha256(data), record.getString("sha256"));
    kept.put(name, data);
  }

  static Map<String, JsonObject> listing(String token) throws Exception {
    HttpResponse<String> r = api.get(token, "/api/v1/files");
    assertEquals(200, r.statusCode(), r.body());
    Map<String, JsonObject> byName = new TreeMap<>();
    JsonObject body = new JsonObject(r.body());
    for (Object o : body.getJsonArray("files")) {
      JsonObject f = (JsonObject) o;
      byName.put(f.getString("name"), f);
    }
    assertEquals(byName.size(), body.getInteger("total"));
    return byName;
  }

  static void awaitFullyReplicated(String token) throws Exception {
    long deadline = System.currentTimeMillis() + 60_000;
    Map<String, JsonObject> files;
    do {
      files = listing(token);
      // (a blob shared by several names is kept at the highest count any of them asks for)
      if (files.values().stream().allMatch(f -> f.getInteger("liveReplicas") >= f.getInteger("replicas")
          && f.getInteger("liveReplicas") == f.getJsonArray("nodes").size())) {
        return;
      }
      Thread.sleep(200);
    } while (System.currentTimeMillis() < deadline);
    throw new AssertionError("not fully replicated: " + files.values());
  }

  static Map<String, Integer> ranks() throws Exception {
    JsonArray nodes = TestCluster.await(cluster.anyVertx().eventBus()
        .<JsonObject>request(Addresses.DIRECTORY_NODES, new JsonObject())).body().getJsonArray("nodes");
    Map<String, Integer> ranks = new TreeMap<>();
    nodes.forEach(o -> ranks.put(((JsonObject) o).getString("id"), ((JsonObject) o).getInteger("rank")));
    return ranks;
  }

  static JsonObject stats() throws Exception {
    HttpResponse<String> r = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/stats");
    assertEquals(200, r.statusCode(), r.body());
    return new JsonObject(r.body());
  }

  /** The blob holding the current version of a file, from the coordinator. */
  static String blobIdOf(String owner, String name) throws Exception {
    return TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(Addresses.COORDINATOR_FILE_LOCATE,
        new JsonObject().put("owner", owner).put("name", name))).body().getString("blobId");
  }

  /** What every storage node says it holds (replica files and packed replicas alike). */
  static Map<String, Set<String>> inventories() throws Exception {
    Map<String, Set<String>> held = new TreeMap<>();
    for (String node : cluster.storageNodeIds()) {
      held.put(node, cluster.inventory(node));
    }
    return held;
  }

  /** Waits (bounded) until no storage node holds the blob; returns who still holds it. */
  static Set<String> awaitNoHolders(String blobId) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    Set<String> holders = holdersOf(blobId, inventories());
    while (!holders.isEmpty() && System.currentTimeMillis() < deadline) {
      Thread.sleep(200);
      holders = holdersOf(blobId, inventories());
    }
    return holders;
  }

  static void awaitStatus(String nodeId, String status) throws Exception {
    long deadline = System.currentTimeMillis() + 30_000;
    String last = null;
    while (System.currentTimeMillis() < deadline) {
      JsonObject node = TestCluster.await(cluster.anyVertx().eventBus().<JsonObject>request(
          Addresses.DIRECTORY_LOOKUP, new JsonObject().put("name", nodeId))).body();
      last = node.getString("status");
      if (status.equals(last)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError(nodeId + " is " + last + ", not " + status);
  }

  static Set<String> holdersOf(String blobId, Map<String, Set<String>> inventories) {
    return inventories.entrySet().stream().filter(e -> e.getValue().contains(blobId)).map(Map.Entry::getKey)
        .collect(Collectors.toCollection(TreeSet::new));
  }

  static void assertSameRecord(JsonObject before, JsonObject after) {
    String name = before.getString("name");
    for (String field : List.of("name", "owner", "ownerNickname", "version", "sha256", "size", "replicas", "depositedAt")) {
      assertEquals(before.getValue(field), after.getValue(field), name + ": " + field);
    }
  }

  // ---- after one restart ----

  @Test
  @Order(1)
  void everyFileIsListedWithTheSameVersionHashAndSize() throws Exception {
    Map<String, JsonObject> after = listing(aliceToken);
    assertEquals(aliceBefore.keySet(), after.keySet());
    for (String name : aliceBefore.keySet()) {
      assertSameRecord(aliceBefore.get(name), after.get(name));
    }
    assertEquals(2, after.get("c.txt").getLong("version"));
    assertEquals(1, after.get("copy of a.txt").getLong("version"));
    assertEquals(after.get("a.txt").getString("sha256"), after.get("copy of a.txt").getString("sha256"));
    assertEquals(3, after.get("big.bin").getInteger("replicas"), "a changed replica count is kept");

    Map<String, JsonObject> bobAfter = listing(bobToken);
    assertEquals(bobBefore.keySet(), bobAfter.keySet());
    assertSameRecord(bobBefore.get("a.txt"), bobAfter.get("a.txt"));
    assertFalse(bobAfter.get("a.txt").getString("sha256").equals(after.get("a.txt").getString("sha256")));
  }

  @Test
  @Order(2)
  void everyFileRetrievesByteIdenticalWithTheOldToken() throws Exception {
    for (Map.Entry<String, byte[]> e : aliceData.entrySet()) {
      HttpResponse<byte[]> got = api.retrieve(aliceToken, e.getKey());
      assertEquals(200, got.statusCode(), e.getKey());
      assertArrayEquals(e.getValue(), got.body(), e.getKey());
      assertEquals("\"" + Api.sha256(e.getValue()) + "\"", got.headers().firstValue("ETag").orElse(null));
      assertEquals(String.valueOf(aliceBefore.get(e.getKey()).getLong("version")),
          got.headers().firstValue("X-Depot-Version").orElse(null), e.getKey());
    }
    HttpResponse<byte[]> bobs = api.retrieve(bobToken, "a.txt");
    assertEquals(200, bobs.statusCode());
    assertArrayEquals(bobData.get("a.txt"), bobs.body());
  }

  @Test
  @Order(3)
  void rangesWorkAfterTheRestart() throws Exception {
    byte[] big = aliceData.get("big.bin");
    HttpResponse<byte[]> part = api.http.send(api.req("/api/v1/files/big.bin", aliceToken)
        .header("Range", "bytes=1000000-2100000").GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(206, part.statusCode());
    assertArrayEquals(Arrays.copyOfRange(big, 1_000_000, 2_100_001), part.body());
  }

  @Test
  @Order(4)
  void theDeletedFileStaysDeleted() throws Exception {
    assertEquals(404, api.retrieve(aliceToken, "gone.txt").statusCode());
    assertEquals(404, api.get(aliceToken, "/api/v1/files/gone.txt/meta").statusCode());
    assertFalse(listing(aliceToken).containsKey("gone.txt"));
    JsonArray all = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/files").body()).getJsonArray("files");
    assertTrue(all.stream().noneMatch(f -> "gone.txt".equals(((JsonObject) f).getString("name"))));
  }

  @Test
  @Order(5)
  void clientsKeepTheirIdsAndTokens() throws Exception {
    assertEquals(200, api.get(aliceToken, "/api/v1/files").statusCode());
    assertEquals(200, api.get(bobToken, "/api/v1/files").statusCode());
    assertEquals(401, api.get(aliceToken + "x", "/api/v1/files").statusCode(), "tokens are still checked");
    HttpResponse<String> meta = api.get(aliceToken, "/api/v1/files/a.txt/meta");
    assertEquals(200, meta.statusCode(), meta.body());
    assertEquals(aliceId, new JsonObject(meta.body()).getString("owner"), "the id issued on first contact");
    HttpResponse<String> clients = api.get(TestCluster.ADMIN_TOKEN, "/api/v1/clients");
    assertEquals(200, clients.statusCode(), clients.body());
    Map<String, JsonObject> byId = new TreeMap<>();
    new JsonObject(clients.body()).getJsonArray("clients").forEach(o -> byId.put(((JsonObject) o).getString("clientId"), (JsonObject) o));
    assertEquals(2, byId.size(), byId.toString());
    assertEquals("alice", byId.get(aliceId).getString("nickname"));
    assertEquals("bob", byId.get(bobId).getString("nickname"));
    assertEquals((long) aliceData.size(), byId.get(aliceId).getLong("files"));
  }

  @Test
  @Order(6)
  void nodesComeBackWithTheirIdsAndRanks() throws Exception {
    Map<String, Integer> after = ranks();
    assertEquals(ranksBefore, after);
    JsonArray nodes = new JsonObject(api.get(TestCluster.ADMIN_TOKEN, "/api/v1/nodes").body()).getJsonArray("nodes");
    assertEquals(4, nodes.size());
    nodes.forEach(o -> assertEquals("UP", ((JsonObject) o).getString("status"), ((JsonObject) o).encode()));
  }

  @Test
  @Order(7)
  void replicasAreFoundOnTheStorageNodesAgain() throws Exception {
    awaitFullyReplicated(aliceToken);
    awaitFullyReplicated(bobToken);
    // Which nodes hold a replica may change (the keeper may copy while storage nodes are still coming back,
    // then trim the surplus); what must hold is that the catalog's holders are exactly the nodes that have it.
    long deadline = System.currentTimeMillis() + 30_000;
    String mismatch;
    do {
      mismatch = null;
      Map<String, Set<String>> inventories = inventories();
      for (JsonObject f : listing(aliceToken).values()) {
        Set<String> catalog = f.getJsonArray("nodes").stream().map(String::valueOf)
            .collect(Collectors.toCollection(TreeSet::new));
        Set<String> actual = holdersOf(blobIdOf(aliceId, f.getString("name")), inventories);
        if (!catalog.equals(actual)) {
          mismatch = f.getString("name") + ": held by " + actual + ", catalog says " + catalog;
        }
      }
      if (mismatch != null) {
        Thread.sleep(200);
      }
    } while (mismatch != null && System.currentTimeMillis() < deadline);
    assertEquals(null, mismatch);
    JsonObject stats = stats();
    assertEquals(0L, stats.getLong("lost"), stats.encode());
    assertEquals(0L, stats.getLong("underReplicated"), stats.encode());
    assertTrue(stats.getLong("lamport") >= lamportBefore, "the Lamport clock does not go back: " + stats.encode());
  }

  @Test
  @Order(8)
  void collectedReplicasStayGoneAndSharedOnesStay() throws Exception {
    Map<String, Set<String>> inventories = inventories();
    assertEquals(Set.of(), holdersOf(replacedBlob, inventories), "the replaced version's replicas stay gone");
    assertEquals(Set.of(), holdersOf(deletedBlob, inventories), "the deleted file's replicas stay gone");
    assertEquals(3, holdersOf(blobIdOf(aliceId, "a.txt"), inventories).size(), "a.txt and its copy share 3 replicas");
    assertEquals(blobIdOf(aliceId, "a.txt"), blobIdOf(aliceId, "copy of a.txt"));
  }

  // ---- the catalog keeps going, and survives a second restart (snapshot + journal) ----

  @Test
  @Order(9)
  void depositsContinueWhereTheyLeftOff() throws Exception {
    byte[] a = aliceData.get("a.txt");
    HttpResponse<String> again = api.deposit(aliceToken, "third copy of a.txt", a, 1, Api.sha256(a));
    assertEquals(201, again.statusCode(), again.body());
    assertTrue(new JsonObject(again.body()).getBoolean("deduplicated"), "content known before the restart: " + again.body());
    aliceData.put("third copy of a.txt", a);
    secondVersionBlob = blobIdOf(aliceId, "c.txt");
    deposit(aliceToken, "c.txt", random(70_000, 7), 2, 3, aliceData);
    HttpResponse<String> gone = api.deposit(aliceToken, "gone.txt", "back".getBytes(), 1, null);
    assertEquals(201, gone.statusCode(), gone.body());
    assertEquals(1, new JsonObject(gone.body()).getLong("version"), "a deleted name starts again at version 1");
    aliceData.put("gone.txt", "back".getBytes());
    HttpResponse<String> newClient = api.send(api.req("/api/v1/clients", null).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString(new JsonObject().put("nickname", "carol").encode())).build());
    assertEquals(201, newClient.statusCode());
    assertFalse(aliceId.equals(new JsonObject(newClient.body()).getString("clientId")));
  }

  @Test
  @Order(10)
  void aSecondRestartKeepsBothTheSnapshotAndTheNewJournal() throws Exception {
    awaitFullyReplicated(aliceToken);
    Map<String, JsonObject> before = listing(aliceToken);
    assertNotNull(before.get("third copy of a.txt"));
    assertEquals(Set.of(), awaitNoHolders(secondVersionBlob), "c.txt's second version is collected");
    cluster.closeKeepingData();
    cluster = null;
    cluster = TestCluster.start(3, new JsonObject(), root);
    api = new Api(cluster.baseUrl());

    Map<String, JsonObject> after = listing(aliceToken);
    assertEquals(before.keySet(), after.keySet());
    for (String name : before.keySet()) {
      assertSameRecord(before.get(name), after.get(name));
    }
    assertEquals(3, after.get("c.txt").getLong("version"));
    for (Map.Entry<String, byte[]> e : aliceData.entrySet()) {
      HttpResponse<byte[]> got = api.retrieve(aliceToken, e.getKey());
      assertEquals(200, got.statusCode(), e.getKey());
      assertArrayEquals(e.getValue(), got.body(), e.getKey());
    }
    assertEquals(200, api.get(bobToken, "/api/v1/files").statusCode());
    assertEquals(Set.of(), holdersOf(secondVersionBlob, inventories()));
  }

  // ---- a storage node that was away while garbage was collected ----

  @Test
  @Order(11)
  void aStorageNodeAwayDuringGarbageCollectionLosesTheOrphanWhenItComesBack() throws Exception {
    deposit(aliceToken, "leak.txt", random(400_000, 8), 3, 1, aliceData);
    awaitFullyReplicated(aliceToken);
    String old = blobIdOf(aliceId, "leak.txt");
    assertEquals(Set.of("storage-1", "storage-2", "storage-3"), holdersOf(old, inventories()));

    cluster.stopNode("storage-3");
    awaitStatus("storage-3", "DOWN");
    deposit(aliceToken, "leak.txt", random(400_000, 9), 2, 2, aliceData); // the old content is garbage now
    // collected: gone from the nodes that were there (gcGraceMs is 500 ms in TestCluster)
    assertEquals(Set.of(), awaitNoHolders(old), "collected on the live nodes");

    cluster.startNode("storage-3", new JsonArray().add("storage"));
    awaitStatus("storage-3", "UP");
    Set<String> holders = awaitNoHolders(old);
    assertEquals(Set.of(), holders, "blob " + old + " (the replaced leak.txt) is still stored on " + holders
        + " long after it was collected: nothing removes replicas the catalog no longer knows");
    HttpResponse<byte[]> got = api.retrieve(aliceToken, "leak.txt");
    assertArrayEquals(aliceData.get("leak.txt"), got.body());
  }
}
