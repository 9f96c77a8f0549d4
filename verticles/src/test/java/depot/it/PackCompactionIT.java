package depot.it;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static depot.it.DepositRetrieveIT.random;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Deleting small files gives their disk space back: each storage node rewrites its mostly deleted pack
 * files, and what is left reads back byte for byte, also after the whole cluster restarts.
 */
class PackCompactionIT {
  static final int FILES = 48;
  static final int SIZE = 64 * 1024;
  /** Packs of 1 MiB, so 48 files of 64 KiB fill a few of them on every node. */
  static final JsonObject SMALL_PACKS = new JsonObject().put("packRollBytes", 1024 * 1024)
      .put("packCompactionIntervalMs", 300);

  static Path root;
  static TestCluster cluster;

  @BeforeAll
  static void start() throws Exception {
    root = Files.createTempDirectory("depot-compaction-it-");
    cluster = TestCluster.start(3, SMALL_PACKS, root);
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      if (cluster != null) {
        cluster.closeKeepingData();
      }
    } finally {
      TestCluster.deleteTree(root);
    }
  }

  static long packBytes(String node) throws Exception {
    try (Stream<Path> packs = Files.list(cluster.dataDir(node).resolve("packs"))) {
      return packs.mapToLong(p -> p.toFile().length()).sum();
    }
  }

  static long packFiles(String node) throws Exception {
    try (Stream<Path> packs = Files.list(cluster.dataDir(node).resolve("packs"))) {
      return packs.count();
    }
  }

  @Test
  void deletedSmallFilesGiveTheirSpaceBackAndTheRestReadsBackAfterARestart() throws Exception {
    Api api = new Api(cluster.baseUrl());
    String token = api.register("tidy").getString("token");
    Map<String, byte[]> kept = new HashMap<>();
    List<String> deleted = new ArrayList<>();
    for (int i = 0; i < FILES; i++) {
      byte[] data = random(SIZE, 9000 + i);
      String name = "small-" + i + ".bin";
      assertEquals(201, api.deposit(token, name, data, 3, null).statusCode(), name);
      if (i % 4 == 0) {
        kept.put(name, data);
      } else {
        deleted.add(name);
      }
    }
    Map<String, Long> before = new HashMap<>();
    for (String node : cluster.storageNodeIds()) {
      before.put(node, packBytes(node));
      assertTrue(packFiles(node) >= 3, node + " filled several packs: " + packFiles(node));
      assertTrue(before.get(node) >= (long) FILES * SIZE, node + " holds every file: " + before.get(node) + " bytes");
    }

    for (String name : deleted) {
      assertEquals(204, api.delete(token, name).statusCode(), name);
    }

    // A quarter of the files is left: every node's packs shrink to well under half of what they were.
    long deadline = System.currentTimeMillis() + 30_000;
    Map<String, Long> after = new HashMap<>();
    boolean shrunk;
    do {
      Thread.sleep(200);
      shrunk = true;
      for (String node : cluster.storageNodeIds()) {
        after.put(node, packBytes(node));
        shrunk &= after.get(node) < before.get(node) * 0.45;
      }
    } while (!shrunk && System.currentTimeMillis() < deadline);
    assertTrue(shrunk, "pack bytes before " + before + ", after " + after);

    assertFilesAre(api, token, kept, deleted);
    cluster.closeKeepingData();
    cluster = TestCluster.start(3, SMALL_PACKS, root);
    api = new Api(cluster.baseUrl());
    assertFilesAre(api, token, kept, deleted);
    for (String node : cluster.storageNodeIds()) {
      assertTrue(packBytes(node) < before.get(node) * 0.45, node + " after the restart: " + packBytes(node) + " bytes");
    }
  }

  static void assertFilesAre(Api api, String token, Map<String, byte[]> kept, List<String> deleted) throws Exception {
    JsonObject listing = new JsonObject(api.get(token, "/api/v1/files").body());
    assertEquals(kept.size(), listing.getJsonArray("files").size(), listing.encode());
    for (Map.Entry<String, byte[]> e : kept.entrySet()) {
      HttpResponse<byte[]> got = api.retrieve(token, e.getKey());
      assertEquals(200, got.statusCode(), e.getKey());
      assertArrayEquals(e.getValue(), got.body(), e.getKey() + " reads back byte for byte");
      JsonObject meta = new JsonObject(api.get(token, "/api/v1/files/" + e.getKey() + "/meta").body());
      assertEquals(3, meta.getInteger("liveReplicas"), meta.encode());
    }
    for (String name : deleted) {
      assertEquals(404, api.retrieve(token, name).statusCode(), name);
    }
  }
}
